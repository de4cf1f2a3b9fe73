"""The reusable field types accept what they should and say what they expected when they refuse."""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from orion_infra.model.calendar_events import next_day, parse
from orion_infra.model.secrets import Secret
from orion_infra.model.types import (
    Asn,
    CalendarEvent,
    CountryCode,
    DiskName,
    DomainName,
    EmailAddress,
    EmailAddressList,
    Hostname,
    HostPort,
    IPv4Cidr,
    IPv6Cidr,
    MacAddress,
    SshPublicKey,
    TimeZone,
    not_unicast_reason,
    split_host_port,
)


def refusal(kind: Any, value: object, today: datetime.date | None = None) -> str:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value, context={"today": today} if today else None)
    return refused.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("given", "normalised"), [("d0:94:66:24:96:7c", "D0:94:66:24:96:7C"), ("BC-24-11-00-02-00", "BC:24:11:00:02:00")]
)
def test_mac_is_normalised(given: str, normalised: str) -> None:
    assert TypeAdapter(MacAddress).validate_python(given) == normalised


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("D0:94:66:24:96", "expected a MAC address like D0:94:66:24:96:7C, got 'D0:94:66:24:96'"),
        ("01:00:5E:00:00:01", "01:00:5E:00:00:01 is a multicast MAC address; a NIC needs a unicast one"),
        ("00:00:00:00:00:00", "00:00:00:00:00:00 is not a usable MAC address"),
    ],
)
def test_mac_refusals(given: str, message: str) -> None:
    assert refusal(MacAddress, given) == message


@pytest.mark.parametrize("good", ["orion-router", "a", "x1", "a" * 63])
def test_hostname_accepts(good: str) -> None:
    assert TypeAdapter(Hostname).validate_python(good) == good


@pytest.mark.parametrize("bad", ["-router", "router-", "ORION", "a" * 64, "a.b", "", "under_score"])
def test_hostname_refuses(bad: str) -> None:
    assert refusal(Hostname, bad).endswith(f"got {bad!r}")


def test_domain_refuses_single_label_and_mdns() -> None:
    assert refusal(DomainName, "orion") == (
        "expected a lowercase DNS name of at least two labels (e.g. orion.home.arpa), got 'orion'"
    )
    assert refusal(DomainName, "lab.local").startswith("'lab.local' is under .local")
    assert TypeAdapter(DomainName).validate_python("orion.home.arpa") == "orion.home.arpa"


@pytest.mark.parametrize(
    ("asn", "message"),
    [
        (0, "AS 0 is reserved (RFC 7607)"),
        (23456, "AS 23456 is AS_TRANS (RFC 6793)"),
        (64500, "AS 64500 is reserved for documentation (RFC 5398)"),
        (65535, "AS 65535 is reserved (RFC 7300)"),
        (65540, "AS 65540 is reserved for documentation (RFC 5398)"),
        (4294967295, "AS 4294967295 is reserved (RFC 7300)"),
        (4294967296, "expected an AS number between 1 and 4294967294, got 4294967296"),
    ],
)
def test_asn_refusals(asn: int, message: str) -> None:
    assert refusal(Asn, asn) == message


@pytest.mark.parametrize("asn", [1, 6939, 394955, 64512, 4200000000])
def test_asn_accepts_usable_numbers(asn: int) -> None:
    assert TypeAdapter(Asn).validate_python(asn) == asn


def test_cidr_wants_the_network_and_the_right_family() -> None:
    assert (
        refusal(IPv4Cidr, "192.168.100.1/24") == "192.168.100.1/24 has host bits set; the network is 192.168.100.0/24"
    )
    assert refusal(IPv6Cidr, "2602:f674::1/48") == "2602:f674::1/48 has host bits set; the network is 2602:f674::/48"
    assert refusal(IPv4Cidr, "not-a-net") == "expected an IPv4 network in CIDR notation, got 'not-a-net'"
    assert "IPv4" in refusal(IPv4Cidr, "2602:f674::/48")
    assert str(TypeAdapter(IPv6Cidr).validate_python("2602:F674::/48")) == "2602:f674::/48"


def test_ssh_public_key() -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0bNm6sK0kZ0d1Xyq0wQk1rP0oQ6eG2v3lqz8kq9q3e operator@laptop"
    assert TypeAdapter(SshPublicKey).validate_python(key) == key
    assert refusal(SshPublicKey, "ssh-dss AAAAB3Nza").startswith("expected an OpenSSH public key line")
    assert refusal(SshPublicKey, "-----BEGIN OPENSSH PRIVATE KEY-----").startswith("this is a private key")


def test_a_secret_field_takes_only_a_reference_and_never_echoes_a_plain_value() -> None:
    assert TypeAdapter(Secret).validate_python({"secret": "idracPassword"}).secret == "idracPassword"
    message = refusal(Secret, "hunter2")
    assert message.startswith("expected a secret reference {secret: <configKey>}, got a plain value (not shown)")
    assert "hunter2" not in message
    assert "pattern" in refusal(Secret, {"secret": "Not-A-Key"})


def test_an_as_number_iana_never_allocated_is_refused() -> None:
    assert refusal(Asn, 70000) == "AS 70000 is reserved by IANA, never allocated (IANA AS numbers registry)"
    assert TypeAdapter(Asn).validate_python(131072) == 131072


def test_a_dns_name_is_not_an_address() -> None:
    assert refusal(DomainName, "9.9.9.9").startswith("expected a DNS name, got '9.9.9.9': its last label is all digits")
    assert TypeAdapter(DomainName).validate_python("dns.quad9.net") == "dns.quad9.net"
    assert TypeAdapter(DomainName).validate_python("1dot1dot1dot1.cloudflare-dns.com")


@pytest.mark.parametrize(
    "event",
    [
        "*-*-* 02:30",
        "mon..fri 02:30",
        "daily",
        "sun 01:00",
        "02:30",
        "Sat,Sun 03:00:15",
        "sat..mon 4:00",
        "*-*-1 00:00",
        "2027-01-02",
        "2030-06-01 02:30",
        "*-02-29 02:30",
        "mon *-02-29 01:00",
        "Fri *-*-13 03:00",
        "*-02-28,29",
        "*-1,4,7,10-01 03:00",
        "*:0/15",
        "0..6/2:00",
        "weekly UTC",
        "semi-annually",
        "*/30",
    ],
)
def test_calendar_events_proxmox_runs(event: str, today: datetime.date) -> None:
    assert TypeAdapter(CalendarEvent).validate_python(event, context={"today": today}) == event


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ("99:99", "hour 99 is not 0-23"),
        ("*-*-* 25:00", "hour 25 is not 0-23"),
        ("*-*-* 02:60", "minute 60 is not 0-59"),
        ("*-13-01", "month 13 is not 1-12"),
        ("*-*-0", "day 0 is not 1-31"),
        ("1969-01-01", "year 1969 is not 1970-2199"),
        ("daily 02:30", "'daily' is not a weekday (mon..sun); daily stands alone, without a date or time"),
        ("everyday 02:30", "'everyday' is not a weekday (mon..sun)"),
        ("*-*~01", "'*~01' is not a day (*, */STEP or values)"),
        ("6..2:00", "the hour range 6..2 ends before it starts"),
        ("*/0", "a minute step must be 1-59, got '0'"),
        ("02:30 mon", "'mon' follows the time; the order is weekdays, date, time"),
        ("mon 02:30 tue", "'tue' follows the time; the order is weekdays, date, time"),
        ("UTC", "it names no weekday, date or time"),
        ("02:30:00.5", "'00.5' is not a second (a number, FIRST..LAST, VALUE/STEP, FIRST..LAST/STEP or *)"),
    ],
)
def test_calendar_events_that_are_no_times(event: str, why: str) -> None:
    assert refusal(CalendarEvent, event) == (
        "expected a calendar event like '*-*-* 02:30', 'mon..fri 02:30', 'sun 01:00' or 'daily' (systemd.time, as "
        f"Proxmox reads it), got {event!r}: {why}"
    )


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ("*-02-30 02:30", "February has no day 30"),
        ("*-04-31 02:30", "April has no day 31"),
        ("*-4,6,9,11-31", "April, June, September and November have no day 31"),
        ("2020-01-01 02:30", "its last day, 2020-01-01, is before today (2027-01-02)"),
        ("2027-01-01", "its last day, 2027-01-01, is before today (2027-01-02)"),
        ("2020..2026-*-* 02:30", "its last day, 2026-12-31, is before today (2027-01-02)"),
        ("2027-02-29", "none of the dates it names exists (February 29 comes in leap years only)"),
        ("tue 2027-01-04", "none of the days it names falls on one of its weekdays"),
    ],
)
def test_calendar_events_that_never_come(event: str, why: str, today: datetime.date) -> None:
    assert refusal(CalendarEvent, event, today) == (
        f"{event!r} never comes: {why}, so Proxmox would never run the job; give a schedule that comes, like "
        "'*-*-* 02:30'"
    )


@pytest.mark.parametrize(
    ("event", "next_one"),
    [
        ("*-*-* 02:30", "2027-01-02"),
        ("02:30", "2027-01-02"),
        ("weekly", "2027-01-04"),
        ("quarterly", "2027-04-01"),
        ("sat..mon 04:00", "2027-01-02"),
        ("tue,thu 04:00", "2027-01-05"),
        ("*-02-29", "2028-02-29"),
        ("mon *-02-29", "2044-02-29"),
        ("Fri *-*-13", "2027-08-13"),
        ("*-*-1/10", "2027-01-11"),
        ("2027/2-01-01", "2029-01-01"),
    ],
)
def test_the_next_day_of_an_event(event: str, next_one: str, today: datetime.date) -> None:
    assert next_day(parse(event), today) == datetime.date.fromisoformat(next_one)


@pytest.mark.parametrize("good", ["mail.orion.home.arpa:587", "relay:25", "192.0.2.25:465", "[2001:db8::25]:587"])
def test_host_port_accepts(good: str) -> None:
    assert TypeAdapter(HostPort).validate_python(good) == good


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("mail:65536", "expected a port from 1 to 65535 after the colon, got 65536 in 'mail:65536'"),
        ("mail:0", "expected a port from 1 to 65535 after the colon, got 0 in 'mail:0'"),
        (
            "mail",
            "expected host:port (a DNS name, an IPv4 address or [an IPv6 address], a colon, the port), got 'mail'",
        ),
        (
            "2001:db8::25:587",
            "expected host:port (a DNS name, an IPv4 address or [an IPv6 address], a colon, the port), got '2001:db8::25:587'",
        ),
        ("[mail]:587", "expected an IPv6 address between the brackets, got '[mail]:587'"),
        ("192.0.2.300:25", "expected an IPv4 address or a DNS name before the port, got '192.0.2.300:25'"),
        ("-mail.example.org:25", "expected a DNS name or an address before the port, got '-mail.example.org:25'"),
    ],
)
def test_host_port_refusals(bad: str, message: str) -> None:
    assert refusal(HostPort, bad) == message


@pytest.mark.parametrize(
    ("given", "parts"),
    [
        ("mail.orion.home.arpa:587", ("mail.orion.home.arpa", None, 587)),
        ("192.0.2.25:465", ("192.0.2.25", ipaddress.IPv4Address("192.0.2.25"), 465)),
        ("[2001:db8::25]:587", ("2001:db8::25", ipaddress.IPv6Address("2001:db8::25"), 587)),
    ],
)
def test_host_port_parts(given: str, parts: tuple[object, ...]) -> None:
    assert split_host_port(given) == parts


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("0.0.0.0", "0.0.0.0 is the unspecified address"),  # noqa: S104 - the value under test, bound to nothing
        ("0.1.2.3", "0.1.2.3 is in 0.0.0.0/8, 'this network' (RFC 1122)"),
        ("127.1.2.3", "127.1.2.3 is in 127.0.0.0/8, loopback"),
        ("239.255.255.250", "239.255.255.250 is in 224.0.0.0/4, multicast"),
        ("240.0.0.1", "240.0.0.1 is in 240.0.0.0/4, reserved, with the broadcast address"),
        ("::", ":: is the unspecified address"),
        ("::1", "::1 is a loopback address"),
        ("ff02::1", "ff02::1 is a multicast address"),
        ("192.0.2.1", None),
        ("2001:db8::1", None),
    ],
)
def test_not_unicast_reason(address: str, why: str | None) -> None:
    assert not_unicast_reason(ipaddress.ip_address(address)) == why


def test_email_addresses() -> None:
    assert TypeAdapter(EmailAddress).validate_python("noc+alerts@orion.home.arpa") == "noc+alerts@orion.home.arpa"
    assert refusal(EmailAddress, "noc@orion.home.arpa.") == (
        "expected an e-mail address like noc@orion.home.arpa, got 'noc@orion.home.arpa.'"
    )
    assert refusal(EmailAddress, "a@b@c").endswith("got 'a@b@c'")
    assert TypeAdapter(EmailAddressList).validate_python("a@example.org,b@example.org") == "a@example.org,b@example.org"
    assert refusal(EmailAddressList, "a@example.org;b@example.org").endswith("got 'a@example.org;b@example.org'")


def test_installer_locale_values() -> None:
    assert TypeAdapter(TimeZone).validate_python("UTC") == "UTC"
    assert TypeAdapter(TimeZone).validate_python("America/Vancouver") == "America/Vancouver"
    assert refusal(TimeZone, "Etc/UTC").endswith("got 'Etc/UTC'")
    assert TypeAdapter(CountryCode).validate_python("gb") == "gb"
    assert refusal(CountryCode, "xx").endswith("got 'xx'")


@pytest.mark.parametrize("disk", ["sda", "sdaa", "nvme0n1", "vda", "md0"])
def test_whole_disks(disk: str) -> None:
    assert TypeAdapter(DiskName).validate_python(disk) == disk


@pytest.mark.parametrize(("partition", "disk"), [("sdb2", "sdb"), ("nvme1n1p3", "nvme1n1"), ("mmcblk0p1", "mmcblk0")])
def test_partitions_are_not_disks(partition: str, disk: str) -> None:
    assert refusal(DiskName, partition) == (
        f"{partition!r} is a partition; the installer takes whole disks ({disk}) and partitions them itself"
    )
