"""The whole ORION stack configuration: every section, and the rules that tie them together."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from typing import Annotated, Literal, NamedTuple, Self

from pydantic import Field, ValidationInfo, model_validator

from orion_infra.model.bgp import Bgp
from orion_infra.model.consistency import check_consistency
from orion_infra.model.hosts import Host
from orion_infra.model.networks import DhcpReservation, Networks
from orion_infra.model.ports import MONITOR_LOCAL_ADDRESS, MONITOR_SERVICES, ROUTER_EXPORTERS
from orion_infra.model.problems import Location, Problems, format_location
from orion_infra.model.services import Access, Backup, Bootstrap, Dns, Monitoring, ScrapeTarget
from orion_infra.model.types import Facts
from orion_infra.model.vms import Vm, VmKey, VmNic, VmRole


class AutomaticName(NamedTuple):
    """A name the local DNS gives a record without a dns.records entry, and what it names."""

    kind: Literal["host", "idrac", "vm", "reservation"]
    owner: str  # the host's name (for a host, by name or node, and its iDRAC), the VM's key, the reservation's place


class OrionStack(Facts):
    """The validated, frozen configuration of one ORION stack."""

    hosts: Annotated[list[Host], Field(min_length=1)]
    """the physical servers, at least one: hardware, iDRAC, and the Proxmox node on each; names, service tags and
    nodes unique"""
    networks: Networks
    """the WAN and the four internal networks: lan, guest, management, storage"""
    bgp: Bgp
    """our AS, the prefixes it announces and its upstream sessions"""
    dns: Dns
    """the local zone and the resolvers the router forwards to"""
    vms: Annotated[dict[VmKey, Vm], Field(min_length=1)]
    """the VMs by key (lowercase letters, digits and '_', a letter first): exactly one router and one monitoring
    VM, and any macOS VMs; ids, names and MACs unique, and the VMs on each node fitting in it beside its reserve"""
    monitoring: Monitoring
    """Prometheus, Alertmanager and Grafana on the monitoring VM"""
    backup: Backup
    """the Proxmox backup job of the VMs"""
    access: Access
    """who logs in to the NixOS VMs, and the keys the deploy and the agent use"""
    bootstrap: Bootstrap
    """where the operator's machine serves the installer and VM images from"""

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        context = info.context if isinstance(info.context, dict) else {}
        today = context.get("today") or datetime.date.today()
        problems = Problems()
        check_consistency(self, problems, today)
        problems.raise_if_any("OrionStack")
        return self

    def host(self, node: str) -> Host | None:
        """The host whose Proxmox node is named `node`."""
        return next((host for host in self.hosts if host.proxmox.node == node), None)

    def network_of(self, bridge: str, vlan: int | None) -> str | None:
        """The network carried on `bridge` (tagged with `vlan`, if any)."""
        return next(
            (
                name
                for name, net_bridge, net_vlan in self.networks.segments()
                if (net_bridge, net_vlan) == (bridge, vlan)
            ),
            None,
        )

    def management_address(self, host: Host) -> ipaddress.IPv4Address | None:
        bridge = host.bridge(self.networks.management.bridge)
        return bridge.address if bridge is not None else None

    def reservations(self) -> Iterator[tuple[str, Location, DhcpReservation]]:
        """Every DHCP reservation: its network's name, where the stack makes it, and the reservation."""
        for name, network in self.networks.internal():
            for index, reservation in enumerate(network.dhcp.reservations if network.dhcp else []):
                yield name, ("networks", name, "dhcp", "reservations", index), reservation

    def automatic_names(self) -> dict[str, AutomaticName]:
        """The names the local DNS gives records by itself: the hosts' names and Proxmox nodes, their iDRACs', the
        VMs' and the DHCP reservations' hostnames. A name given twice is the first's, in that order."""
        names: dict[str, AutomaticName] = {}
        for host in self.hosts:
            names.setdefault(host.name, AutomaticName("host", host.name))
            names.setdefault(host.proxmox.node, AutomaticName("host", host.name))
        for host in self.hosts:
            names.setdefault(host.idrac_name, AutomaticName("idrac", host.name))
        for key, vm in self.vms.items():
            names.setdefault(vm.name, AutomaticName("vm", key))
        for _, where, reservation in self.reservations():
            names.setdefault(reservation.hostname, AutomaticName("reservation", format_location(where)))
        return names

    def vms_with_role(self, role: VmRole) -> list[tuple[str, Vm]]:
        return [(key, vm) for key, vm in self.vms.items() if vm.role == role]

    @property
    def router(self) -> Vm:
        return self.vms_with_role(VmRole.ROUTER)[0][1]

    @property
    def monitor(self) -> Vm:
        return self.vms_with_role(VmRole.MONITORING)[0][1]

    def monitor_endpoint(self) -> tuple[VmNic, ipaddress.IPv4Address]:
        """The monitoring VM's statically addressed NIC and its address (validation requires one)."""
        for nic in self.monitor.nics:
            if isinstance(nic.ipv4, ipaddress.IPv4Address):
                return nic, nic.ipv4
        raise ValueError("the monitoring VM has no static IPv4 address")

    def router_address_for_monitor(self) -> ipaddress.IPv4Address:
        """The router's address on the monitoring VM's network (it is every network's gateway): where the
        monitoring VM scrapes the router's exporters and reaches its SSH."""
        nic, _ = self.monitor_endpoint()
        network = self.networks.get_internal(self.network_of(nic.bridge, nic.vlan))
        if network is None or network.gateway is None:
            raise ValueError("the monitoring VM's network has no gateway")
        return network.gateway

    def own_targets(self) -> list[ScrapeTarget]:
        """The scrape targets of the services ORION runs itself, with the ports of orion_infra.model.ports."""
        router, monitor = self.router_address_for_monitor(), ipaddress.IPv4Address(MONITOR_LOCAL_ADDRESS)
        return [
            *(
                ScrapeTarget(name=self.router.name, job=job, address=router, port=port)
                for job, port in ROUTER_EXPORTERS.items()
            ),
            *(
                ScrapeTarget(name=self.monitor.name, job=job, address=monitor, port=port)
                for job, port in MONITOR_SERVICES.items()
            ),
        ]

    def scrape_targets(self) -> list[ScrapeTarget]:
        """Everything Prometheus scrapes: ORION's own services, then the stack's further targets."""
        return [*self.own_targets(), *self.monitoring.targets]

    def target(self, name: str, job: str) -> ScrapeTarget:
        return next(target for target in self.scrape_targets() if (target.name, target.job) == (name, job))
