"""Failover, measured: the primary upstream freezes (its BGP speaker and BFD stop answering) and the router's default
route moves to the secondary within BFD's detection time; thawed, the primary takes over again."""

from __future__ import annotations

import time

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin


def test_a_frozen_primary_fails_over_within_a_second_with_bfd(twin: Twin) -> None:
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    assert primary.bfd
    assert twin.default_route_via() == str(primary.address)
    frozen = twin.speaker_pids(primary)
    started = time.monotonic()
    for pid in frozen:
        netns.run(["kill", "-STOP", pid])
    try:
        while twin.default_route_via() != str(secondary.address):
            assert time.monotonic() - started < 5, f"default route still via {twin.default_route_via()}"
            time.sleep(0.01)
        failover = time.monotonic() - started
        print(f"failover after freezing the primary: {failover:.3f} s")
        assert failover < 1.0
    finally:
        for pid in frozen:
            netns.run(["kill", "-CONT", pid])
    twin.wait_for_sessions(timeout=60)
    deadline = time.monotonic() + 30
    while twin.default_route_via() != str(primary.address):
        assert time.monotonic() < deadline, "the primary did not take the default route back"
        time.sleep(0.1)


def test_a_crashed_primary_fails_over_at_once(twin: Twin) -> None:
    """A crash closes the TCP session (the kernel answers with a reset): no timer is involved."""
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    twin.wait_for_sessions(timeout=60)
    assert twin.default_route_via() == str(primary.address)
    started = time.monotonic()
    twin.stop_peer(primary)
    try:
        while twin.default_route_via() != str(secondary.address):
            assert time.monotonic() - started < 5, f"default route still via {twin.default_route_via()}"
            time.sleep(0.01)
        print(f"failover after the primary crashed: {time.monotonic() - started:.3f} s")
    finally:
        twin.start_peer(primary)
    twin.wait_for_sessions(timeout=60)
    deadline = time.monotonic() + 30
    while twin.default_route_via() != str(primary.address):
        assert time.monotonic() < deadline, "the primary did not take the default route back"
        time.sleep(0.1)
