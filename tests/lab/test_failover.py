"""Failover, measured: the primary upstream freezes (its BGP speaker and BFD stop answering) or crashes, and the
router's default route moves to the secondary, within BFD's detection time or at once; back, the primary takes over."""

from __future__ import annotations

import time

import pytest

from orion_infra.lab.twin import Twin

pytestmark = pytest.mark.breaks_twin


def test_a_frozen_primary_fails_over_within_a_second_with_bfd(twin: Twin) -> None:
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    assert primary.bfd
    assert twin.default_route_via() == str(primary.address)
    started = time.monotonic()
    with twin.frozen(primary):
        failover = twin.default_route_moves(str(secondary.address), since=started, timeout=5)
    print(f"failover after freezing the primary: {failover:.3f} s")
    assert failover < 1.0
    twin.wait_for_primary()


def test_a_crashed_primary_fails_over_at_once(twin: Twin) -> None:
    """A crash closes the TCP session (the kernel answers with a reset): no timer is involved."""
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    twin.wait_for_primary()
    started = time.monotonic()
    twin.stop_peer(primary)
    try:
        failover = twin.default_route_moves(str(secondary.address), since=started, timeout=5)
    finally:
        twin.start_peer(primary)
    print(f"failover after the primary crashed: {failover:.3f} s")
    assert failover < 1.0
    twin.wait_for_primary()
