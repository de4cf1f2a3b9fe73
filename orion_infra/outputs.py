"""The stack outputs contract: what other stacks may read from ORION with a StackReference.

Names are stable; renaming one breaks consumers. Values derive from the validated model only.
"""

from __future__ import annotations

from typing import TypedDict

from orion_infra.model.stack import OrionStack


class Endpoints(TypedDict):
    """Where to reach the management planes and services."""

    proxmox_api: dict[str, str]
    """Proxmox VE API URL per node."""
    idrac: dict[str, str]
    """iDRAC (Redfish) base URL per host."""
    router: str
    """The router's LAN address: default gateway and DNS resolver of the LAN."""
    grafana: str
    prometheus: str


class NetworkFacts(TypedDict):
    domain: str
    asn: int
    announced_prefixes: list[str]
    subnets: dict[str, str]


def endpoints(stack: OrionStack) -> Endpoints:
    monitor_address = next(str(nic.ipv4) for nic in stack.monitor.nics if nic.ipv4 is not None)
    return Endpoints(
        proxmox_api={host.proxmox.node: str(host.proxmox.api_endpoint) for host in stack.hosts},
        idrac={host.name: f"https://{host.idrac.address}/redfish/v1" for host in stack.hosts},
        router=str(stack.networks.lan.gateway),
        grafana=f"http://{monitor_address}:{stack.monitoring.grafana.port}",
        prometheus=f"http://{monitor_address}:9090",
    )


def network_facts(stack: OrionStack) -> NetworkFacts:
    return NetworkFacts(
        domain=stack.dns.domain,
        asn=stack.bgp.asn,
        announced_prefixes=[str(prefix) for prefix in stack.bgp.announce],
        subnets={name: str(network.subnet) for name, network in stack.networks.internal()},
    )
