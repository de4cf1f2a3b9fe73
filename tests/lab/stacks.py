"""The stacks the lab runs: the operator's default stack, on a faster clock, and variants of it."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin
from orion_infra.model import load_stack, read_stack_file
from orion_infra.model.stack import OrionStack
from tests.fixtures.invalid_cases import DEFAULT_STACK, TODAY

AGENT_KEY_SECRET = "sshAgentKey"


def lab_stack(
    *,
    extra_peers: Sequence[dict[str, Any]] = (),
    bgp_secrets: Sequence[str] = (),
    peer_changes: Mapping[str, Any] | None = None,
    scrape_interval_seconds: int = 1,
) -> OrionStack:
    """The default stack with scrapes every second (unless told) and notifications without batching, so alerts fire and resolve
    within seconds (same renderers, same rules, same addresses); `extra_peers` are added to its BGP peers as the
    stack file writes them, with the secret keys they refer to; `peer_changes` are set on every peer. The secondary
    and tertiary upstreams have TTL security."""
    raw = read_stack_file(DEFAULT_STACK)
    operators = raw.values["monitoring"]
    bgp_section = raw.values["bgp"]
    assert isinstance(operators, dict)
    assert isinstance(bgp_section, dict)
    monitoring = {
        **operators,
        "scrape_interval_seconds": scrape_interval_seconds,
        "alert_grouping": {"wait_seconds": 1, "interval_seconds": 2},
    }
    peers = [{**peer, **(peer_changes or {})} for peer in [*bgp_section["peers"], *extra_peers]]
    # GTSM on the secondary (BIRD) and the tertiary (FRR), as upstreams that offer it: both implementations, and
    # the primary without it.
    for peer in peers[1:3]:
        peer.setdefault("ttl_security", True)
    bgp = {**bgp_section, "peers": peers}
    # The agent acts in the lab: its key (the twin makes one) is in the stack, as an operator's would be.
    access = {**raw.values["access"], "agent_key": {"secret": AGENT_KEY_SECRET}}  # type: ignore[dict-item]
    values = {**raw.values, "monitoring": monitoring, "bgp": bgp, "access": access}
    raw = dataclasses.replace(raw, values=values, secret_keys=raw.secret_keys | set(bgp_secrets) | {AGENT_KEY_SECRET})
    stack, _ = load_stack(raw, today=datetime.date.fromisoformat(TODAY))
    return stack


def new_twin(stack: OrionStack, name: str) -> Twin:
    """The twin called `name` (not up yet), where `orion lab status|down --name NAME` finds it; its own name keeps it
    apart from an operator's twin and from the other tests' ones."""
    return Twin.named(stack, name)


@contextmanager
def running_twin(stack: OrionStack, name: str) -> Iterator[Twin]:
    """A twin that is up with every session Established, and is gone (namespaces and files) afterwards."""
    lab = new_twin(stack, name)
    root = lab.root
    try:
        lab.up()
        lab.wait_for_sessions(timeout=40)
        yield lab
    finally:
        lab.down()
    assert netns.namespaces(f"{lab.prefix}-") == []
    assert not root.exists()
