"""The twin's inside: DHCP from the rendered Kea, and the isolation the rendered firewall promises."""

from __future__ import annotations

import ipaddress

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin


def tcp_probe(namespace: str, address: str, port: int) -> str:
    """'open', 'refused' (reached, nothing listens) or 'dropped' (no answer at all)."""
    script = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(('{address}', {port}), timeout=1.5); print('open')\n"
        "except ConnectionRefusedError: print('refused')\n"
        "except OSError: print('dropped')\n"
    )
    return netns.in_ns(namespace, "python3", "-c", script).stdout.strip()


def test_a_lan_client_gets_a_lease_from_the_pool(twin: Twin, lan_client: str) -> None:
    lease = twin.dhcp_lease(lan_client)
    pool = twin.stack.networks.lan.dhcp
    assert pool is not None
    assert pool.start <= ipaddress.IPv4Address(lease["ip"]) <= pool.end
    assert (lease["router"], lease["dns"], lease["domain"]) == ("192.168.100.1", "192.168.100.1", "orion.home.arpa")


def test_a_guest_client_gets_a_guest_lease(twin: Twin, guest_client: str) -> None:
    lease = twin.dhcp_lease(guest_client)
    pool = twin.stack.networks.guest.dhcp
    assert pool is not None
    assert pool.start <= ipaddress.IPv4Address(lease["ip"]) <= pool.end
    assert (lease["router"], lease["dns"], lease["lease"]) == ("192.168.200.1", "192.168.200.1", "3600")


def test_the_guest_is_kept_from_the_lan_and_the_routers_services(
    twin: Twin, lan_client: str, guest_client: str
) -> None:
    lan_address = twin.dhcp_lease(lan_client)["ip"]
    twin.dhcp_lease(guest_client)
    dropped_before = twin.drop_counter("forward: not allowed")
    assert tcp_probe(guest_client, lan_address, 80) == "dropped"
    assert twin.drop_counter("forward: not allowed") > dropped_before
    assert tcp_probe(guest_client, "192.168.200.1", 22) == "dropped"
    assert tcp_probe(guest_client, "192.168.200.1", 9100) == "dropped"
    assert tcp_probe(guest_client, "192.168.1.1", 22) == "dropped"
    # The same probe works: from the LAN, DNS over TCP reaches the router's resolver.
    assert tcp_probe(lan_client, "192.168.100.1", 53) == "open"


def test_the_management_network_reaches_the_routers_ssh(twin: Twin) -> None:
    """The router's SSH (the agent's way in) answers the management network; a guest's probe is dropped."""
    assert tcp_probe(twin.host_ns, "192.168.1.1", 22) == "open"
    assert tcp_probe(twin.host_ns, "192.168.100.1", 22) == "open"
