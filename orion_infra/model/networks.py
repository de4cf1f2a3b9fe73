"""The five networks ORION routes or carries: WAN, LAN, guest, management and storage."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Annotated, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator

from orion_infra.model.hosts import BridgeName
from orion_infra.model.problems import Location, Problems
from orion_infra.model.types import (
    UNNUMBERABLE_V4,
    Facts,
    Hostname,
    IPv4,
    IPv4Cidr,
    IPv6Cidr,
    MacAddress,
    PositiveInt,
    VlanId,
    not_unicast_reason,
)

LINK_LOCAL_V4 = ipaddress.IPv4Network("169.254.0.0/16")
# A VLAN-aware Linux bridge carries its untagged traffic as VLAN 1 (its default PVID, which Proxmox keeps).
UNTAGGED_VLAN = 1


def usable(address: ipaddress.IPv4Address, subnet: ipaddress.IPv4Network) -> str | None:
    """Why `address` cannot be given to a host on `subnet`, or None when it can."""
    if address not in subnet:
        return f"{address} is outside {subnet}"
    if subnet.prefixlen < 31 and address in (subnet.network_address, subnet.broadcast_address):
        kind = "network" if address == subnet.network_address else "broadcast"
        return f"{address} is the {kind} address of {subnet}"
    return None


class DhcpReservation(Facts):
    """A fixed lease: this MAC always gets this address and name."""

    hostname: Hostname
    """the client's name in the local zone, unique in the pool; no other host's, VM's or iDRAC's (a VM's own
    name is allowed when the reservation serves its NIC)"""
    mac: MacAddress
    """the client's MAC, unique in the pool; a VM NIC's must be on this network and take its address by dhcp"""
    address: IPv4
    """the fixed address: a usable address of the network's subnet, outside the pool, no other static address of
    the network"""


class DhcpPool(Facts):
    """The router's DHCP server on a network (Kea): the range it leases from, and fixed leases."""

    start: IPv4
    """the pool's first address, inside the subnet (not its network or broadcast address)"""
    end: IPv4
    """the pool's last address, inside the subnet, not before start; the gateway and every static address of the
    network must lie outside start-end"""
    lease_seconds: Annotated[int, Field(ge=300, le=604800)] = 86400
    """how long a lease is valid, in seconds: 300 (5 minutes) to 604800 (a week); 86400 is a day"""
    reservations: list[DhcpReservation] = Field(default_factory=list)
    """fixed leases, outside the pool"""

    def __contains__(self, address: object) -> bool:
        return isinstance(address, ipaddress.IPv4Address) and self.start <= address <= self.end

    @property
    def size(self) -> int:
        return int(self.end) - int(self.start) + 1


class Ipv6Subnet(Facts):
    """An IPv6 /64 carved from the announced prefix, advertised to hosts with router advertisements."""

    subnet: IPv6Cidr
    """the network's IPv6 /64, inside an IPv6 prefix of bgp.announce; the router takes its first address"""


class InternalNetwork(Facts):
    """A network behind the router (or, without a gateway, one it does not route, like storage)."""

    bridge: BridgeName
    """the bridge carrying the network, defined on every host; a bridge and VLAN carry one network"""
    vlan: VlanId | None = None
    """the 802.1Q VLAN tag (1-4094) on a vlan_aware bridge; left out, the network is untagged (VLAN 1 is the
    same segment as untagged)"""
    subnet: IPv4Cidr
    """the network's IPv4 subnet in CIDR notation, host bits clear (e.g. 10.0.10.0/24); no two networks'
    subnets overlap, none overlaps 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 or 240.0.0.0/4, and a routed one is not
    link-local (169.254.0.0/16)"""
    gateway: IPv4 | None = None
    """the router's address here, a usable address of the subnet outside the DHCP pool; none if not routed.
    Required on lan and management; DHCP, IPv6 and isolation need it"""
    dhcp: DhcpPool | None = None
    """the router's DHCP server on this network; none: clients are addressed statically"""
    ipv6: Ipv6Subnet | None = None
    """the network's IPv6 /64, advertised by the router; none: IPv4 only"""
    isolation: Literal["none", "internet_only"] = "none"
    """internet_only: clients reach the WAN and the router's DHCP/DNS, nothing else (the management network does
    not reach in, the local zone's names are refused to them); none: the management network reaches it"""

    @model_validator(mode="after")
    def _addresses_fit(self) -> Self:
        problems = Problems()
        for block, what in UNNUMBERABLE_V4:
            if self.subnet.overlaps(block):
                problems.add(("subnet",), f"{self.subnet} overlaps {block}, {what}: no host is numbered from it")
        if self.gateway is not None and self.subnet.subnet_of(LINK_LOCAL_V4):
            problems.add(
                ("subnet",),
                f"{self.subnet} is link-local ({LINK_LOCAL_V4}), which routers do not forward (RFC 3927); a network "
                "with a gateway needs other space",
            )
        if self.ipv6 is not None and self.gateway is None:
            problems.add(
                ("ipv6",),
                "the router advertises a network's IPv6 prefix, so a network with ipv6 needs a gateway",
            )
        if self.gateway is not None and (why := usable(self.gateway, self.subnet)):
            problems.add(("gateway",), why, str(self.gateway))
        if self.ipv6 is not None and self.ipv6.subnet.prefixlen != 64:
            problems.add(
                ("ipv6", "subnet"),
                f"expected a /64 (SLAAC needs 64-bit interface ids), got /{self.ipv6.subnet.prefixlen}",
                str(self.ipv6.subnet),
            )
        if self.dhcp is not None:
            self._check_pool(self.dhcp, problems)
        if self.isolation != "none" and self.gateway is None:
            problems.add(("isolation",), "an isolated network needs a gateway: isolation is enforced by the router")
        problems.raise_if_any("InternalNetwork")
        return self

    def _check_pool(self, pool: DhcpPool, problems: Problems) -> None:
        if self.gateway is None:
            problems.add(("dhcp",), "DHCP is served by the router, so a network with DHCP needs a gateway")
        for end in ("start", "end"):
            address = getattr(pool, end)
            if why := usable(address, self.subnet):
                problems.add(("dhcp", end), why, str(address))
        if pool.start > pool.end:
            problems.add(("dhcp", "end"), f"{pool.end} is before the pool start {pool.start}", str(pool.end))
        if self.gateway is not None and self.gateway in pool:
            problems.add(("gateway",), f"{self.gateway} is inside the DHCP pool {pool.start}-{pool.end}")
        for field in ("hostname", "mac", "address"):
            problems.require_unique(
                (("dhcp", "reservations", index, field), getattr(reservation, field))
                for index, reservation in enumerate(pool.reservations)
            )
        for index, reservation in enumerate(pool.reservations):
            where = ("dhcp", "reservations", index)
            if why := usable(reservation.address, self.subnet):
                problems.add((*where, "address"), why, str(reservation.address))
            elif reservation.address in pool:
                problems.add(
                    (*where, "address"),
                    f"{reservation.address} is inside the pool {pool.start}-{pool.end}; reserve an address outside it",
                    str(reservation.address),
                )


class StaticWan(Facts):
    """A static IPv4 address on the WAN, as the ISP assigned it."""

    address: IPv4
    """our WAN address, a unicast address usable in its subnet"""
    prefix_length: Annotated[int, Field(ge=8, le=32)]
    """the WAN subnet's prefix length, 8 to 32"""
    gateway: IPv4
    """the ISP's gateway, inside the WAN subnet and not our own address"""

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.address}/{self.prefix_length}", strict=False)

    @model_validator(mode="after")
    def _gateway_on_link(self) -> Self:
        problems = Problems()
        if why := not_unicast_reason(self.address) or usable(self.address, self.subnet):
            problems.add(("address",), why, str(self.address))
        if why := usable(self.gateway, self.subnet):
            problems.add(("gateway",), why, str(self.gateway))
        elif self.gateway == self.address:
            problems.add(("gateway",), f"{self.gateway} is our own WAN address; the gateway is the ISP's")
        problems.raise_if_any("StaticWan")
        return self


# Tagged by the input's shape, so a wrong static address is reported as such and not also as "not 'dhcp'".
WanAddressing = Annotated[
    Annotated[Literal["dhcp"], Tag("Dhcp")] | Annotated[StaticWan, Tag("Static")],
    Discriminator(lambda value: "Static" if isinstance(value, dict | StaticWan) else "Dhcp"),
]


class WanNetwork(Facts):
    """The uplink to the ISP."""

    bridge: BridgeName
    """the bridge carrying the WAN, defined on every host; a bridge and VLAN carry one network"""
    vlan: VlanId | None = None
    """the 802.1Q VLAN tag (1-4094) on a vlan_aware bridge; left out, the WAN is untagged"""
    ipv4: WanAddressing
    """dhcp, or a static address {address, prefix_length, gateway}. Routes come from BGP, never from the ISP's
    DHCP; a multihop session with bfd needs a static address"""
    ipv6: Literal["slaac", "dhcpv6", "none"] = "dhcpv6"
    """how the router takes its WAN IPv6 address: dhcpv6 (DHCPv6 and router advertisements), slaac (router
    advertisements only), none (no IPv6 on the WAN: no IPv6 peers or resolvers then)"""
    request_prefix_delegation: bool = False
    """ask the ISP for a delegated prefix via DHCPv6-PD (the LANs use our own /48); needs ipv6 other than none"""
    mtu: Annotated[int, Field(ge=1280, le=9000)] = 1500
    """the WAN interface's MTU in bytes, 1280 to 9000"""
    bandwidth_mbps: PositiveInt | None = None
    """the line rate bought from the ISP, in Mbit/s; left out, the WAN NIC's speed. Dashboards and the agent
    measure WAN use against it"""

    @model_validator(mode="after")
    def _prefix_delegation(self) -> Self:
        if self.request_prefix_delegation and self.ipv6 == "none":
            problems = Problems()
            problems.add(
                ("request_prefix_delegation",),
                "a delegated prefix is asked for over DHCPv6 on the WAN, but networks.wan.ipv6 is none; use dhcpv6 "
                "or slaac, or drop request_prefix_delegation",
            )
            problems.raise_if_any("WanNetwork")
        return self


class Networks(Facts):
    """The five networks; each on its own bridge or VLAN, their subnets apart."""

    wan: WanNetwork
    """the uplink to the ISP"""
    lan: InternalNetwork
    """the home network; it needs a gateway (the router)"""
    guest: InternalNetwork
    """the guests' network, usually isolation: internet_only"""
    management: InternalNetwork
    """the iDRACs' and Proxmox nodes' network, where the operator's machine serves the installer; it needs a gateway
    (the router), and reaches the networks without isolation"""
    storage: InternalNetwork
    """the storage network; usually without a gateway (not routed), where hosts may have an address"""

    def internal(self) -> Iterator[tuple[str, InternalNetwork]]:
        yield from (
            ("lan", self.lan),
            ("guest", self.guest),
            ("management", self.management),
            ("storage", self.storage),
        )

    def get_internal(self, name: str | None) -> InternalNetwork | None:
        return dict(self.internal()).get(name) if name is not None else None

    def segments(self) -> Iterator[tuple[str, str, int | None]]:
        """(network name, bridge, vlan) of every network."""
        yield "wan", self.wan.bridge, self.wan.vlan
        for name, network in self.internal():
            yield name, network.bridge, network.vlan

    def on_bridge(self, bridge: str) -> list[str]:
        return [name for name, segment_bridge, _ in self.segments() if segment_bridge == bridge]

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        problems = Problems()
        segments: dict[tuple[str, int | None], str] = {}
        for name, bridge, vlan in self.segments():
            # VLAN 1 and untagged are one segment on a VLAN-aware bridge (and VLANs need one).
            segment = (bridge, None if vlan == UNTAGGED_VLAN else vlan)
            if segment in segments:
                tagged = f" VLAN {vlan}" if vlan else ""
                same = " (untagged and VLAN 1 are one segment on a VLAN-aware bridge)" if vlan != segment[1] else ""
                problems.add(
                    (name, "bridge"), f"{bridge}{tagged} already carries the {segments[segment]} network{same}", bridge
                )
            segments.setdefault(segment, name)
        subnets: list[tuple[Location, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for name, network in self.internal():
            subnets.append(((name, "subnet"), network.subnet))
            if network.ipv6 is not None:
                subnets.append(((name, "ipv6", "subnet"), network.ipv6.subnet))
        if isinstance(self.wan.ipv4, StaticWan):
            subnets.append((("wan", "ipv4"), self.wan.ipv4.subnet))
        for index, (where, subnet) in enumerate(subnets):
            for other_where, other in subnets[:index]:
                if subnet.version == other.version and subnet.overlaps(other):
                    other_path = ".".join(str(part) for part in other_where)
                    problems.add(where, f"{subnet} overlaps {other} of networks.{other_path}", str(subnet))
        problems.raise_if_any("Networks")
        return self
