"""Redfish: a client for iDRAC 8/9/10 and generic services, the operations ORION needs, and Pulumi providers.

Only `providers` imports Pulumi; the client and the operations serve `orion idrac` without it.
"""
