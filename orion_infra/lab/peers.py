"""The upstreams' side of the lab's BGP sessions: BIRD for some peers, FRR for one (a second implementation)."""

from __future__ import annotations

from orion_infra.model.bgp import BgpPeer


def bird_peer(peer: BgpPeer, *, local_asn: int, router_address: str, password: str, log: str) -> str:
    bfd = "  bfd on;\n" if peer.bfd else ""
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
{bfd_protocol}protocol bgp orion {{
  local {peer.address} as {peer.asn};
  neighbor {router_address} as {local_asn};
  password "{password}";
  hold time {peer.hold_time};
  connect delay time 1;  # an upstream that is ready calls at once (BIRD waits 5 s by default)
  error wait time 1, 10;  # and takes a restarted customer back at once (BIRD waits 60 s by default)
  keepalive time {peer.keepalive_time};
{bfd}  ipv4 {{ import all; export where proto = "default4"; }};
  ipv6 {{ import all; export where proto = "default6"; }};
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
    # No `neighbor ... bfd`: BFD runs as its own session (frr_bfd), which is what the router's BIRD watches. Tied to
    # BGP, FRR 8.4 re-registers it once the connection's local address is known, and BIRD, seeing the session
    # restart, drops the first BGP session and waits its `error wait time` before the next.
    return f"""frr defaults traditional
hostname {peer.name}
router bgp {peer.asn}
 bgp router-id {peer.address}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor {router_address} remote-as {local_asn}
 neighbor {router_address} password {password}
 neighbor {router_address} timers {peer.keepalive_time} {peer.hold_time}
 address-family ipv4 unicast
  neighbor {router_address} default-originate
 exit-address-family
 address-family ipv6 unicast
  neighbor {router_address} activate
  neighbor {router_address} default-originate
 exit-address-family
"""
