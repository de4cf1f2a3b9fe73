"""The reusable field types accept what they should and say what they expected when they refuse."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from orion_infra.model.secrets import Secret
from orion_infra.model.types import Asn, DomainName, Hostname, IPv4Cidr, IPv6Cidr, MacAddress, SshPublicKey


def refusal(kind: Any, value: object) -> str:
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(value)
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
