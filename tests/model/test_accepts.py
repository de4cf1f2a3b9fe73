"""Valid stacks an operator writes, each the default stack with one edit: they load. The first ones were refused
before (false rejects); the rest guard the rules added beside them against refusing what is right."""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any

import pytest

from orion_infra.model import OrionStack, RawConfig, load_stack
from tests.stack_edits import edited

Changes = list[tuple[tuple[str | int, ...], Any]]


def loads(raw: RawConfig, changes: Changes, today: datetime.date) -> OrionStack:
    stack, _ = load_stack(edited(raw, *changes), today=today)
    return stack


def add_target(target: dict[str, object]) -> tuple[tuple[str | int, ...], Any]:
    return (("monitoring", "targets"), lambda targets: [*targets, target])


def test_a_dhcp_reservations_address_is_a_scrape_target(default_raw: RawConfig, today: datetime.date) -> None:
    """The macOS VM's reserved lease is as fixed as a static address: its exporter can be scraped there."""
    stack = loads(
        default_raw,
        [add_target({"name": "hack-sequoia-01", "job": "node", "address": "192.168.100.30", "port": 9100})],
        today,
    )
    assert stack.monitoring.targets[-1].address == ipaddress.IPv4Address("192.168.100.30")


def test_a_dns_records_address_is_a_scrape_target(default_raw: RawConfig, today: datetime.date) -> None:
    """A NAS the operator names in the local zone is a device the stack knows."""
    stack = loads(
        default_raw,
        [
            (("dns", "records"), [{"name": "nas", "address": "192.168.30.20"}]),
            add_target({"name": "nas", "job": "node", "address": "192.168.30.20", "port": 9100}),
        ],
        today,
    )
    assert stack.monitoring.targets[-1].name == "nas"


def test_a_directly_connected_ipv6_peer_beside_a_static_ipv4_wan(default_raw: RawConfig, today: datetime.date) -> None:
    """The IPv6 session of a dual-stack upstream is on the WAN's IPv6 link, not on its IPv4 subnet."""
    stack = loads(
        default_raw,
        [
            (("networks", "wan", "ipv4"), {"address": "206.75.1.2", "prefix_length": 24, "gateway": "206.75.1.1"}),
            (
                ("bgp", "peers"),
                lambda peers: [
                    *peers,
                    {
                        "name": "he-v6",
                        "address": "2001:470:0:1::1",
                        "asn": 6939,
                        "role": "tertiary",
                        "max_prefixes": 10,
                    },
                ],
            ),
        ],
        today,
    )
    assert stack.bgp.peers[-1].multihop is None


@pytest.mark.parametrize("schedule", ["Mon..Fri 02:30 UTC", "Sat,Sun 03:15", "*-*-* 02:30 UTC", "Sun 01:00"])
def test_a_schedule_proxmox_reads_in_capitals_or_utc(
    schedule: str, default_raw: RawConfig, today: datetime.date
) -> None:
    """Proxmox reads weekday names in any case and a trailing UTC; a lower-case character class refused them."""
    assert loads(default_raw, [(("backup", "schedule"), schedule)], today).backup.schedule == schedule


def test_a_relay_at_an_ipv6_address(default_raw: RawConfig, today: datetime.date) -> None:
    """Alertmanager's smarthost is Go's host:port: an IPv6 relay is written in brackets."""
    smarthost = "[2001:db8::25]:587"
    stack = loads(default_raw, [(("monitoring", "notify_email", "smarthost"), smarthost)], today)
    assert stack.monitoring.notify_email.smarthost == smarthost


def test_alerts_to_several_recipients(default_raw: RawConfig, today: datetime.date) -> None:
    """Alertmanager's `to` takes a comma-separated list of addresses."""
    to = "noc@orion.home.arpa, oncall@example.org"
    assert loads(default_raw, [(("monitoring", "notify_email", "to"), to)], today).monitoring.notify_email.to == to


def test_a_country_code_in_capitals_is_written_in_lower_case(default_raw: RawConfig, today: datetime.date) -> None:
    stack = loads(default_raw, [(("hosts", 0, "proxmox", "installer", "country"), "CA")], today)
    assert stack.hosts[0].proxmox.installer is not None
    assert stack.hosts[0].proxmox.installer.country == "ca"


# Guards: what the new rules must keep accepting.


def test_a_larger_allocation_is_announced_whole_and_in_parts(default_raw: RawConfig, today: datetime.date) -> None:
    """A /40 from the RIR, listed as the allocation, is announced with a more specific /48 beside it."""
    stack = loads(
        default_raw,
        [
            (("bgp", "allocations"), ["2602:f674::/40"]),
            (("bgp", "announce"), ["2602:f674::/40", "2602:f674::/48"]),
        ],
        today,
    )
    assert [str(prefix) for prefix in stack.bgp.announce] == ["2602:f674::/40", "2602:f674::/48"]


def test_a_multihop_peer_at_a_link_local_ipv4_address(default_raw: RawConfig, today: datetime.date) -> None:
    """Some clouds peer from 169.254.169.254, two hops away: link-local IPv4 is no reason to refuse a peer."""
    peer = ("bgp", "peers", 0)
    stack = loads(
        default_raw,
        [((*peer, "address"), "169.254.169.254"), ((*peer, "multihop"), 2), ((*peer, "bfd"), False)],
        today,
    )
    assert str(stack.bgp.peers[0].address) == "169.254.169.254"


def test_a_private_resolver_on_the_lan_as_upstream(default_raw: RawConfig, today: datetime.date) -> None:
    stack = loads(
        default_raw,
        [(("dns", "upstreams", 0), {"address": "192.168.100.53", "tls_name": "resolver.orion.home.arpa"})],
        today,
    )
    assert str(stack.dns.upstreams[0].address) == "192.168.100.53"


def test_the_operators_relay_by_address_and_an_ipv4_smarthost(default_raw: RawConfig, today: datetime.date) -> None:
    stack = loads(default_raw, [(("monitoring", "notify_email", "smarthost"), "192.168.1.25:25")], today)
    assert stack.monitoring.notify_email.smarthost == "192.168.1.25:25"


def test_serve_url_by_name_when_the_installer_goes_over_plain_http(
    default_raw: RawConfig, today: datetime.date
) -> None:
    """Only the HTTPS media server needs an address for its certificate."""
    stack = loads(
        default_raw,
        [
            (("bootstrap", "serve_url"), "http://deploy.orion.home.arpa:8080/"),
            (("hosts", 0, "idrac", "media_over_https"), False),
        ],
        today,
    )
    assert stack.bootstrap.serve_url.host == "deploy.orion.home.arpa"


def test_serve_url_by_ipv6_address_without_its_brackets(default_raw: RawConfig, today: datetime.date) -> None:
    stack = loads(
        default_raw,
        [
            (("bootstrap", "serve_url"), "http://[2001:db8::50]:8080/"),
            (("hosts", 0, "idrac", "media_over_https"), False),
        ],
        today,
    )
    assert stack.bootstrap.serve_host == "2001:db8::50"
    assert stack.bootstrap.serve_address == ipaddress.IPv6Address("2001:db8::50")


def test_the_names_that_get_records_by_themselves(default_raw: RawConfig, today: datetime.date) -> None:
    """The hosts', their iDRACs', the VMs' and the reservations' names; the macOS VM's reservation carries its name."""
    printer = {"hostname": "printer", "mac": "BC:24:11:00:09:00", "address": "192.168.100.31"}
    stack = loads(default_raw, [(("networks", "lan", "dhcp", "reservations"), lambda r: [*r, printer])], today)
    assert stack.hosts[0].idrac_name == "orion-pve-idrac"
    assert {name: tuple(named) for name, named in stack.automatic_names().items()} == {
        "orion-pve": ("host", "orion-pve"),
        "orion-pve-idrac": ("idrac", "orion-pve"),
        "orion-router": ("vm", "router"),
        "orion-monitor": ("vm", "monitor"),
        "hack-sequoia-01": ("vm", "macos"),
        "printer": ("reservation", "networks.lan.dhcp.reservations[1]"),
    }
    assert [(name, where, reservation.hostname) for name, where, reservation in stack.reservations()] == [
        ("lan", ("networks", "lan", "dhcp", "reservations", 0), "hack-sequoia-01"),
        ("lan", ("networks", "lan", "dhcp", "reservations", 1), "printer"),
    ]


@pytest.mark.parametrize("schedule", ["*-02-29 02:30", "mon *-02-29 01:00", "Fri *-*-13 03:00", "2030-06-01 02:30"])
def test_a_schedule_that_comes_rarely(schedule: str, default_raw: RawConfig, today: datetime.date) -> None:
    """February 29 comes in leap years; a Monday February 29 every 28 years or so; a day ahead comes once."""
    assert loads(default_raw, [(("backup", "schedule"), schedule)], today).backup.schedule == schedule


def test_dns_records_beside_the_pools(default_raw: RawConfig, today: datetime.date) -> None:
    """A second name for a reserved device, one for the router's LAN address, one outside our networks, and one just
    outside the LAN's pool: none of them is an address the pool hands out."""
    records = [
        {"name": "mac", "address": "192.168.100.30"},
        {"name": "ntp", "address": "192.168.100.1"},
        {"name": "status", "address": "203.0.113.80"},
        {"name": "printer", "address": "192.168.100.201"},
    ]
    stack = loads(default_raw, [(("dns", "records"), records)], today)
    assert [str(record.address) for record in stack.dns.records] == [r["address"] for r in records]


def test_a_router_id_that_is_no_interface_address(default_raw: RawConfig, today: datetime.date) -> None:
    """RFC 6286 asks only for non-zero 32 bits unique in the AS: a private address of none of its interfaces will do."""
    stack = loads(default_raw, [(("bgp", "router_id"), "10.255.255.1")], today)
    assert str(stack.bgp.router_id) == "10.255.255.1"


def test_the_smallest_nixos_disks(default_raw: RawConfig, today: datetime.date) -> None:
    """8 GiB for the router; the monitoring VM's 30 days of the default targets fit in 9."""
    stack = loads(
        default_raw,
        [(("vms", "router", "disk", "size_gib"), 8), (("vms", "monitor", "disk", "size_gib"), 9)],
        today,
    )
    assert (stack.vms["router"].disk.size_gib, stack.vms["monitor"].disk.size_gib) == (8, 9)


def test_a_year_of_metrics_on_the_default_disk(default_raw: RawConfig, today: datetime.date) -> None:
    stack = loads(default_raw, [(("monitoring", "retention_days"), 365)], today)
    assert stack.monitoring.retention_days == 365
