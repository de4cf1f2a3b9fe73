"""The twin's WAN side, for real: the rendered BIRD configuration against BIRD and FRR upstreams in network
namespaces, with the rendered firewall loaded."""

from __future__ import annotations

from pathlib import Path

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin

OUR_PREFIX = "2602:f674::/48"


def test_every_session_is_established_with_bird_and_frr(twin: Twin) -> None:
    assert twin.sessions() == {"he_primary": "Established", "he_secondary": "Established", "he_tertiary": "Established"}
    frr_peer = twin.stack.bgp.peers[-1]
    assert twin.runs_frr(frr_peer)
    pids = netns.run(["ip", "netns", "pids", twin.peer_ns(frr_peer)]).stdout.split()
    assert {"zebra", "bfdd", "bgpd"} <= {Path(f"/proc/{pid}/comm").read_text().strip() for pid in pids}


def test_each_peer_receives_exactly_our_prefix(twin: Twin) -> None:
    for peer in twin.stack.bgp.peers:
        assert twin.peer_received(peer) == {OUR_PREFIX}, peer.name


def test_the_router_installs_the_primarys_default_route(twin: Twin) -> None:
    primary = next(peer for peer in twin.stack.bgp.peers if peer.role.value == "primary")
    routes4 = netns.in_ns(twin.router_ns, "ip", "-4", "route", "show", "default").stdout
    assert f"default via {primary.address} dev wan proto bird" in routes4
    routes6 = netns.in_ns(twin.router_ns, "ip", "-6", "route", "show", "default").stdout
    assert "default via" in routes6
    assert "proto bird" in routes6


def test_a_session_from_a_stranger_is_refused(twin: Twin) -> None:
    stranger = f"{twin.prefix}-stranger"
    netns.run(["ip", "netns", "add", stranger])
    try:
        netns.veth_to_switch(stranger, "wan", twin.switch_ns, "wan", "stranger")
        netns.run(
            [
                "ip",
                "-n",
                stranger,
                "addr",
                "add",
                f"{twin.wan_subnet.network_address + 99}/{twin.wan_subnet.prefixlen}",
                "dev",
                "wan",
            ]
        )
        dropped_before = twin.drop_counter("input: not allowed")
        probe = netns.in_ns(
            stranger,
            "python3",
            "-c",
            f"import socket; socket.create_connection(('{twin.router_wan}', 179), timeout=2)",
            check=False,
        )
        assert probe.returncode != 0
        assert "timed out" in probe.stderr  # dropped by the firewall, not even refused
        assert twin.drop_counter("input: not allowed") > dropped_before
        assert all(state == "Established" for state in twin.sessions().values())
    finally:
        netns.destroy(stranger)
