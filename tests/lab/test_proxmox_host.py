"""The Proxmox host in the twin, as its first-boot hook leaves it: it bridges the LAN, the guest network and the WAN
without being reachable from any of them, over IPv4 or IPv6, routed through the router or sent straight over the
host's own bridge; the management network reaches its services."""

from __future__ import annotations

import ipaddress

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import PVEPROXY_PORT, Twin
from orion_infra.model import ports
from tests.lab.test_lan import tcp_probe, tcp_probes

HOST_PORTS = (ports.SSH, PVEPROXY_PORT, 9100, 111)


def link_local(twin: Twin, bridge: str) -> str:
    """The address the kernel would have given the host's `bridge` (EUI-64 from its MAC), scoped for a client."""
    mac = netns.in_ns(twin.host_ns, "cat", f"/sys/class/net/{bridge}/address").stdout.strip()
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui64 = bytes([*octets[:3], 0xFF, 0xFE, *octets[3:]])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui64))


def test_the_host_has_no_address_but_on_management(twin: Twin) -> None:
    addresses = netns.in_ns(twin.host_ns, "ip", "-o", "addr", "show").stdout.splitlines()
    assert [(line.split()[1], line.split()[3]) for line in addresses if " lo " not in f" {line.split()[1]} "] == [
        ("vmbr0", "192.168.1.10/24")
    ]


def outsider(twin: Twin, name: str, network: str, address: str) -> str:
    """A host on `network` with a static address and its link-local one ready (no DHCP client, whose script
    flushes the interface)."""
    namespace = twin.client(name, network)
    netns.run(["ip", "-n", namespace, "addr", "add", address, "dev", "eth0"])
    netns.wait_until(
        lambda: (
            "tentative" not in netns.in_ns(namespace, "ip", "-6", "addr", "show", "dev", "eth0").stdout
            and "fe80::" in netns.in_ns(namespace, "ip", "-6", "addr", "show", "dev", "eth0").stdout
        ),
        timeout=10,
        failure=f"{name} has no link-local address",
    )
    return namespace


@pytest.fixture(scope="module")
def outsiders(twin: Twin) -> dict[str, tuple[str, str]]:
    """A LAN host, a guest and the upstream on the WAN, each on the segment of one of the host's bridges."""
    upstream = twin.peer_ns(twin.stack.bgp.peers[0])
    return {
        "vmbr1": (outsider(twin, "out-lan", "lan", "192.168.100.201/24"), "eth0"),
        "vmbr2": (outsider(twin, "out-guest", "guest", "192.168.200.201/24"), "eth0"),
        "vmbr4": (upstream, "wan"),
    }


def received(twin: Twin, bridge: str) -> int:
    """Packets the host's `bridge` has received."""
    return int(netns.in_ns(twin.host_ns, "cat", f"/sys/class/net/{bridge}/statistics/rx_packets").stdout)


@pytest.mark.parametrize("bridge", ["vmbr1", "vmbr2", "vmbr4"])
def test_no_outsider_reaches_any_port_of_the_host(
    twin: Twin, outsiders: dict[str, tuple[str, str]], bridge: str
) -> None:
    """Straight over the host's own bridge, with the management address on-link and the bridge's MAC known (no ARP
    needed, none answered), and at the link-local address the bridge would have had: frames arrive, nothing
    answers."""
    namespace, interface = outsiders[bridge]
    mac = netns.in_ns(twin.host_ns, "cat", f"/sys/class/net/{bridge}/address").stdout.strip()
    host = str(twin.host_address)
    netns.run(["ip", "-n", namespace, "route", "replace", f"{host}/32", "dev", interface])
    netns.run(["ip", "-n", namespace, "neigh", "replace", host, "lladdr", mac, "dev", interface])
    scoped = f"{link_local(twin, bridge)}%{interface}"
    netns.run(["ip", "-n", namespace, "neigh", "replace", link_local(twin, bridge), "lladdr", mac, "dev", interface])
    arrived_before = received(twin, bridge)
    accepted_before = twin.host_listeners_log.read_text()
    targets = [(address, port) for port in HOST_PORTS for address in (host, scoped)]
    try:
        assert tcp_probes(namespace, targets) == dict.fromkeys(targets, "dropped")
    finally:
        netns.run(["ip", "-n", namespace, "route", "del", f"{host}/32", "dev", interface])
        netns.run(["ip", "-n", namespace, "neigh", "del", host, "dev", interface])
        netns.run(["ip", "-n", namespace, "neigh", "del", link_local(twin, bridge), "dev", interface])
    assert received(twin, bridge) - arrived_before >= 2 * len(HOST_PORTS)  # they did reach the host's bridge
    # Nor did any get in with the answer lost on another way back: no connection accepted, none half-open.
    assert twin.host_listeners_log.read_text() == accepted_before
    assert netns.in_ns(twin.host_ns, "ss", "-Htn", "state", "syn-recv").stdout == ""


def test_routed_through_the_router_nothing_reaches_the_host_either(lan_client: str, guest_client: str) -> None:
    targets = [("192.168.1.10", port) for port in HOST_PORTS]
    for namespace in (lan_client, guest_client):
        assert tcp_probes(namespace, targets) == dict.fromkeys(targets, "dropped")


def test_the_management_network_reaches_its_services(twin: Twin) -> None:
    admin = twin.client("admin", "management")
    netns.run(["ip", "-n", admin, "addr", "add", "192.168.1.50/24", "dev", "eth0"])
    services = [("192.168.1.10", port) for port in (ports.SSH, PVEPROXY_PORT, 9100)]
    assert tcp_probes(admin, services) == dict.fromkeys(services, "open")
    assert "22 192.168.1.50" in twin.host_listeners_log.read_text().splitlines()
    # rpcbind answers only on the host's loopback.
    assert tcp_probe(admin, "192.168.1.10", 111) == "refused"
    assert tcp_probe(twin.host_ns, "127.0.0.1", 111) == "open"
