"""Rules that tie the sections of the stack together: each one reports every violation it finds."""

from __future__ import annotations

import datetime
import ipaddress
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orion_infra.model.hosts import Bridge, PhysicalNic
from orion_infra.model.networks import StaticWan, usable
from orion_infra.model.ports import MONITOR_SERVICES, ROUTER_EXPORTERS
from orion_infra.model.problems import Location, Problems, format_location
from orion_infra.model.releases import nixos_release_problem
from orion_infra.model.services import ScrapeTarget
from orion_infra.model.vms import NIXOS_DISK_GIB, NixOs, VmNic, VmRole

if TYPE_CHECKING:
    from orion_infra.model.stack import AutomaticName, OrionStack

# Networks the hypervisor itself may have an address on; anywhere else it would expose its UI and SSH.
HOST_ADDRESS_NETWORKS = ("management", "storage")
# Networks the router must be attached to.
ROUTED_NETWORKS = ("wan", "lan", "guest", "management")
# Networks the router must be the gateway of: its firewall, DNS and the monitoring VM's paths are built on its
# addresses there.
GATEWAY_NETWORKS = ("lan", "management")
# What Prometheus keeps, taken at its least so that a disk refused surely cannot hold it: a target exports at least
# 500 series (a node exporter alone, with the systemd collector, exports more than 1000) and a sample takes at least
# 1 byte on disk (Prometheus's storage documentation: "around 1-2 bytes per sample").
SERIES_PER_TARGET = 500
BYTES_PER_SAMPLE = 1


@dataclass(frozen=True)
class StaticAddress:
    """An address the stack assigns by hand, and where."""

    network: str
    address: ipaddress.IPv4Address
    loc: Location


def check_consistency(stack: OrionStack, problems: Problems, today: datetime.date) -> None:
    addresses = static_addresses(stack)
    _check_hosts(stack, problems)
    _check_network_bridges(stack, problems)
    _check_vms(stack, problems, today)
    _check_roles(stack, problems)
    _check_addresses(stack, addresses, problems)
    _check_ipv6(stack, problems)
    _check_bgp_sessions(stack, problems)
    _check_capacity(stack, problems)
    _check_monitoring(stack, addresses, problems)
    _check_monitor_disk(stack, problems)
    _check_backup(stack, problems)
    _check_dns(stack, problems)
    _check_bootstrap(stack, addresses, problems)


def static_addresses(stack: OrionStack) -> list[StaticAddress]:
    """Every hand-assigned IPv4 address on an internal network, wherever the stack assigns it."""
    found: list[StaticAddress] = []
    for name, network in stack.networks.internal():
        if network.gateway is not None:
            found.append(StaticAddress(name, network.gateway, ("networks", name, "gateway")))
    for name, where, reservation in stack.reservations():
        found.append(StaticAddress(name, reservation.address, (*where, "address")))
    for host_index, host in enumerate(stack.hosts):
        for bridge_index, bridge in enumerate(host.bridges):
            carried = stack.network_of(bridge.name, None)
            if bridge.address is not None and carried is not None:
                found.append(
                    StaticAddress(carried, bridge.address, ("hosts", host_index, "bridges", bridge_index, "address"))
                )
        found.append(StaticAddress("management", host.idrac.address, ("hosts", host_index, "idrac", "address")))
    for key, vm in stack.vms.items():
        for index, nic in enumerate(vm.nics):
            attached = stack.network_of(nic.bridge, nic.vlan)
            if isinstance(nic.ipv4, ipaddress.IPv4Address) and attached is not None:
                found.append(StaticAddress(attached, nic.ipv4, ("vms", key, "nics", index, "ipv4")))
    return found


def _check_hosts(stack: OrionStack, problems: Problems) -> None:
    hosts = list(enumerate(stack.hosts))
    problems.require_unique((("hosts", index, "name"), host.name) for index, host in hosts)
    problems.require_unique((("hosts", index, "service_tag"), host.service_tag) for index, host in hosts)
    problems.require_unique((("hosts", index, "proxmox", "node"), host.proxmox.node) for index, host in hosts)
    management = stack.networks.management
    for index, host in hosts:
        if why := usable(host.idrac.address, management.subnet):
            problems.add(
                ("hosts", index, "idrac", "address"), f"{why}, the management network", str(host.idrac.address)
            )
        for bridge_index, bridge in enumerate(host.bridges):
            _check_host_bridge(stack, problems, ("hosts", index, "bridges", bridge_index), host.nics, bridge)
        management_address = stack.management_address(host)
        if management_address is None:
            problems.add(
                ("hosts", index, "bridges"),
                f"no bridge gives host {host.name} an address on the management network "
                f"({management.bridge}, {management.subnet})",
            )
        endpoint_host = host.proxmox.api_endpoint.host or ""
        try:
            endpoint_address = ipaddress.ip_address(endpoint_host.strip("[]"))
        except ValueError:
            continue  # a DNS name: nothing to compare
        if management_address is not None and endpoint_address != management_address:
            problems.add(
                ("hosts", index, "proxmox", "api_endpoint"),
                f"{endpoint_address} is not the node's management address {management_address}",
                str(host.proxmox.api_endpoint),
            )


def _check_host_bridge(
    stack: OrionStack, problems: Problems, where: Location, nics: list[PhysicalNic], bridge: Bridge
) -> None:
    carried = stack.networks.on_bridge(bridge.name)
    purposes = {nic.name: nic.purpose.value for nic in nics}
    for port_index, port in enumerate(bridge.ports):
        purpose = purposes.get(port)
        if purpose is not None and carried and purpose not in carried:
            problems.add(
                (*where, "ports", port_index),
                f"NIC {port} is meant for {purpose}, but {bridge.name} carries {', '.join(carried)}",
                port,
            )
    if bridge.address is None:
        return
    untagged = stack.network_of(bridge.name, None)
    if untagged is None:
        problems.add(
            (*where, "address"),
            f"{bridge.name} carries no untagged network to put an address on",
            because=_network_bridges(stack),
        )
    elif untagged not in HOST_ADDRESS_NETWORKS:
        problems.add(
            (*where, "address"),
            f"the Proxmox host must not have an address on the {untagged} network ({bridge.name}): it would expose "
            f"the hypervisor there; it may have one on {' and '.join(HOST_ADDRESS_NETWORKS)} only",
            str(bridge.address),
        )
    else:
        network = stack.networks.get_internal(untagged)
        if network is not None and (why := usable(bridge.address, network.subnet)):
            problems.add((*where, "address"), f"{why}, the {untagged} network on {bridge.name}", str(bridge.address))


def _check_network_bridges(stack: OrionStack, problems: Problems) -> None:
    for name, bridge_name, vlan in stack.networks.segments():
        for host in stack.hosts:
            bridge = host.bridge(bridge_name)
            if bridge is None:
                defined = ", ".join(b.name for b in host.bridges)
                problems.add(
                    ("networks", name, "bridge"),
                    f"bridge {bridge_name!r} is not defined on host {host.name} (defined: {defined})",
                    bridge_name,
                )
            elif vlan is not None and not bridge.vlan_aware:
                problems.add(
                    ("networks", name, "vlan"),
                    f"VLAN {vlan} needs {bridge_name} to be vlan_aware on host {host.name}",
                    vlan,
                )


def _check_vms(stack: OrionStack, problems: Problems, today: datetime.date) -> None:
    vms = list(stack.vms.items())
    problems.require_unique((("vms", key, "id"), vm.id) for key, vm in vms)
    problems.require_unique(
        [(("hosts", index, "name"), host.name) for index, host in enumerate(stack.hosts)]
        + [(("vms", key, "name"), vm.name) for key, vm in vms]
    )
    problems.require_unique(
        [
            (("hosts", index, "nics", nic_index, "mac"), nic.mac)
            for index, host in enumerate(stack.hosts)
            for nic_index, nic in enumerate(host.nics)
            if nic.mac
        ]
        + [(("vms", key, "nics", index, "mac"), nic.mac) for key, vm in vms for index, nic in enumerate(vm.nics)]
    )
    nodes = ", ".join(host.proxmox.node for host in stack.hosts)
    for key, vm in vms:
        if isinstance(vm.os, NixOs) and (why := nixos_release_problem(vm.os.release, today)):
            problems.add(("vms", key, "os", "release"), why, vm.os.release)
        if isinstance(vm.os, NixOs) and _release_order(vm.os.state_version) > _release_order(vm.os.release):
            problems.add(
                ("vms", key, "os", "state_version"),
                f"a VM cannot have been installed with NixOS {vm.os.state_version}, newer than the release it runs "
                f"({vm.os.release})",
                vm.os.state_version,
            )
        host = stack.host(vm.node)
        if host is None:
            problems.add(("vms", key, "node"), f"node {vm.node!r} is not defined (nodes: {nodes})", vm.node)
            continue
        datastore = host.proxmox.datastore(vm.disk.datastore)
        if datastore is None or "images" not in datastore.content:
            usable_stores = ", ".join(s.name for s in host.proxmox.datastores if "images" in s.content) or "none"
            problems.add(
                ("vms", key, "disk", "datastore"),
                f"{vm.disk.datastore!r} is not a datastore for VM disks on {vm.node} "
                f"(datastores with images: {usable_stores})",
                vm.disk.datastore,
            )
        for index, nic in enumerate(vm.nics):
            where = ("vms", key, "nics", index)
            if host.bridge(nic.bridge) is None:
                defined = ", ".join(bridge.name for bridge in host.bridges)
                problems.add(
                    (*where, "bridge"), f"bridge {nic.bridge!r} is not defined (defined: {defined})", nic.bridge
                )
                continue
            network = stack.network_of(nic.bridge, nic.vlan)
            if network is None:
                tagged = f" VLAN {nic.vlan}" if nic.vlan else ""
                problems.add(
                    (*where, "bridge"),
                    f"{nic.bridge}{tagged} carries no network",
                    nic.bridge,
                    because=_network_bridges(stack),
                )
                continue
            _check_nic_address(stack, problems, where, network, nic.ipv4)


def _check_nic_address(stack: OrionStack, problems: Problems, where: Location, network: str, ipv4: object) -> None:
    internal = stack.networks.get_internal(network)
    if internal is None:
        if ipv4 is not None:
            problems.add((*where, "ipv4"), "the WAN address is set by networks.wan.ipv4; leave it out here", str(ipv4))
        return
    if ipv4 == "dhcp" and internal.dhcp is None:
        problems.add((*where, "ipv4"), f"the {network} network has no DHCP server; give a static address", "dhcp")
    elif isinstance(ipv4, ipaddress.IPv4Address) and (why := usable(ipv4, internal.subnet)):
        problems.add((*where, "ipv4"), f"{why}, the subnet of the {network} network on {internal.bridge}", str(ipv4))


def _check_roles(stack: OrionStack, problems: Problems) -> None:
    for role in (VmRole.ROUTER, VmRole.MONITORING):
        holders = stack.vms_with_role(role)
        if len(holders) != 1:
            names = ", ".join(key for key, _ in holders) or "none"
            problems.add(("vms",), f"expected exactly one VM with role {role.value}, got {len(holders)} ({names})")
    for key, monitor in stack.vms_with_role(VmRole.MONITORING):
        if not any(_static_on_routed_network(stack, nic) for nic in monitor.nics):
            problems.add(
                ("vms", key, "nics"),
                "the monitoring VM needs a static IPv4 address on a routed network: scrape targets, DNS and "
                "Alertmanager are configured with it",
                because=_nic_bridges(key, monitor.nics),
            )
    _check_router(stack, problems)


def _check_router(stack: OrionStack, problems: Problems) -> None:
    for name in GATEWAY_NETWORKS:
        needed = stack.networks.get_internal(name)
        if needed is not None and needed.gateway is None:
            problems.add(
                ("networks", name, "gateway"),
                f"the {name} network needs a gateway: the router's firewall, DNS and monitoring paths are built on "
                f"its {name} address",
            )
    routers = stack.vms_with_role(VmRole.ROUTER)
    if len(routers) != 1:
        return
    key, router = routers[0]
    attached: dict[str | None, tuple[int, VmNic]] = {}
    for index, nic in enumerate(router.nics):
        attached.setdefault(stack.network_of(nic.bridge, nic.vlan), (index, nic))
    gatewayed = [name for name, network in stack.networks.internal() if network.gateway is not None]
    for network in [*ROUTED_NETWORKS, *(name for name in gatewayed if name not in ROUTED_NETWORKS)]:
        if network not in attached:
            if network in ROUTED_NETWORKS:
                problems.add(
                    ("vms", key, "nics"),
                    f"the router has no NIC on the {network} network",
                    because=[("networks", network, "bridge"), *_nic_bridges(key, router.nics)],
                )
            else:
                problems.add(
                    ("networks", network, "gateway"),
                    f"a gateway is the router's address, but the router has no NIC on the {network} network; attach "
                    "one or leave the gateway out",
                )
            continue
        internal = stack.networks.get_internal(network)
        index, nic = attached[network]
        if internal is not None and internal.gateway is not None and nic.ipv4 != internal.gateway:
            problems.add(
                ("vms", key, "nics", index, "ipv4"),
                f"the router's {network} address must be the network's gateway {internal.gateway}",
                str(nic.ipv4),
            )


def _network_bridges(stack: OrionStack) -> list[Location]:
    """The networks' bridge fields: a bridge that carries nothing may have lost its network to a misspelt one."""
    return [("networks", name, "bridge") for name, _, _ in stack.networks.segments()]


def _nic_bridges(key: str, nics: list[VmNic]) -> list[Location]:
    """A VM's NICs' bridge fields: when one is wrong, what the VM lacks on its networks follows from it."""
    return [("vms", key, "nics", index, "bridge") for index in range(len(nics))]


def _static_on_routed_network(stack: OrionStack, nic: VmNic) -> bool:
    network = stack.networks.get_internal(stack.network_of(nic.bridge, nic.vlan))
    return isinstance(nic.ipv4, ipaddress.IPv4Address) and network is not None and network.gateway is not None


def _check_addresses(stack: OrionStack, addresses: list[StaticAddress], problems: Problems) -> None:
    by_network: dict[str, list[StaticAddress]] = defaultdict(list)
    for entry in addresses:
        by_network[entry.network].append(entry)
    for name, entries in by_network.items():
        network = stack.networks.get_internal(name)
        # The router's NIC holds the gateway address by design: it is one address, not two.
        distinct = [entry for entry in entries if entry.loc[-1] != "gateway"]
        problems.require_unique((entry.loc, entry.address) for entry in distinct)
        pool = network.dhcp if network is not None else None
        for entry in distinct:
            if pool is not None and entry.address in pool and "reservations" not in entry.loc:
                problems.add(
                    entry.loc,
                    f"{entry.address} is inside the DHCP pool {pool.start}-{pool.end} of {name}",
                    str(entry.address),
                )
    vm_nics = {
        nic.mac: (("vms", key, "nics", index), stack.network_of(nic.bridge, nic.vlan), nic)
        for key, vm in stack.vms.items()
        for index, nic in enumerate(vm.nics)
    }
    for name, where, reservation in stack.reservations():
        if reservation.mac not in vm_nics:
            continue
        nic_loc, nic_network, nic = vm_nics[reservation.mac]
        if nic_network is None:
            continue  # the NIC's own problem is reported at the NIC
        if nic_network != name:
            problems.add(
                (*where, "mac"),
                f"{reservation.mac} is {format_location(nic_loc)}, on the {nic_network} network, not {name}",
                reservation.mac,
            )
        elif nic.ipv4 != "dhcp":
            problems.add((*where, "mac"), f"{format_location(nic_loc)} has a static address; it takes no DHCP lease")


def _check_ipv6(stack: OrionStack, problems: Problems) -> None:
    prefixes = [prefix for prefix in stack.bgp.announce if isinstance(prefix, ipaddress.IPv6Network)]
    announced = ", ".join(str(prefix) for prefix in prefixes) or "none"
    for name, network in stack.networks.internal():
        if network.ipv6 is None:
            continue
        subnet = network.ipv6.subnet
        if not any(subnet.subnet_of(prefix) for prefix in prefixes):
            problems.add(
                ("networks", name, "ipv6", "subnet"),
                f"{subnet} is not inside the announced prefix ({announced})",
                str(subnet),
            )


def _check_bgp_sessions(stack: OrionStack, problems: Problems) -> None:
    announces_v6 = any(prefix.version == 6 for prefix in stack.bgp.announce)
    if announces_v6 and stack.networks.wan.ipv6 == "none" and all(p.address.version == 4 for p in stack.bgp.peers):
        # Found in the lab: BIRD withdraws the prefix ("Missing next hop address") without an IPv6 WAN address.
        problems.add(
            ("networks", "wan", "ipv6"),
            "announcing IPv6 prefixes over IPv4 sessions needs a global IPv6 address on the WAN as their next hop; "
            "use dhcpv6 or slaac",
            "none",
        )
    for index, cache in enumerate(stack.bgp.rpki):
        if why := _pool_problem(stack, cache.address, "an RPKI cache"):
            problems.add(("bgp", "rpki", index, "address"), why, str(cache.address))
    wan = stack.networks.wan.ipv4
    inside = _inside_subnets(stack)
    for index, peer in enumerate(stack.bgp.peers):
        where = ("bgp", "peers", index, "address")
        if peer.address.version == 6 and stack.networks.wan.ipv6 == "none":
            problems.add(
                where,
                f"{peer.address} is an IPv6 peer, but networks.wan.ipv6 is none: the router has no IPv6 on the WAN",
                str(peer.address),
            )
        network = next(((name, subnet) for name, subnet in inside if peer.address in subnet), None)
        if network is not None:
            problems.add(
                where,
                f"{peer.address} is inside the {network[0]} network {network[1]}; an upstream is reached over the WAN",
                str(peer.address),
            )
        if isinstance(wan, StaticWan) and peer.address == wan.address:
            problems.add(where, f"{peer.address} is our own WAN address", str(peer.address))
        if peer.multihop is not None and peer.bfd and wan == "dhcp":
            problems.add(
                ("bgp", "peers", index, "bfd"),
                "BFD on a multihop session needs a fixed local address, but networks.wan.ipv4 is dhcp; "
                "give the WAN a static address, or drop multihop or bfd",
            )
        # Only an IPv4 peer is checked against the WAN's IPv4 subnet: an IPv6 one is on the WAN's IPv6 link.
        if (
            peer.multihop is None
            and isinstance(wan, StaticWan)
            and peer.address.version == 4
            and peer.address not in wan.subnet
        ):
            problems.add(
                ("bgp", "peers", index, "address"),
                f"{peer.address} is not on the WAN subnet {wan.subnet}; set multihop for a peer that is not "
                "directly connected",
                str(peer.address),
            )


def _inside_subnets(stack: OrionStack) -> list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """Every internal network's subnets, IPv4 and IPv6, by network name."""
    found: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for name, network in stack.networks.internal():
        found.append((name, network.subnet))
        if network.ipv6 is not None:
            found.append((name, network.ipv6.subnet))
    return found


def _router_addresses(stack: OrionStack) -> set[ipaddress.IPv4Address]:
    """The router's addresses inside: the gateways."""
    return {network.gateway for _, network in stack.networks.internal() if network.gateway is not None}


def _check_capacity(stack: OrionStack, problems: Problems) -> None:
    for host in stack.hosts:
        guests = [vm for vm in stack.vms.values() if vm.node == host.proxmox.node]
        cores = sum(vm.cores for vm in guests)
        memory = sum(vm.memory_gib for vm in guests)
        free_cores = host.cpu.cores - host.reserve.cores
        free_memory = host.memory_gib - host.reserve.memory_gib
        if cores > free_cores:
            problems.add(
                ("vms",),
                f"the VMs on {host.proxmox.node} ask for {cores} cores; it has {host.cpu.cores} physical cores with "
                f"{host.reserve.cores} reserved for the host, {free_cores} left",
                cores,
            )
        if memory > free_memory:
            problems.add(
                ("vms",),
                f"the VMs on {host.proxmox.node} ask for {memory} GiB of memory; it has {host.memory_gib} GiB with "
                f"{host.reserve.memory_gib} GiB reserved for the host, {free_memory} GiB left",
                memory,
            )


def _check_monitoring(stack: OrionStack, addresses: list[StaticAddress], problems: Problems) -> None:
    # A reserved lease is as fixed an address as a static one, and a DNS record names a device the operator knows.
    known = {entry.address for entry in addresses}
    known |= {record.address for record in stack.dns.records if isinstance(record.address, ipaddress.IPv4Address)}
    targets = list(enumerate(stack.monitoring.targets))
    problems.require_unique((("monitoring", "targets", index), f"{t.address}:{t.port}") for index, t in targets)
    problems.require_unique((("monitoring", "targets", index, "name"), f"{t.job}/{t.name}") for index, t in targets)
    own = _own_services(stack)
    for index, target in targets:
        listed = own.get((target.address, target.port))
        if listed is not None:
            problems.add(
                ("monitoring", "targets", index),
                f"{target.address}:{target.port} is {listed.name}'s {listed.job} target, which ORION runs and "
                "scrapes by itself; remove this entry",
            )
        if target.address not in known:
            problems.add(
                ("monitoring", "targets", index, "address"),
                f"{target.address} is not an address of any host, VM, DHCP reservation or DNS record in this stack",
                str(target.address),
            )


def _check_monitor_disk(stack: OrionStack, problems: Problems) -> None:
    """The monitoring VM's disk holds its NixOS system and what Prometheus keeps for retention_days."""
    monitoring = stack.monitoring
    targets = len(ROUTER_EXPORTERS) + len(MONITOR_SERVICES) + len(monitoring.targets)
    # Prometheus's storage documentation: retention seconds x samples a second x bytes a sample ("around 1-2").
    samples = targets * SERIES_PER_TARGET * monitoring.retention_days * 86400 / monitoring.scrape_interval_seconds
    tsdb_gib = math.ceil(samples * BYTES_PER_SAMPLE / 2**30)
    needed = NIXOS_DISK_GIB + tsdb_gib
    for key, monitor in stack.vms_with_role(VmRole.MONITORING):
        if monitor.disk.size_gib < needed:
            problems.add(
                ("vms", key, "disk", "size_gib"),
                f"{monitor.disk.size_gib} GiB cannot hold the monitoring VM's NixOS system ({NIXOS_DISK_GIB} GiB) "
                f"and what Prometheus keeps of {targets} targets scraped every {monitoring.scrape_interval_seconds} s "
                f"for {monitoring.retention_days} days ({tsdb_gib} GiB at {SERIES_PER_TARGET} series a target and "
                f"{BYTES_PER_SAMPLE} byte a sample, the least it takes); give it at least {needed} GiB, or keep fewer "
                "days (monitoring.retention_days)",
                monitor.disk.size_gib,
            )


def _own_services(stack: OrionStack) -> dict[tuple[ipaddress.IPv4Address, int], ScrapeTarget]:
    """ORION's own scrape targets by (address, port), at every address of the VM that serves them: the router's
    exporters at each of its gateway addresses, the monitoring VM's services (on its loopback) at its own."""
    try:
        own = {(target.address, target.port): target for target in stack.own_targets()}
    except (ValueError, IndexError):  # no router or monitoring VM address to derive them from: see _check_roles
        return {}
    by_job = {(target.name, target.job): target for target in own.values()}
    for job, port in ROUTER_EXPORTERS.items():
        for address in _router_addresses(stack):
            own.setdefault((address, port), by_job[stack.router.name, job])
    for nic in stack.monitor.nics:
        for job, port in MONITOR_SERVICES.items():
            if isinstance(nic.ipv4, ipaddress.IPv4Address):
                own.setdefault((nic.ipv4, port), by_job[stack.monitor.name, job])
    return own


def _check_backup(stack: OrionStack, problems: Problems) -> None:
    by_id = {vm.id: vm for vm in stack.vms.values()}
    ids = ", ".join(str(vm_id) for vm_id in sorted(by_id))
    nodes: set[str] = set()
    for index, vm_id in enumerate(stack.backup.vms):
        vm = by_id.get(vm_id)
        if vm is None:
            problems.add(("backup", "vms", index), f"VM {vm_id} is not defined (VM ids: {ids})", vm_id)
        else:
            nodes.add(vm.node)
    for node in sorted(nodes):
        host = stack.host(node)
        store = host.proxmox.datastore(stack.backup.storage) if host else None
        if host is not None and (store is None or "backup" not in store.content):
            problems.add(
                ("backup", "storage"),
                f"{stack.backup.storage!r} is not a datastore for backups on {node}",
                stack.backup.storage,
            )
    problems.require_unique((("backup", "vms", index), vm_id) for index, vm_id in enumerate(stack.backup.vms))


def _check_dns(stack: OrionStack, problems: Problems) -> None:
    automatic = stack.automatic_names()
    for index, record in enumerate(stack.dns.records):
        if why := _pool_problem(stack, record.address, "a named device") or _unnumbered(stack, record.address):
            problems.add(("dns", "records", index, "address"), why, str(record.address))
        named = automatic.get(record.name)
        if named is None:
            continue
        owner = {
            "host": "already the name of a host or VM",
            "vm": "already the name of a host or VM",
            "idrac": f"the name of host {named.owner}'s iDRAC",
            "reservation": f"the name of {named.owner}",
        }[named.kind]
        problems.add(
            ("dns", "records", index, "name"),
            f"{record.name!r} is {owner}, which gets its record automatically",
            record.name,
        )
    problems.require_unique((("dns", "records", index, "name"), r.name) for index, r in enumerate(stack.dns.records))
    _check_reservation_names(stack, automatic, problems)
    _check_upstreams(stack, problems)


def _pool_problem(stack: OrionStack, address: ipaddress.IPv4Address | ipaddress.IPv6Address, what: str) -> str | None:
    """Why `address`, which the stack names as a device's, is no fixed address: a DHCP pool hands it out."""
    for name, network in stack.networks.internal():
        pool = network.dhcp
        if pool is not None and address in pool:
            return (
                f"{address} is inside the DHCP pool {pool.start}-{pool.end} of {name}, which hands it to any client: "
                f"{what} needs a fixed address outside the pool (a reservation or a static address)"
            )
    return None


def _unnumbered(stack: OrionStack, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address`, inside one of our networks, is no device's: it is the network's or its broadcast address."""
    for name, network in stack.networks.internal():
        if isinstance(address, ipaddress.IPv4Address) and address in network.subnet:
            why = usable(address, network.subnet)
            return f"{why}, the {name} network: no device has it" if why else None
    return None


def _check_reservation_names(stack: OrionStack, automatic: dict[str, AutomaticName], problems: Problems) -> None:
    """A reservation's hostname gets a record: it may be the name of the VM whose NIC it serves, no other's."""
    for _, where, reservation in stack.reservations():
        named = automatic[reservation.hostname]
        if named.kind == "reservation" or (
            named.kind == "vm" and reservation.mac in {nic.mac for nic in stack.vms[named.owner].nics}
        ):
            continue
        problems.add(
            (*where, "hostname"),
            f"{reservation.hostname!r} is the name of another host, VM or iDRAC in this stack; its record "
            "would name two machines",
            reservation.hostname,
        )


def _check_upstreams(stack: OrionStack, problems: Problems) -> None:
    router = _router_addresses(stack)
    for index, upstream in enumerate(stack.dns.upstreams):
        where = ("dns", "upstreams", index, "address")
        if upstream.address.version == 6 and stack.networks.wan.ipv6 == "none":
            problems.add(
                where,
                f"{upstream.address} is an IPv6 resolver, but networks.wan.ipv6 is none: the router cannot reach it",
                str(upstream.address),
            )
        if why := _pool_problem(stack, upstream.address, "a resolver"):
            problems.add(where, why, str(upstream.address))
        if upstream.address in router:
            problems.add(
                where,
                f"{upstream.address} is the router's own address: Unbound would forward its questions to itself",
                str(upstream.address),
            )


def _check_bootstrap(stack: OrionStack, addresses: list[StaticAddress], problems: Problems) -> None:
    url, host, address = stack.bootstrap.serve_url, stack.bootstrap.serve_host, stack.bootstrap.serve_address
    installing = any(h.proxmox.install and h.idrac.media_over_https for h in stack.hosts)
    if installing and not isinstance(address, ipaddress.IPv4Address):
        # The media server binds serve_url's host and makes its certificate for it as an IP address; the management
        # network, where the iDRAC fetches, is IPv4.
        problems.add(
            ("bootstrap", "serve_url"),
            f"{host} is not an IPv4 address, but ORION serves the installer to the iDRAC over HTTPS with a "
            "certificate for serve_url's address: give the operator machine's IPv4 address",
            str(url),
        )
    # A node that is already installed might serve the files itself; one that ORION installs does not exist yet.
    existing = {("hosts", index, "bridges") for index, host in enumerate(stack.hosts) if not host.proxmox.install}
    taken = next((e for e in addresses if e.address == address and e.loc[:3] not in existing), None)
    if taken is not None or address in _router_addresses(stack):
        owner = format_location(taken.loc) if taken is not None else "a gateway, the router's"
        problems.add(
            ("bootstrap", "serve_url"),
            f"{address} is already an address in this stack ({owner}); serve_url is the operator's machine",
            str(url),
        )


def _release_order(release: str) -> tuple[int, int]:
    year, month = release.split(".")
    return int(year), int(month)
