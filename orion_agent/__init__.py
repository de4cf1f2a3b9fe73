"""ORION's monitoring agent: online anomaly detection on the series Prometheus scrapes."""
