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
    mac: MacAddress
    address: IPv4


class DhcpPool(Facts):
    start: IPv4
    end: IPv4
    lease_seconds: Annotated[int, Field(ge=300, le=604800)] = 86400
    reservations: list[DhcpReservation] = Field(default_factory=list)

    def __contains__(self, address: object) -> bool:
        return isinstance(address, ipaddress.IPv4Address) and self.start <= address <= self.end

    @property
    def size(self) -> int:
        return int(self.end) - int(self.start) + 1


class Ipv6Subnet(Facts):
    """An IPv6 /64 carved from the announced prefix, advertised to hosts with router advertisements."""

    subnet: IPv6Cidr


class InternalNetwork(Facts):
    """A network behind the router (or, without a gateway, one it does not route, like storage)."""

    bridge: BridgeName
    vlan: VlanId | None = None
    subnet: IPv4Cidr
    gateway: IPv4 | None = Field(default=None, description="the router's address here; none if not routed")
    dhcp: DhcpPool | None = None
    ipv6: Ipv6Subnet | None = None
    isolation: Literal["none", "internet_only"] = Field(
        default="none", description="internet_only: clients reach the WAN and the router's DHCP/DNS, nothing else"
    )

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
    address: IPv4
    prefix_length: Annotated[int, Field(ge=8, le=32)]
    gateway: IPv4

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
    vlan: VlanId | None = None
    ipv4: WanAddressing
    ipv6: Literal["slaac", "dhcpv6", "none"] = "dhcpv6"
    request_prefix_delegation: bool = Field(
        default=False, description="ask the ISP for a delegated prefix via DHCPv6-PD (the LANs use our own /48)"
    )
    mtu: Annotated[int, Field(ge=1280, le=9000)] = 1500
    bandwidth_mbps: PositiveInt | None = Field(
        default=None, description="the line rate bought from the ISP; defaults to the WAN NIC's speed"
    )

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
    wan: WanNetwork
    lan: InternalNetwork
    guest: InternalNetwork
    management: InternalNetwork
    storage: InternalNetwork

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
