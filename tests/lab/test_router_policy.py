"""The router's policy against hosts and peers that misbehave, proven by traffic in the twin: spoofed sources never
leave (BCP 38), ICMP errors cross only where their flow does, an echo flood is answered at the limit's rate, a peer
leaking routes past its limit loses its session, a path no real route has is refused, and GTSM holds where the
upstream has it."""

from __future__ import annotations

import ipaddress
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from orion_infra.lab import netns
from orion_infra.lab.peers import Misbehaviour
from orion_infra.lab.twin import Twin

PORT = 9999
SOURCE_PORT = 40000  # fixed, so an ICMP error can quote the flow
LAN_PREFIX = ipaddress.IPv6Network("2602:f674:0:1000::/64")
GUEST_PREFIX = ipaddress.IPv6Network("2602:f674:0:2000::/64")

LISTENER = """
import select, socket, sys, time
sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]
sockets[1].setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
sockets[0].bind(("0.0.0.0", {port}))
sockets[1].bind(("::", {port}))
print("ready", flush=True)
end = time.monotonic() + {seconds}
while (left := end - time.monotonic()) > 0:
    for ready in select.select(sockets, [], [], left)[0]:
        data, address = ready.recvfrom(100)
        print(data.decode(), address[0], flush=True)
"""

# One datagram per (label, source, destination) triple of its arguments.
SENDER = """
import socket, sys
arguments = sys.argv[1:]
for label, source, destination in zip(arguments[::3], arguments[1::3], arguments[2::3]):
    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        udp.bind((source, {source_port}))
        udp.sendto(label.encode(), (destination, {port}))
"""

# An ICMPv6 packet-too-big (RFC 4443) about a UDP packet `inner_source` sent to `inner_destination`: what a router on
# the flow's path sends its source. The kernel fills in the ICMPv6 checksum.
PACKET_TOO_BIG = """
import ipaddress, socket, struct, sys
source, destination, inner_source, inner_destination = sys.argv[1:5]
udp = struct.pack("!HHHH", {source_port}, {port}, 8 + 1200, 0) + bytes(1200)
inner = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64)
inner += ipaddress.IPv6Address(inner_source).packed + ipaddress.IPv6Address(inner_destination).packed + udp
message = struct.pack("!BBHI", 2, 0, 0, 1280) + inner[:1232]
with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as icmp:
    icmp.bind((source, 0))
    icmp.sendto(message, (destination, 0))
"""

PACKET_TOO_BIG_WATCH = """
import select, socket, time
icmp = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
print("ready", flush=True)
end = time.monotonic() + {seconds}
while (left := end - time.monotonic()) > 0:
    if select.select([icmp], [], [], left)[0]:
        data, address = icmp.recvfrom(2000)
        if data[0] == 2:
            print("packet-too-big", address[0], flush=True)
"""

# 1000 echo requests on one echo id as fast as they go, then the replies counted for a second.
ECHO_FLOOD = """
import select, socket, struct, sys, time

destination = sys.argv[1]
version6 = ":" in destination
family, protocol = (socket.AF_INET6, socket.IPPROTO_ICMPV6) if version6 else (socket.AF_INET, socket.IPPROTO_ICMP)
request_type, reply_type = (128, 129) if version6 else (8, 0)

def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF

icmp = socket.socket(family, socket.SOCK_RAW, protocol)
icmp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
for sequence in range(1000):
    header = struct.pack("!BBHHH", request_type, 0, 0, 0x4F52, sequence) + bytes(16)
    if not version6:  # the kernel computes ICMPv6 checksums, not ICMP ones
        header = header[:2] + struct.pack("!H", checksum(header)) + header[4:]
    icmp.sendto(header, (destination, 0))
replies, end = 0, time.monotonic() + 1.5
while (left := end - time.monotonic()) > 0:
    if select.select([icmp], [], [], left)[0]:
        data = icmp.recv(2000)
        message = data if version6 else data[(data[0] & 0x0F) * 4 :]
        if message[0] == reply_type and message[4:6] == struct.pack("!H", 0x4F52):
            replies += 1
print(replies)
"""


@contextmanager
def watching(namespace: str, script: str) -> Iterator[list[str]]:
    """Runs `script` in `namespace` for the block (it prints `ready`, then what it saw); the lines it saw, after."""
    process = subprocess.Popen(
        ["ip", "netns", "exec", namespace, "python3", "-c", script],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    seen: list[str] = []
    try:
        yield seen
    finally:
        output, _ = process.communicate(timeout=30)
        seen.extend(output.splitlines())


def ip(namespace: str, *arguments: str) -> None:
    netns.run(["ip", "-n", namespace, *arguments])


def dual_stack_host(twin: Twin, name: str, network: str, prefix: ipaddress.IPv6Network, host: int) -> tuple[str, str]:
    """A host on `network` with its DHCP lease and an address of its /64 (as SLAAC gives it) with a default route
    to the router; its namespace and leased address."""
    namespace = twin.client(name, network)
    lease = twin.dhcp_lease(namespace)["ip"]  # first: the DHCP client's script flushes the interface's addresses
    ip(namespace, "-6", "addr", "add", f"{prefix.network_address + host}/64", "dev", "eth0", "nodad")
    ip(namespace, "-6", "route", "add", "default", "via", str(prefix.network_address + 1))
    return namespace, lease


def test_spoofed_sources_from_inside_never_reach_the_upstream(twin: Twin) -> None:
    """From a LAN host, only its own network's sources leave: not a documentation address, not a guest's, not an
    unassigned part of our /48, not another network's IPv4 (which NAT would otherwise have hidden)."""
    spoofer, lease = dual_stack_host(twin, "spoofer", "lan", LAN_PREFIX, 0x88)
    spoofed6 = ["2001:db8:bad::1", str(GUEST_PREFIX.network_address + 0x99), "2602:f674:0:ffff::1"]
    spoofed4 = ["192.168.200.99", "10.9.9.9"]
    for address in spoofed6:
        ip(spoofer, "-6", "addr", "add", f"{address}/128", "dev", "eth0", "nodad")
    for address in spoofed4:
        ip(spoofer, "addr", "add", f"{address}/32", "dev", "eth0")
    primary = twin.stack.bgp.peers[0]
    peer4, peer6 = str(primary.address), str(twin.peer_wan6(0))
    datagrams = [
        ("legit6", str(LAN_PREFIX.network_address + 0x88), peer6),
        ("legit4", lease, peer4),
        *((f"spoofed6-{index}", address, peer6) for index, address in enumerate(spoofed6)),
        *((f"spoofed4-{index}", address, peer4) for index, address in enumerate(spoofed4)),
    ]
    dropped_before = twin.drop_counter("prerouting: spoofed source")
    with watching(twin.peer_ns(primary), LISTENER.format(port=PORT, seconds=3)) as seen:
        netns.in_ns(
            spoofer,
            "python3",
            "-c",
            SENDER.format(port=PORT, source_port=SOURCE_PORT),
            *(part for datagram in datagrams for part in datagram),
        )
    assert sorted(line.split()[0] for line in seen) == ["legit4", "legit6"]
    assert twin.drop_counter("prerouting: spoofed source") - dropped_before == len(spoofed6) + len(spoofed4)


def test_icmp_errors_cross_the_router_only_on_their_flows_path(twin: Twin) -> None:
    """A LAN host's flow to the internet: a packet-too-big about it from the upstream (on the flow's path) reaches
    the host; the same error forged by a guest (conntrack relates it to the flow all the same) does not."""
    lan_host, _ = dual_stack_host(twin, "pmtu-lan", "lan", LAN_PREFIX, 0x89)
    guest, _ = dual_stack_host(twin, "pmtu-guest", "guest", GUEST_PREFIX, 0x89)
    primary = twin.stack.bgp.peers[0]
    upstream, peer6 = twin.peer_ns(primary), str(twin.peer_wan6(0))
    ip(upstream, "-6", "route", "replace", "2602:f674::/48", "via", str(twin.router_wan6))
    lan_address = str(LAN_PREFIX.network_address + 0x89)
    netns.in_ns(
        lan_host, "python3", "-c", SENDER.format(port=PORT, source_port=SOURCE_PORT), "flow", lan_address, peer6
    )
    dropped_before = twin.drop_counter("forward: related, not on the flow's path")
    guest_address = str(GUEST_PREFIX.network_address + 0x89)
    with watching(lan_host, PACKET_TOO_BIG_WATCH.format(seconds=3)) as seen:
        for namespace, source in ((guest, guest_address), (upstream, peer6)):
            netns.in_ns(
                namespace,
                "python3",
                "-c",
                PACKET_TOO_BIG.format(port=PORT, source_port=SOURCE_PORT),
                source,
                lan_address,
                lan_address,
                peer6,
            )
    assert seen == [f"packet-too-big {peer6}"]
    assert twin.drop_counter("forward: related, not on the flow's path") > dropped_before


@pytest.mark.parametrize("family", [4, 6])
def test_an_echo_flood_on_one_id_is_answered_at_the_limits_rate(twin: Twin, family: int) -> None:
    """1000 echo requests on one echo id (which conntrack calls established after the first reply) get the
    per-source burst and rate (20, then 10 a second), not 1000 replies."""
    flooder, _ = dual_stack_host(twin, f"flood{family}", "lan", LAN_PREFIX, 0x90 + family)
    router = "192.168.100.1" if family == 4 else str(LAN_PREFIX.network_address + 1)
    replies = int(netns.in_ns(flooder, "python3", "-c", ECHO_FLOOD, router).stdout)
    assert 1 <= replies <= 20 + 10 * 3


@pytest.mark.breaks_twin
def test_a_peer_leaking_routes_past_its_limit_loses_its_session(twin: Twin) -> None:
    """The primary sends 11 routes besides the default (its max_prefixes is 10): every one is filtered, and the
    session is torn down all the same (the limit counts what is sent); traffic moves to the secondary, and the
    session is back once the leak stops."""
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    assert primary.max_prefixes == 10
    protocol = twin.protocol(primary)
    twin.wait_for_primary()
    try:
        twin.misbehave(primary, Misbehaviour(leaked_routes=11))
        netns.wait_until(
            lambda: "Route limit exceeded" in twin.birdc("router", "show", "protocols", "all", protocol),
            timeout=20,
            failure=f"{protocol} was not torn down for exceeding its receive limit",
        )
        twin.default_route_moves(str(secondary.address), since=time.monotonic(), timeout=10)
        assert "198.18." not in twin.birdc("router", "show", "route", "table", "master4")
    finally:
        twin.misbehave(primary, Misbehaviour())
    twin.wait_for_primary()


@pytest.mark.breaks_twin
def test_a_default_route_with_an_impossible_path_is_refused(twin: Twin) -> None:
    """The primary's default with its AS 100 times more (a path of 101, over the cap of 100): refused, the session
    kept, traffic on the secondary; a path of 100 is accepted again."""
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    assert twin.stack.bgp.max_as_path_length == 100
    twin.wait_for_primary()
    try:
        twin.misbehave(primary, Misbehaviour(path_prepends=100))
        twin.default_route_moves(str(secondary.address), since=time.monotonic(), timeout=20)
        assert twin.sessions()[twin.protocol(primary)] == "Established"
        twin.misbehave(primary, Misbehaviour(path_prepends=99))
        twin.default_route_moves(str(primary.address), since=time.monotonic(), timeout=20)
    finally:
        twin.misbehave(primary, Misbehaviour())
    twin.wait_for_primary()


def test_gtsm_sessions_establish_with_upstreams_that_enforce_it(twin: Twin) -> None:
    """The secondary (BIRD) and the tertiary (FRR) drop BGP packets that arrive with a TTL below 255: their
    sessions are up, so the router sends with 255 there; the primary's, without GTSM, is up too."""
    peers = twin.stack.bgp.peers
    assert [peer.ttl_security for peer in peers] == [False, True, True]
    assert twin.runs_frr(peers[2])
    states = twin.sessions()
    assert {peer.name: states.get(twin.protocol(peer)) for peer in peers} == {
        peer.name: "Established" for peer in peers
    }
