"""BGP: our autonomous system, the prefixes it originates and its upstream sessions."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from orion_infra.model.problems import Problems
from orion_infra.model.secrets import Secret
from orion_infra.model.types import (
    Asn,
    Facts,
    Hostname,
    IPAny,
    IPv4,
    IPv4Cidr,
    IPv6Cidr,
    is_private_asn,
    not_unicast_reason,
    require_remote_unicast,
)

# Address space that must never be announced (RFC 6890 and the IANA special-purpose registries). IPv6 outside
# 2000::/3 is unallocated global unicast and is rejected separately.
BOGONS_V6 = [
    ipaddress.IPv6Network(prefix)
    for prefix in (
        "::/8",
        "100::/64",
        "2001:2::/48",
        "2001:10::/28",
        "2001:db8::/32",
        "2002::/16",
        "3ffe::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
        "3fff::/20",
    )
]
BOGONS_V4 = [
    ipaddress.IPv4Network(prefix)
    for prefix in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
# Longest prefixes the default-free zone accepts.
LONGEST_ROUTABLE = {4: 24, 6: 48}
# An end site's assignment from a RIR (IPv6: RFC 6177, ARIN NRPM 6.5.8, RIPE-738; IPv4: the /24 PI minimum): what a
# stack without `bgp.allocations` is taken to hold (decision 0032).
END_SITE = {4: 24, 6: 48}
# Symbols ORION's BIRD configuration defines itself, or BIRD names its unnamed protocols; a session is named after
# its peer ('-' becoming '_'), so a peer may not take one of these names.
BIRD_SYMBOLS = frozenset(
    {"upstream", "kernel4", "kernel6", "originate4", "originate6", "device1", "bfd1"}
    | {"acceptable_from_upstream", "has_bogon_asn", "ours_to_announce"}
)


def bogon_reason(prefix: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """Why `prefix` may not be announced on the internet, or None."""
    if why := special_purpose_reason(prefix):
        return why
    if prefix.prefixlen > LONGEST_ROUTABLE[prefix.version]:
        longest = LONGEST_ROUTABLE[prefix.version]
        return f"/{prefix.prefixlen} is longer than /{longest}, the longest IPv{prefix.version} prefix routed globally"
    return None


def special_purpose_reason(prefix: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """Why `prefix` is not global unicast space a RIR allocates, or None."""
    if isinstance(prefix, ipaddress.IPv6Network):
        if not prefix.subnet_of(_GLOBAL_UNICAST_V6):
            return f"{prefix} is outside global unicast space 2000::/3"
        bogons: list[ipaddress.IPv4Network] | list[ipaddress.IPv6Network] = BOGONS_V6
    else:
        bogons = BOGONS_V4
    for bogon in bogons:
        if prefix.overlaps(bogon):
            return f"{prefix} overlaps the bogon {bogon}"
    return None


class PeerRole(StrEnum):
    """Preference order: traffic uses the primary while it is up, then a secondary, then a tertiary. Peers sharing a
    role share a preference (BGP's tie-breakers choose among them); there is at most one primary."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class BgpPeer(Facts):
    """An upstream eBGP session."""

    name: Hostname
    """the peer's name, unique among peers; BIRD names the session after it ('-' becoming '_'), so it starts with a
    letter and is none of the names ORION's BIRD configuration uses (upstream, kernel4, rpki1, ...)"""
    address: IPAny
    """the peer's IPv4 or IPv6 address, unique: a unicast address on the WAN (on its IPv4 subnet, with a static WAN
    address, unless multihop), not link-local, not inside our networks or announced prefixes, not the router_id;
    an IPv6 peer needs networks.wan.ipv6"""
    asn: Asn
    """the peer's AS number: public (not private or reserved) and not our own"""
    role: PeerRole
    """primary, secondary or tertiary: routes from it get local preference 300, 200 or 100, and our announcements to
    it carry our AS 0, 1 or 2 extra times; at most one primary"""
    description: str = ""
    """one line of printable text, a comment above the session in BIRD's configuration (the name when empty)"""
    multihop: Annotated[int, Field(ge=1, le=255)] | None = None
    """eBGP multihop TTL, 1 to 255, for a peer that is not directly connected (the session's source is the static
    WAN address, if any); leave out for a directly connected peer"""
    bfd: bool = False
    """run BFD on the session, so a dead path takes the session down after 3 missed 100 ms probes instead of the
    hold time; on a multihop session it needs a static WAN address"""
    ttl_security: bool = False
    """GTSM (RFC 5082): send with TTL 255 and accept only packets that arrived with the TTL a peer `multihop` hops
    away sends; only where the upstream has it on too (a mismatch keeps the session down, and BIRD logs nothing
    specific)"""
    max_prefixes: Annotated[int, Field(ge=1, le=2_000_000)]
    """per address family, routes the peer may send, those our filter rejects included; one more restarts the
    session (a leak), which comes back by itself after 5 s, then up to 5 minutes while it persists"""
    password: Secret | None = None
    """TCP-MD5 session password as a secret reference: 1 to 80 bytes of printable ASCII without " or \\; none
    for a session without one"""
    hold_time: Annotated[int, Field(ge=3, le=65535)] = 90
    """BGP hold time in seconds, 3 to 65535: a session that hears nothing for this long goes down"""
    keepalive_time: Annotated[int, Field(ge=1, le=21845)] = 30
    """seconds between keepalives, 1 to 21845, at most a third of hold_time"""

    @field_validator("name")
    @classmethod
    def _bird_symbol(cls, name: str) -> str:
        symbol = name.replace("-", "_")
        if name[0].isdigit():
            raise ValueError(
                f"{name!r} starts with a digit; BIRD names the session after the peer, and its names start with a "
                "letter"
            )
        if symbol in BIRD_SYMBOLS or re.fullmatch(r"rpki[0-9]+", symbol):
            raise ValueError(f"{name!r} is a name ORION's BIRD configuration already uses; name the peer otherwise")
        return name

    @field_validator("address")
    @classmethod
    def _unicast(
        cls, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return require_remote_unicast(address, no_interface="the session", what="a BGP peer is a unicast address")

    @field_validator("description")
    @classmethod
    def _one_line(cls, description: str) -> str:
        if any(not character.isprintable() for character in description):
            raise ValueError(
                "expected one line of printable text (it becomes a comment in BIRD's configuration, where a line "
                "break would start configuration)"
            )
        return description

    @model_validator(mode="after")
    def _timers(self) -> Self:
        if self.keepalive_time * 3 > self.hold_time:
            problems = Problems()
            problems.add(
                ("keepalive_time",),
                f"{self.keepalive_time}s is more than a third of the hold time {self.hold_time}s",
                self.keepalive_time,
            )
            problems.raise_if_any("BgpPeer")
        return self


class Rpki(Facts):
    """An RPKI-to-router (RFC 8210) cache for route origin validation."""

    address: IPAny
    """the cache's IPv4 or IPv6 address: unicast, not link-local, outside every DHCP pool (the router runs none
    itself)"""
    port: Annotated[int, Field(ge=1, le=65535)] = 323
    """the cache's RTR port (323 is RTR over plain TCP); each address and port once"""

    @field_validator("address")
    @classmethod
    def _reachable(
        cls, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return require_remote_unicast(
            address,
            no_interface="BIRD's rpki protocol",
            what="an RPKI cache is a unicast address the router reaches (it runs none itself)",
        )


class Bgp(Facts):
    """Our autonomous system on the router (BIRD): what it announces, to whom, and what it accepts."""

    asn: Asn
    """our AS number: a public one (not private, reserved or for documentation)"""
    router_id: IPv4
    """the BGP identifier: a unicast IPv4 address of the router (not 0.0.0.0, not a peer's)"""
    announce: Annotated[list[IPv6Cidr | IPv4Cidr], Field(min_length=1)]
    """the prefixes we originate, each once: globally routable (no bogon, at most /24 for IPv4 and /48 for IPv6) and
    inside our allocations. The networks' IPv6 /64s come from these"""
    allocations: list[IPv6Cidr | IPv4Cidr] = Field(default_factory=list)
    """the blocks the RIR assigned to our AS (its whois, its ROAs); every announced prefix lies inside one. Without
    any for a family, an announced prefix of it is taken to be an end site's assignment: a /48 (IPv6) or /24
    (IPv4), nothing shorter (decision 0032)"""
    peers: Annotated[list[BgpPeer], Field(min_length=1)]
    """the upstream sessions, at least one; names and addresses unique"""
    accept_default_route_only: bool = True
    """import only the default route from upstream (no full table); false accepts any routable prefix (no bogon,
    IPv4 up to /24, IPv6 up to /48)"""
    rpki: list[Rpki] = Field(default_factory=list)
    """RPKI caches: with any, routes whose origin is RPKI-invalid are refused on import; none: no origin
    validation"""
    max_as_path_length: Annotated[int, Field(ge=1, le=255)] = 100
    """routes with a longer AS path are refused on import, 1 to 255 (NLNOG's BGP filter guide: 100 is safe)"""
    graceful_shutdown: bool = True
    """honour the GRACEFUL_SHUTDOWN community (RFC 8326): a route carrying it gets the least local preference, so
    traffic leaves a peer that is about to go down"""

    @field_validator("asn")
    @classmethod
    def _public(cls, asn: int) -> int:
        if is_private_asn(asn):
            raise ValueError(f"AS {asn} is a private AS number; announcing to the internet needs a public one")
        return asn

    @field_validator("router_id")
    @classmethod
    def _identifier(cls, router_id: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
        if int(router_id) == 0:
            raise ValueError("0.0.0.0 is not a BGP identifier (RFC 6286: non-zero); use one of the router's addresses")
        # RFC 6286 allows any non-zero 32 bits, but RFC 4271 has the identifier be a unicast address of the speaker,
        # and peers still check it so (FRR refuses 224.0.0.0 and up): an id no router could hold is a mistake.
        if why := not_unicast_reason(router_id):
            raise ValueError(
                f"{why}: a BGP identifier is a unicast address of the router (RFC 4271; peers such as FRR "
                "refuse a multicast or reserved one with Bad BGP Identifier); use one of the router's addresses"
            )
        return router_id

    @model_validator(mode="after")
    def _sessions(self) -> Self:
        problems = Problems()
        for index, allocation in enumerate(self.allocations):
            if why := special_purpose_reason(allocation):
                problems.add(("allocations", index), why, str(allocation))
        problems.require_unique((("allocations", index), str(block)) for index, block in enumerate(self.allocations))
        problems.require_unique((("announce", index), str(prefix)) for index, prefix in enumerate(self.announce))
        for index, prefix in enumerate(self.announce):
            if why := bogon_reason(prefix) or self._outside_allocations(prefix):
                problems.add(("announce", index), why, str(prefix))
        for index, peer in enumerate(self.peers):
            if peer.address == self.router_id:
                problems.add(
                    ("router_id",),
                    f"{self.router_id} is the address of peer {peer.name}: the router id names our router, and a "
                    "peer whose own identifier it is refuses the session (Bad BGP Identifier); use one of the "
                    "router's addresses",
                    str(self.router_id),
                )
            ours = next((prefix for prefix in self.announce if peer.address in prefix), None)
            if ours is not None:
                problems.add(
                    ("peers", index, "address"),
                    f"{peer.address} is inside our own prefix {ours}: the router drops it from the WAN (our space "
                    "does not come from outside) and routes it nowhere",
                    str(peer.address),
                )
            if peer.asn == self.asn:
                problems.add(
                    ("peers", index, "asn"), f"AS {peer.asn} is our own AS; eBGP peers need a different one", peer.asn
                )
            elif is_private_asn(peer.asn):
                problems.add(
                    ("peers", index, "asn"), f"AS {peer.asn} is private; upstreams use public AS numbers", peer.asn
                )
        for field in ("name", "address"):
            problems.require_unique(
                (("peers", index, field), getattr(peer, field)) for index, peer in enumerate(self.peers)
            )
        problems.require_unique(
            (("peers", index, "role"), peer.role)
            for index, peer in enumerate(self.peers)
            if peer.role == PeerRole.PRIMARY
        )
        problems.require_unique(
            (("rpki", index), f"{cache.address}:{cache.port}") for index, cache in enumerate(self.rpki)
        )
        problems.raise_if_any("Bgp")
        return self

    def _outside_allocations(self, prefix: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
        """Why announcing `prefix` would claim addresses our AS does not hold, or None."""
        blocks = [block for block in self.allocations if block.version == prefix.version]
        if blocks:
            if any(prefix.version == block.version and prefix.subnet_of(block) for block in blocks):  # type: ignore[arg-type]
                return None
            held = ", ".join(str(block) for block in blocks)
            return f"{prefix} is not inside our allocations ({held}); announcing it would take others' addresses"
        if prefix.prefixlen < END_SITE[prefix.version]:
            return (
                f"{prefix} is shorter than /{END_SITE[prefix.version]}, an end site's assignment: announcing more than "
                f"AS {self.asn} holds takes other networks' addresses; if the RIR assigned it a larger block, list "
                "it in bgp.allocations"
            )
        return None
