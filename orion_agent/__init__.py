"""ORION's autonomous agent on the monitoring VM: checks, anomaly detection, forecasts, guarded remediation, reports.

Self-contained: it imports nothing of `orion_infra`, so the VM runs it with five dependencies and no Pulumi.
"""
