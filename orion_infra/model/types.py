"""Reusable annotated types for the stack configuration.

Each type validates one kind of fact and says, when it rejects a value, what it expected.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError


class Facts(BaseModel):
    """Base of every configuration section: frozen, and unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _error(kind: str, message: str) -> PydanticCustomError:
    # The message is complete: without a context pydantic-core leaves its braces alone.
    return PydanticCustomError(kind, message)


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE = re.compile(rf"^{_LABEL}$")
_DOMAIN_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})+$")


def _hostname(value: str) -> str:
    if not _LABEL_RE.fullmatch(value):
        raise _error(
            "hostname",
            "expected a hostname (1-63 lowercase letters, digits or '-', not starting or ending with '-'), "
            f"got {value!r}",
        )
    return value


def _domain(value: str) -> str:
    if len(value) > 253 or not _DOMAIN_RE.fullmatch(value):
        raise _error(
            "domain",
            f"expected a lowercase DNS name of at least two labels (e.g. orion.home.arpa), got {value!r}",
        )
    if value == "local" or value.endswith(".local"):
        raise _error(
            "domain_mdns",
            f"{value!r} is under .local, which is reserved for multicast DNS (RFC 6762); "
            "use a name under home.arpa (RFC 8375) instead",
        )
    return value


Hostname = Annotated[str, AfterValidator(_hostname)]
"""A single DNS label, as used for host, node and VM names."""

DomainName = Annotated[str, AfterValidator(_domain)]
"""A fully qualified DNS name, not under the mDNS-reserved .local."""

_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}$")


def _mac(value: str) -> str:
    if not _MAC_RE.fullmatch(value):
        raise _error("mac", f"expected a MAC address like D0:94:66:24:96:7C, got {value!r}")
    normalised = value.replace("-", ":").upper()
    if int(normalised[:2], 16) & 1:
        raise _error("mac_multicast", f"{value} is a multicast MAC address; a NIC needs a unicast one")
    if normalised == "00:00:00:00:00:00":
        raise _error("mac_zero", "00:00:00:00:00:00 is not a usable MAC address")
    return normalised


MacAddress = Annotated[str, AfterValidator(_mac)]
"""A unicast MAC address, normalised to upper case with colons."""

VlanId = Annotated[int, Field(ge=1, le=4094)]
Port = Annotated[int, Field(ge=1, le=65535)]
VmId = Annotated[int, Field(ge=100, le=999_999_999, description="Proxmox VM id (100-999999999)")]
PositiveInt = Annotated[int, Field(ge=1)]

# AS numbers that may never appear in an eBGP session (RFC 7607, 6793, 5398, 6996, 7300).
_RESERVED_ASNS: list[tuple[int, int, str]] = [
    (0, 0, "reserved (RFC 7607)"),
    (23456, 23456, "AS_TRANS (RFC 6793)"),
    (64496, 64511, "reserved for documentation (RFC 5398)"),
    (65535, 65535, "reserved (RFC 7300)"),
    (65536, 65551, "reserved for documentation (RFC 5398)"),
    (4294967295, 4294967295, "reserved (RFC 7300)"),
]
_PRIVATE_ASNS = [(64512, 65534), (4200000000, 4294967294)]
# Every AS number that has no business in an internet AS path: the reserved and the private ranges.
BOGON_ASN_RANGES = sorted([(low, high) for low, high, _ in _RESERVED_ASNS] + _PRIVATE_ASNS)


def _asn(value: int) -> int:
    if not 0 <= value <= 4294967295:
        raise _error("asn", f"expected an AS number between 1 and 4294967294, got {value}")
    for low, high, why in _RESERVED_ASNS:
        if low <= value <= high:
            raise _error("asn_reserved", f"AS {value} is {why}")
    return value


def is_private_asn(asn: int) -> bool:
    return any(low <= asn <= high for low, high in _PRIVATE_ASNS)


Asn = Annotated[int, AfterValidator(_asn)]
"""A usable AS number: not reserved, not a documentation number."""


def _network(version: int) -> BeforeValidator:
    def parse(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return ipaddress.ip_network(value, strict=True)
        except ValueError:
            try:
                loose = ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise _error(
                    "cidr",
                    f"expected an IPv{version} network in CIDR notation, got {value!r}",
                ) from None
            raise _error(
                "cidr_host_bits",
                f"{value} has host bits set; the network is {loose}",
            ) from None

    return BeforeValidator(parse)


IPv4Cidr = Annotated[ipaddress.IPv4Network, _network(4), PlainSerializer(str)]
IPv6Cidr = Annotated[ipaddress.IPv6Network, _network(6), PlainSerializer(str)]
IPv4 = Annotated[ipaddress.IPv4Address, PlainSerializer(str)]
IPv6 = Annotated[ipaddress.IPv6Address, PlainSerializer(str)]
IPAny = Annotated[ipaddress.IPv4Address | ipaddress.IPv6Address, PlainSerializer(str)]

_SSH_KEY_RE = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}( \S.*)?$"
)


def _ssh_public_key(value: str) -> str:
    if "PRIVATE KEY" in value:
        raise _error(
            "ssh_private_key",
            "this is a private key; only public keys belong here (private keys are secrets: "
            "`pulumi config set --secret <key> < keyfile`)",
        )
    if not _SSH_KEY_RE.fullmatch(value):
        raise _error(
            "ssh_public_key",
            f"expected an OpenSSH public key line ('ssh-ed25519 AAAA... comment'), got {value[:40]!r}",
        )
    return value


SshPublicKey = Annotated[str, AfterValidator(_ssh_public_key)]
