"""The upstreams' side of the lab's BGP sessions: BIRD for some peers, FRR for one (a second implementation)."""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass

from orion_infra.model.bgp import BgpPeer

LEAK_V4 = ipaddress.IPv4Network("198.18.0.0/16")  # where a leaking peer's routes come from (benchmarking space)


@dataclass(frozen=True)
class Misbehaviour:
    """What an upstream does wrong: routes it should not send (a leak), and how often it prepends its AS to the
    default route (a path no real route has)."""

    leaked_routes: int = 0
    path_prepends: int = 0


def bird_peer(
    peer: BgpPeer,
    *,
    local_asn: int,
    router_address: str,
    password: str,
    log: str,
    misbehaviour: Misbehaviour = Misbehaviour(),
) -> str:
    bfd = "  bfd on;\n" if peer.bfd else ""
    ttl_security = "  ttl security on;\n" if peer.ttl_security else ""
    leaked = list(itertools.islice(LEAK_V4.subnets(new_prefix=24), misbehaviour.leaked_routes))
    leak = "".join(f"  route {prefix} blackhole;\n" for prefix in leaked)
    prepends = f"bgp_path.prepend({peer.asn}); " * misbehaviour.path_prepends
    bfd_protocol = (
        'protocol bfd { interface "wan" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }\n'
        if peer.bfd
        else ""
    )
    return f"""log "{log}" all;
router id {peer.address};
protocol device {{}}
protocol static default4 {{ ipv4; route 0.0.0.0/0 blackhole; }}
protocol static default6 {{ ipv6; route ::/0 blackhole; }}
protocol static leak4 {{
  ipv4;
{leak}}}
filter to_orion {{
  if proto = "default4" || proto = "default6" then {{ {prepends}accept; }}
  if proto = "leak4" then accept;
  reject;
}}
{bfd_protocol}protocol bgp orion {{
  local {peer.address} as {peer.asn};
  neighbor {router_address} as {local_asn};
  password "{password}";
  hold time {peer.hold_time};
  connect delay time 1;  # an upstream that is ready calls at once (BIRD waits 5 s by default)
  error wait time 1, 10;  # and takes a restarted customer back at once (BIRD waits 60 s by default)
  keepalive time {peer.keepalive_time};
{bfd}{ttl_security}  ipv4 {{ import all; export filter to_orion; }};
  ipv6 {{ import all; export filter to_orion; }};
}}
"""


def frr_bfd(peer: BgpPeer, router_address: str) -> str:
    """BFD configured on its own, as providers do: up before BGP, and the session the router's BIRD watches."""
    if not peer.bfd:
        return ""
    return f"""bfd
 peer {router_address} local-address {peer.address}
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 exit
exit
"""


def frr_peer(peer: BgpPeer, local_asn: int, router_address: str, password: str) -> str:
    ttl_security = f" neighbor {router_address} ttl-security hops 1\n" if peer.ttl_security else ""
    # No `neighbor ... bfd`: BFD runs as its own session (frr_bfd), which is what the router's BIRD watches. Tied to
    # BGP, FRR 8.4 re-registers it once the connection's local address is known, and BIRD, seeing the session
    # restart, drops the first BGP session and waits its `error wait time` before the next. `timers connect 1`: an
    # upstream that is ready calls at once, as the BIRD peers' `connect delay time 1` (FRR retries after 120 s).
    return f"""frr defaults traditional
hostname {peer.name}
router bgp {peer.asn}
 bgp router-id {peer.address}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor {router_address} remote-as {local_asn}
 neighbor {router_address} password {password}
 neighbor {router_address} timers {peer.keepalive_time} {peer.hold_time}
 neighbor {router_address} timers connect 1
{ttl_security} address-family ipv4 unicast
  neighbor {router_address} default-originate
 exit-address-family
 address-family ipv6 unicast
  neighbor {router_address} activate
  neighbor {router_address} default-originate
 exit-address-family
"""
