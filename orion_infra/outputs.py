"""The stack outputs contract: what other stacks may read from ORION with a StackReference.

One module defines every output name and shape; consumers import these types. Names are stable: renaming one
breaks consumers. Plain outputs derive from the validated model; `credentials` is always a secret output.

    ref = pulumi.StackReference("my-org/orion/orion")
    grafana = ref.get_output(OUTPUT_ENDPOINTS).apply(lambda endpoints: endpoints["grafana"])
    credentials = ref.require_output(OUTPUT_CREDENTIALS)  # stays secret in the consuming stack
"""

from __future__ import annotations

import ipaddress
from typing import NotRequired, TypedDict

from orion_infra.model.stack import OrionStack

OUTPUT_ENDPOINTS = "endpoints"
OUTPUT_VMS = "vms"
OUTPUT_NETWORK = "network"
OUTPUT_IDRAC = "idrac"
OUTPUT_CREDENTIALS = "credentials"
OUTPUT_TRUST = "trust"


class Endpoints(TypedDict):
    """Where to reach the management planes and services."""

    idrac: dict[str, str]
    """iDRAC (Redfish) base URL per host."""
    proxmox_ui: dict[str, str]
    """Proxmox VE web UI per node."""
    proxmox_api: dict[str, str]
    """Proxmox VE API endpoint per node."""
    router: str
    """The router's LAN address: default gateway and DNS resolver of the LAN."""
    grafana: str
    """Grafana, the monitoring VM's one service on the LAN (Prometheus and Alertmanager listen on its loopback)."""


class VmFacts(TypedDict):
    id: int
    name: str
    role: str
    node: str
    ipv4: list[str]
    """Fixed addresses (DHCP reservations included), without prefix length."""


class NetworkFacts(TypedDict):
    domain: str
    asn: int
    announced_prefixes: list[str]
    subnets: dict[str, str]
    """IPv4 subnet per internal network (lan, guest, management, storage)."""
    ipv6_subnets: dict[str, str]
    """IPv6 /64 per internal network that has one."""


class IdracFacts(TypedDict):
    endpoint: str
    model: str
    service_tag: str
    bios_version: str
    idrac_firmware: str
    health: str
    tls_sha256: NotRequired[str]
    """The SHA-256 fingerprint of the certificate every call is pinned to (verify: first_use or fingerprint): compare
    it once with the iDRAC's own page."""


class TrustFacts(TypedDict):
    """Public: what lets a machine check whom it talks to (ADR 0031)."""

    proxmox_api_ca: dict[str, str]
    """Per node that is verified through its own CA (tls.verify: node_ca): the PEM anchor (`orion trust` writes them
    to .orion/trust/, the directory SSL_CERT_DIR names)."""
    ssh_known_hosts: list[str]
    """known_hosts lines (address, key) for the Proxmox nodes and the NixOS VMs, as the deploy pins them."""


class Credentials(TypedDict):
    """Secret: generated with pulumi-random, never in plain state or logs."""

    idrac_root: dict[str, str]
    """The rotated iDRAC root password per host (user `root`)."""
    proxmox_root: dict[str, str]
    """root@pam per node ORION installed (nodes installed by hand keep the operator's password)."""
    grafana_admin: str
    """Password of the Grafana admin user (`monitoring.grafana.admin_user`)."""


def endpoints(stack: OrionStack) -> Endpoints:
    monitor = stack.monitor_endpoint()[1]
    return Endpoints(
        idrac={host.name: f"https://{host.idrac.address}" for host in stack.hosts},
        proxmox_ui={host.proxmox.node: _ui(str(host.proxmox.api_endpoint)) for host in stack.hosts},
        proxmox_api={host.proxmox.node: str(host.proxmox.api_endpoint) for host in stack.hosts},
        router=str(stack.networks.lan.gateway),
        grafana=f"http://{monitor}:{stack.monitoring.grafana.port}",
    )


def _ui(api_endpoint: str) -> str:
    return api_endpoint.rstrip("/") + "/"


def vm_facts(stack: OrionStack) -> dict[str, VmFacts]:
    reserved = {reservation.mac: reservation.address for _, _, reservation in stack.reservations()}
    facts: dict[str, VmFacts] = {}
    for key, vm in stack.vms.items():
        addresses = [
            str(nic.ipv4 if isinstance(nic.ipv4, ipaddress.IPv4Address) else reserved[nic.mac])
            for nic in vm.nics
            if isinstance(nic.ipv4, ipaddress.IPv4Address) or nic.mac in reserved
        ]
        facts[key] = VmFacts(id=vm.id, name=vm.name, role=vm.role.value, node=vm.node, ipv4=addresses)
    return facts


def network_facts(stack: OrionStack) -> NetworkFacts:
    internal = list(stack.networks.internal())
    return NetworkFacts(
        domain=stack.dns.domain,
        asn=stack.bgp.asn,
        announced_prefixes=[str(prefix) for prefix in stack.bgp.announce],
        subnets={name: str(network.subnet) for name, network in internal},
        ipv6_subnets={name: str(network.ipv6.subnet) for name, network in internal if network.ipv6 is not None},
    )
