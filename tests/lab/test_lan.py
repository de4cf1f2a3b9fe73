"""The twin's inside: DHCP from the rendered Kea, and the isolation the rendered firewall promises."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Sequence

from orion_infra.lab.twin import Twin

# What a dropped probe waits for an answer. Inside the namespaces an answer takes well under a millisecond.
PROBE_TIMEOUT = 1.5
PROBES = """
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor

def probe(target):
    try:
        socket.create_connection(tuple(target), timeout=float(sys.argv[1])).close()
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "dropped"

targets = json.loads(sys.stdin.read())
with ThreadPoolExecutor(max_workers=len(targets)) as pool:
    print(json.dumps(list(pool.map(probe, targets))))
"""


def tcp_probes(namespace: str, targets: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """Each (address, port) probed from `namespace` at the same time (a dropped one waits out its timeout, once
    for all): 'open', 'refused' (reached, nothing listens) or 'dropped' (no answer at all)."""
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, "python3", "-c", PROBES, str(PROBE_TIMEOUT)],
        input=json.dumps(list(targets)),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return dict(zip(targets, json.loads(done.stdout), strict=True))


def tcp_probe(namespace: str, address: str, port: int) -> str:
    """'open', 'refused' (reached, nothing listens) or 'dropped' (no answer at all)."""
    return tcp_probes(namespace, [(address, port)])[(address, port)]


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
    targets = [(lan_address, 80), ("192.168.200.1", 22), ("192.168.200.1", 9100), ("192.168.1.1", 22)]
    assert tcp_probes(guest_client, targets) == dict.fromkeys(targets, "dropped")
    assert twin.drop_counter("forward: not allowed") > dropped_before
    # The same probe works: from the LAN, DNS over TCP reaches the router's resolver.
    assert tcp_probe(lan_client, "192.168.100.1", 53) == "open"


def test_the_management_network_reaches_the_routers_ssh(twin: Twin) -> None:
    """The router's SSH (the agent's way in) answers the management network; a guest's probe is dropped."""
    assert tcp_probe(twin.host_ns, "192.168.1.1", 22) == "open"
    assert tcp_probe(twin.host_ns, "192.168.100.1", 22) == "open"
