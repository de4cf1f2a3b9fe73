"""DNS in the twin: the router's rendered Unbound answers the local zone itself and everything else through the
DNS-over-TLS upstreams, validating DNSSEC against the (lab-signed) root; the guest gets the internet's names only."""

from __future__ import annotations

import ipaddress

from orion_infra.lab import netns
from orion_infra.lab.twin import WEB_SERVER, Twin
from orion_infra.lab.upstream_dns import WEB_NAME
from tests.lab.test_lan import tcp_probes

LAN_RESOLVER = "192.168.100.1"
GUEST_RESOLVER = "192.168.200.1"


def test_local_names_resolve_to_the_models_addresses(twin: Twin, lan_client: str) -> None:
    domain = twin.stack.dns.domain
    for name, address in (("orion-router", "192.168.100.1"), ("orion-pve", "192.168.1.10")):
        rcode, flags, answers = twin.resolve(lan_client, f"{name}.{domain}.", LAN_RESOLVER)
        assert rcode == "NOERROR"
        assert "aa" in flags  # answered by the router itself, not forwarded
        assert answers == [f"{name}.{domain}. IN A {address}"]


def test_internet_names_resolve_through_the_tls_upstream_and_validate(twin: Twin, lan_client: str) -> None:
    rcode, flags, answers = twin.resolve(lan_client, WEB_NAME, LAN_RESOLVER)
    assert rcode == "NOERROR"
    assert "ad" in flags  # DNSSEC-validated against the root's trust anchor
    assert f"{WEB_NAME} IN A {WEB_SERVER}" in answers


def test_a_missing_name_is_an_authenticated_nxdomain(twin: Twin, lan_client: str) -> None:
    rcode, flags, answers = twin.resolve(lan_client, "missing.example.", LAN_RESOLVER)
    assert (rcode, answers) == ("NXDOMAIN", [])
    assert "ad" in flags


def test_the_upstreams_answer_over_tls_only(twin: Twin) -> None:
    """So every answer the router got came over TLS, authenticated by the upstream's name."""
    upstream = str(twin.stack.dns.upstreams[0].address)
    listening = (
        netns.in_ns(twin.internet_ns, "ss", "-Hlnu").stdout + netns.in_ns(twin.internet_ns, "ss", "-Hlnt").stdout
    )
    assert f"{upstream}:853" in listening
    assert f"{upstream}:53 " not in listening


def test_every_upstream_of_the_stack_is_on_the_internet_over_either_family(twin: Twin) -> None:
    """The router's Unbound picks among all of them: one it cannot reach (the IPv6 one, once) stalled a query 5 s."""
    targets = [(str(upstream.address), upstream.port) for upstream in twin.stack.dns.upstreams]
    assert {ipaddress.ip_address(address).version for address, _ in targets} == {4, 6}
    assert tcp_probes(twin.router_ns, targets) == dict.fromkeys(targets, "open")


def test_the_guest_resolves_the_internet_but_not_the_local_zone(twin: Twin, guest_client: str) -> None:
    rcode, _, answers = twin.resolve(guest_client, WEB_NAME, GUEST_RESOLVER)
    assert rcode == "NOERROR"
    assert f"{WEB_NAME} IN A {WEB_SERVER}" in answers
    rcode, _, answers = twin.resolve(guest_client, f"orion-pve.{twin.stack.dns.domain}.", GUEST_RESOLVER)
    assert (rcode, answers) == ("REFUSED", [])


def test_the_guest_view_follows_the_guest_through_any_router_address(twin: Twin, guest_client: str) -> None:
    """Asking the router at its LAN address does not get the guest the LAN's answers: the view is chosen by the
    client's address, not by the address asked."""
    rcode, _, answers = twin.resolve(guest_client, f"orion-pve.{twin.stack.dns.domain}.", LAN_RESOLVER)
    assert (rcode, answers) == ("REFUSED", [])


def test_an_ipv6_client_resolves_at_the_address_router_advertisements_announce(twin: Twin) -> None:
    """The router's RAs name its own address on each network as DNS server (host.json `dns6`): Unbound listens
    there and admits the network, so an IPv6-only client resolves (the link-local address it used to announce
    had no Unbound behind it)."""
    lan = next(interface for interface in twin.router_host.interfaces if interface.network == "lan")
    assert lan.router_advertisements
    assert lan.dns6 is not None
    client = twin.client("lan-v6-client", "lan")
    # What SLAAC would give it in the LAN's /64, with no IPv4 at all.
    netns.run(["ip", "-n", client, "addr", "add", "2602:f674:0:1000::77/64", "dev", "eth0", "nodad"])
    rcode, flags, answers = twin.resolve(client, f"orion-router.{twin.stack.dns.domain}.", lan.dns6)
    assert rcode == "NOERROR"
    assert "aa" in flags
    assert f"orion-router.{twin.stack.dns.domain}. IN A 192.168.100.1" in answers


def test_the_guest_gets_no_names_of_inside_addresses_by_reverse_lookup(
    twin: Twin, lan_client: str, guest_client: str
) -> None:
    """PTR for the LAN's and the management network's addresses, IPv4 and IPv6: the LAN gets the names, the guest is
    refused (the local zone's global PTR records would otherwise answer its view)."""
    domain = twin.stack.dns.domain
    lookups = {
        "1.100.168.192.in-addr.arpa.": f"orion-router.{domain}.",
        "10.1.168.192.in-addr.arpa.": f"orion-pve.{domain}.",
        ipaddress.IPv6Address("2602:f674:0:1000::1").reverse_pointer + ".": f"orion-router.{domain}.",
    }
    for name, owner in lookups.items():
        rcode, _, answers = twin.resolve(lan_client, name, LAN_RESOLVER, "PTR")
        assert (rcode, [answer.split()[-1] for answer in answers]) == ("NOERROR", [owner])
        assert twin.resolve(guest_client, name, GUEST_RESOLVER, "PTR")[:3:2] == ("REFUSED", [])
