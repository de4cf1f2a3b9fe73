"""The agent's settings file (read by `orion_agent.settings`), from the stack model."""

from __future__ import annotations

import json
from typing import Any

from orion_agent.settings import Remediation
from orion_infra.model import ports
from orion_infra.model.hosts import NicPurpose
from orion_infra.model.services import ScrapeTarget
from orion_infra.model.stack import OrionStack

# The package, not names from it: its render_monitor includes this file, and names would not exist yet mid-import.
from orion_infra.render import monitor, secret_files
from orion_infra.render.options import RenderOptions

# How long after a BGP restart the next may come: the agent's guard rail (its home: the agent's settings), which the
# router's forced command enforces too.
RESTART_BGP_COOLDOWN_SECONDS = int(Remediation.model_fields["cooldown_seconds"].default)


def lan_capacity_bits(stack: OrionStack) -> int:
    """The slowest physical LAN port of the hosts: the router's LAN traffic crosses one of them."""
    speeds = [nic.speed_gbps for host in stack.hosts for nic in host.nics if nic.purpose == NicPurpose.LAN]
    return min(speeds) * 1_000_000_000


def router_bird_target(stack: OrionStack) -> ScrapeTarget:
    """The router's bird exporter: the agent probes it, and reaches the router's SSH at its address."""
    return stack.target(stack.router.name, "bird")


def render_agent_settings(stack: OrionStack, options: RenderOptions) -> str:
    """`agent-settings.json`: what the agent watches and where it keeps its state; guard rails keep their defaults."""
    bird = router_bird_target(stack)
    promql = monitor.queries(stack, options)
    lan_devices = [
        options.interface(nic.name) for nic in stack.router.nics if stack.network_of(nic.bridge, nic.vlan) == "lan"
    ]
    # The agent runs beside Prometheus and Alertmanager: loopback keeps working whatever the LAN does.
    settings: dict[str, Any] = {
        "prometheus_url": f"http://{ports.MONITOR_LOCAL_ADDRESS}:{ports.MONITOR_SERVICES['prometheus']}",
        "alertmanager_url": f"http://{ports.MONITOR_LOCAL_ADDRESS}:{ports.MONITOR_SERVICES['alertmanager']}",
        "listen_address": ports.MONITOR_LOCAL_ADDRESS,
        "listen_port": ports.MONITOR_SERVICES["agent"],
        "check_interval_seconds": stack.monitoring.scrape_interval_seconds,
        "router": {
            "host": promql.router,
            "address": str(bird.address),
            "bird_exporter_url": f"http://{bird.address}:{bird.port}/metrics",
            "wan_device": promql.wan_device,
            "wan_capacity_bits": monitor.wan_capacity_bits(stack),
            "lan_devices": lan_devices,
            "lan_capacity_bits": lan_capacity_bits(stack),
        },
        "remediation": {
            "ssh_key_file": str(options.secret(secret_files.AGENT_SSH_KEY)),
            "known_hosts_file": str(options.secret(secret_files.AGENT_KNOWN_HOSTS)),
        },
        "state_dir": str(options.state_dir / "orion-agent"),
        "audit_log": str(options.state_dir / "orion-agent" / "audit.jsonl"),
    }
    return json.dumps(settings, indent=2) + "\n"
