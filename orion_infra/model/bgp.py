"""BGP: our autonomous system, the prefixes it originates and its upstream sessions."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from orion_infra.model.problems import Problems
from orion_infra.model.secrets import Secret
from orion_infra.model.types import Asn, Facts, Hostname, IPAny, IPv4, IPv4Cidr, IPv6Cidr, is_private_asn

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


def bogon_reason(prefix: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """Why `prefix` may not be announced on the internet, or None."""
    if isinstance(prefix, ipaddress.IPv6Network):
        if not prefix.subnet_of(_GLOBAL_UNICAST_V6):
            return f"{prefix} is outside global unicast space 2000::/3"
        bogons: list[ipaddress.IPv4Network] | list[ipaddress.IPv6Network] = BOGONS_V6
    else:
        bogons = BOGONS_V4
    for bogon in bogons:
        if prefix.overlaps(bogon):
            return f"{prefix} overlaps the bogon {bogon}"
    if prefix.prefixlen > LONGEST_ROUTABLE[prefix.version]:
        longest = LONGEST_ROUTABLE[prefix.version]
        return f"/{prefix.prefixlen} is longer than /{longest}, the longest IPv{prefix.version} prefix routed globally"
    return None


class PeerRole(StrEnum):
    """Preference order: traffic uses the primary while it is up, then a secondary, then a tertiary. Peers sharing a
    role share a preference (BGP's tie-breakers choose among them); there is at most one primary."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class BgpPeer(Facts):
    name: Hostname
    address: IPAny
    asn: Asn
    role: PeerRole
    description: str = ""
    multihop: Annotated[int, Field(ge=1, le=255)] | None = Field(
        default=None, description="eBGP multihop TTL; leave out for a directly connected peer"
    )
    bfd: bool = False
    ttl_security: bool = Field(
        default=False,
        description=(
            "GTSM (RFC 5082): send with TTL 255 and accept only packets that arrived with the TTL a peer `multihop`"
            " hops away sends; only where the upstream has it on too (a mismatch keeps the session down, and BIRD"
            " logs nothing specific)"
        ),
    )
    max_prefixes: Annotated[int, Field(ge=1, le=2_000_000)] = Field(
        description=(
            "per address family, routes the peer may send, those our filter rejects included; one more restarts the"
            " session (a leak), which comes back by itself after 5 s, then up to 5 minutes while it persists"
        )
    )
    password: Secret | None = Field(default=None, description="TCP-MD5 session password")
    hold_time: Annotated[int, Field(ge=3, le=65535)] = 90
    keepalive_time: Annotated[int, Field(ge=1, le=21845)] = 30

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
    port: Annotated[int, Field(ge=1, le=65535)] = 323


class Bgp(Facts):
    asn: Asn
    router_id: IPv4
    announce: Annotated[list[IPv6Cidr | IPv4Cidr], Field(min_length=1)]
    peers: Annotated[list[BgpPeer], Field(min_length=1)]
    accept_default_route_only: bool = Field(
        default=True, description="import only the default route from upstream (no full table)"
    )
    rpki: list[Rpki] = Field(default_factory=list)
    max_as_path_length: Annotated[int, Field(ge=1, le=255)] = Field(
        default=100,
        description="routes with a longer AS path are refused on import (NLNOG's BGP filter guide: 100 is safe)",
    )
    graceful_shutdown: bool = Field(default=True, description="honour the GRACEFUL_SHUTDOWN community (RFC 8326)")

    @field_validator("asn")
    @classmethod
    def _public(cls, asn: int) -> int:
        if is_private_asn(asn):
            raise ValueError(f"AS {asn} is a private AS number; announcing to the internet needs a public one")
        return asn

    @model_validator(mode="after")
    def _sessions(self) -> Self:
        problems = Problems()
        for index, prefix in enumerate(self.announce):
            if why := bogon_reason(prefix):
                problems.add(("announce", index), why, str(prefix))
        for index, peer in enumerate(self.peers):
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
        problems.raise_if_any("Bgp")
        return self
