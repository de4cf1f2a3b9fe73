"""`orion verify`: the seed's verification step after a deploy, as one command (ADR 0042). Pure verdicts on what the
services print (verdicts.py), where and how to reach them from the operator's machine (site.py), and the checks run
concurrently, each within its time (checks.py). No Pulumi here."""
