"""A renderer change proven in the twin: a fourth upstream added to the stack model is configured on the router,
admitted by its firewall, and establishes."""

from __future__ import annotations

from orion_infra.lab import netns
from tests.lab.stacks import lab_stack, running_twin

FOURTH = {
    "name": "he-fremont",
    "address": "206.75.1.49",
    "asn": 6939,
    "role": "tertiary",
    "bfd": True,
    "max_prefixes": 10,
    "password": {"secret": "bgpPasswordHeFremont"},
}


def test_a_fourth_peer_establishes_and_gets_our_prefix() -> None:
    stack = lab_stack(extra_peers=[FOURTH], bgp_secrets=["bgpPasswordHeFremont"])
    assert len(stack.bgp.peers) == 4
    with running_twin(stack, "fourth") as twin:
        assert twin.sessions() == {
            "he_primary": "Established",
            "he_secondary": "Established",
            "he_tertiary": "Established",
            "he_fremont": "Established",
        }
        fourth = stack.bgp.peers[-1]
        assert twin.runs_frr(fourth)  # the last peer runs FRR: the new one talks to a second implementation
        assert twin.peer_received(fourth) == {"2602:f674::/48"}
        ruleset = netns.in_ns(twin.router_ns, "nft", "list", "ruleset").stdout
        assert "206.75.1.49" in ruleset
