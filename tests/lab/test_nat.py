"""Leaving and entering the network: NAT to the internet behind the upstreams, and nothing in from the WAN."""

from __future__ import annotations

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import WEB_SERVER, Twin
from tests.lab.test_lan import tcp_probes


@pytest.fixture(scope="module")
def clients(twin: Twin) -> dict[str, str]:
    found = {}
    for name, network in (("nat-lan", "lan"), ("nat-guest", "guest")):
        namespace = twin.client(name, network)
        twin.dhcp_lease(namespace)
        found[network] = namespace
    return found


@pytest.mark.parametrize("network", ["lan", "guest"])
def test_clients_reach_the_internet_masqueraded_to_the_wan_address(
    twin: Twin, clients: dict[str, str], network: str
) -> None:
    assert twin.fetch(clients[network], f"http://{WEB_SERVER}/") == str(twin.router_wan)


def test_the_wan_cannot_open_connections_inside(twin: Twin, clients: dict[str, str]) -> None:
    upstream = twin.peer_ns(twin.stack.bgp.peers[0])
    lan_host = (
        netns.in_ns(clients["lan"], "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout.split()[3].split("/")[0]
    )
    netns.run(["ip", "-n", upstream, "route", "replace", "192.168.100.0/24", "via", str(twin.router_wan)])
    dropped_before = twin.drop_counter("forward: not allowed")
    # Inside, and the router's own services.
    targets = [(lan_host, 22), (str(twin.router_wan), 22), (str(twin.router_wan), 53)]
    assert tcp_probes(upstream, targets) == dict.fromkeys(targets, "dropped")
    assert twin.drop_counter("forward: not allowed") > dropped_before
