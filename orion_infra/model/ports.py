"""The ports of the services ORION runs on its own VMs: their one home. The firewall, Prometheus, Alertmanager, the
agent's settings, the lab and the services themselves (through the host.json the NixOS modules read) take them
from here; the stack file does not repeat them."""

from __future__ import annotations

from typing import Literal

ScrapeJob = Literal["node", "bird", "kea", "unbound", "proxmox", "agent", "prometheus", "alertmanager"]

SSH = 22
NODE_EXPORTER = 9100
BIRD_EXPORTER = 9324
KEA_EXPORTER = 9547
UNBOUND_EXPORTER = 9167
PROMETHEUS = 9090
ALERTMANAGER = 9093
AGENT = 9110

# What each VM exports, by scrape job.
ROUTER_EXPORTERS: dict[ScrapeJob, int] = {
    "node": NODE_EXPORTER,
    "bird": BIRD_EXPORTER,
    "kea": KEA_EXPORTER,
    "unbound": UNBOUND_EXPORTER,
}
MONITOR_SERVICES: dict[ScrapeJob, int] = {
    "node": NODE_EXPORTER,
    "prometheus": PROMETHEUS,
    "alertmanager": ALERTMANAGER,
    "agent": AGENT,
}
