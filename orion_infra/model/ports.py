"""The ports of the services ORION runs on its own VMs: their one home. The firewall, Prometheus, Alertmanager, the
agent's settings, the lab and the services themselves (through the host.json the NixOS modules read) take them
from here; the stack file does not repeat them."""

from __future__ import annotations

from typing import Literal

ScrapeJob = Literal["node", "bird", "kea", "unbound", "proxmox", "agent", "prometheus", "alertmanager"]

SSH = 22
# The monitoring VM's own services talk among themselves only (Prometheus scrapes them, Alertmanager posts to the
# agent, Grafana reads Prometheus): they listen on loopback, out of the LAN's reach. Grafana, which authenticates,
# is what the LAN reaches.
MONITOR_LOCAL_ADDRESS = "127.0.0.1"
# What each VM serves, by scrape job.
ROUTER_EXPORTERS: dict[ScrapeJob, int] = {"node": 9100, "bird": 9324, "kea": 9547, "unbound": 9167}
MONITOR_SERVICES: dict[ScrapeJob, int] = {"node": 9100, "prometheus": 9090, "alertmanager": 9093, "agent": 9110}
