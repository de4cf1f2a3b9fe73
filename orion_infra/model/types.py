"""Reusable annotated types for the stack configuration.

Each type validates one kind of fact and says, when it rejects a value, what it expected.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationInfo
from pydantic_core import PydanticCustomError

from orion_infra.model.calendar_events import CalendarEventError, never_comes, parse
from orion_infra.model.locales import COUNTRIES, TIME_ZONES


class Facts(BaseModel):
    """Base of every configuration section: frozen, and unknown fields are errors, not silently ignored."""

    # The docstring under each field is its description in the stack file's schema and configuration reference,
    # read when the schema is written (orion_infra/schema.py): pydantic's use_attribute_docstrings would parse every
    # model's source at each import, a third of a second that every `orion` command and the program would pay.
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
    if value.rsplit(".", 1)[-1].isdigit():
        raise _error(
            "domain_numeric",
            f"expected a DNS name, got {value!r}: its last label is all digits, as no top-level domain is "
            "(RFC 3696); an address is not a name",
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
VmId = Annotated[int, Field(ge=100, le=999_999_999)]
"""A Proxmox VM id, 100 to 999999999. Reusable types carry no description: it would hide the field's docstring."""
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
# Reserved by IANA and never allocated, so no AS of ours or of a peer has it (the renderers' bogon set above does
# not carry it yet).
_UNALLOCATED_ASNS = [(65552, 131071, "reserved by IANA, never allocated (IANA AS numbers registry)")]


def _asn(value: int) -> int:
    if not 0 <= value <= 4294967295:
        raise _error("asn", f"expected an AS number between 1 and 4294967294, got {value}")
    for low, high, why in _RESERVED_ASNS + _UNALLOCATED_ASNS:
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


# IPv4 space no host is numbered from (RFC 6890), and what each block is: no address in it is a host's or a peer's,
# and no subnet overlapping it is a network of hosts.
UNNUMBERABLE_V4 = (
    (ipaddress.IPv4Network("0.0.0.0/8"), "'this network' (RFC 1122)"),
    (ipaddress.IPv4Network("127.0.0.0/8"), "loopback"),
    (ipaddress.IPv4Network("224.0.0.0/4"), "multicast"),
    (ipaddress.IPv4Network("240.0.0.0/4"), "reserved, with the broadcast address"),
)


def not_unicast_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address` can be no host's or peer's address anywhere, or None."""
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    if isinstance(address, ipaddress.IPv4Address):
        return next((f"{address} is in {block}, {what}" for block, what in UNNUMBERABLE_V4 if address in block), None)
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_multicast:
        return f"{address} is a multicast address"
    return None


def require_remote_unicast(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, no_interface: str, what: str
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """`address` if a daemon on the router can reach it by address alone: unicast, and not IPv6 link-local (which
    needs an interface; `no_interface` says whose configuration names none). Otherwise a ValueError ending in
    `what` the field must be."""
    why = not_unicast_reason(address)
    if why is None and isinstance(address, ipaddress.IPv6Address) and address.is_link_local:
        why = f"{address} is link-local, and {no_interface} names no interface"
    if why is not None:
        raise ValueError(f"{why}; {what}")
    return address


_DNS_NAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_HOST_PORT_RE = re.compile(r"^(?:\[(?P<ipv6>[^\]]*)\]|(?P<host>[^:\[\]]*)):(?P<port>[0-9]+)$")


def split_host_port(value: str) -> tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address | None, int]:
    """The host (without brackets), its address (None for a DNS name) and the port of a HostPort; a
    PydanticCustomError says why `value` is none."""
    found = _HOST_PORT_RE.fullmatch(value)
    if found is None:
        raise _error(
            "host_port",
            f"expected host:port (a DNS name, an IPv4 address or [an IPv6 address], a colon, the port), got {value!r}",
        )
    port = int(found["port"])
    if not 1 <= port <= 65535:
        raise _error("host_port", f"expected a port from 1 to 65535 after the colon, got {port} in {value!r}")
    host = found["ipv6"] if found["ipv6"] is not None else found["host"]
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    if found["ipv6"] is not None:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise _error("host_port", f"expected an IPv6 address between the brackets, got {value!r}") from None
    elif re.fullmatch(r"[0-9.]+", host):
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            raise _error(
                "host_port", f"expected an IPv4 address or a DNS name before the port, got {value!r}"
            ) from None
    elif not _DNS_NAME_RE.fullmatch(host):
        raise _error("host_port", f"expected a DNS name or an address before the port, got {value!r}")
    return host, address, port


def _host_port(value: str) -> str:
    split_host_port(value)
    return value


HostPort = Annotated[str, AfterValidator(_host_port)]
"""`host:port`, as Go's net.SplitHostPort reads it (Alertmanager's smarthost): a DNS name, an IPv4 address or a
bracketed IPv6 address, and a port from 1 to 65535."""

# The HTML specification's "valid e-mail address" (what Proxmox's installer checks mailto with, too).
_EMAIL_RE = re.compile(
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)


def _email(value: str) -> str:
    if not _EMAIL_RE.fullmatch(value):
        raise _error("email", f"expected an e-mail address like noc@orion.home.arpa, got {value!r}")
    return value


def _email_list(value: str) -> str:
    for address in value.split(","):
        if not _EMAIL_RE.fullmatch(address.strip()):
            raise _error(
                "email_list",
                "expected one e-mail address or several separated by commas (noc@example.org, ops@example.org), "
                f"got {value!r}",
            )
    return value


EmailAddress = Annotated[str, AfterValidator(_email)]
"""One e-mail address (the HTML specification's form: local part, @, a DNS name)."""

EmailAddressList = Annotated[str, AfterValidator(_email_list)]
"""One e-mail address or several separated by commas, as Alertmanager's `to` takes them."""


def _calendar_event(value: str, info: ValidationInfo) -> str:
    try:
        event = parse(value)
    except CalendarEventError as problem:
        raise _error(
            "calendar_event",
            "expected a calendar event like '*-*-* 02:30', 'mon..fri 02:30', 'sun 01:00' or 'daily' "
            f"(systemd.time, as Proxmox reads it), got {value!r}: {problem}",
        ) from None
    # Judged as of the day validation runs for (load_stack's `today`), like the releases' end of life.
    context = info.context if isinstance(info.context, dict) else {}
    today = context.get("today") or datetime.date.today()
    if why := never_comes(event, today):
        raise _error(
            "calendar_event_never",
            f"{value!r} never comes: {why}, so Proxmox would never run the job; give a schedule that comes, like "
            "'*-*-* 02:30'",
        )
    return value


CalendarEvent = Annotated[str, AfterValidator(_calendar_event), Field(max_length=128)]
"""When a job runs: a systemd calendar event as Proxmox reads it (e.g. '*-*-* 02:30'), of the subset
orion_infra.model.calendar_events describes."""


def _country(value: str) -> str:
    if value.lower() not in COUNTRIES:
        hint = " (the United Kingdom is gb)" if value.lower() == "uk" else ""
        raise _error(
            "country",
            f"expected an ISO 3166-1 alpha-2 country code like ca, de or gb{hint}, got {value!r}",
        )
    return value.lower()


def _time_zone(value: str) -> str:
    if value not in TIME_ZONES:
        raise _error(
            "time_zone",
            "expected UTC or a time zone of tzdata's zone.tab like America/Vancouver or Europe/Berlin (what "
            f"Proxmox's installer accepts; old aliases and Etc/ zones are not), got {value!r}",
        )
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
"""An ISO 3166-1 alpha-2 country code, e.g. ca; normalised to lower case."""

TimeZone = Annotated[str, AfterValidator(_time_zone)]
"""UTC or a zone of tzdata's zone.tab."""

KeyboardLayout = Literal[
    "de", "de-ch", "dk", "en-gb", "en-us", "es", "fi", "fr", "fr-be", "fr-ca", "fr-ch", "hu", "is",
    "it", "jp", "lt", "mk", "nl", "no", "pl", "pt", "pt-br", "se", "si", "tr",
]  # fmt: skip
"""The keyboard layouts Proxmox's installer knows (proxmox-auto-installer's KeyboardLayout)."""

_PARTITION_RE = re.compile(r"^(?:(?:sd|vd|xvd|hd)[a-z]+[0-9]+|(?:nvme[0-9]+n[0-9]+|mmcblk[0-9]+)p[0-9]+)$")


def _disk(value: str) -> str:
    if _PARTITION_RE.fullmatch(value):
        whole = re.sub(r"p?[0-9]+$", "", value) if not value.startswith(("nvme", "mmcblk")) else value.rsplit("p", 1)[0]
        raise _error(
            "disk_partition",
            f"{value!r} is a partition; the installer takes whole disks ({whole}) and partitions them itself",
        )
    return value


DiskName = Annotated[str, Field(pattern=r"^[a-z0-9]+$"), AfterValidator(_disk)]
"""A whole disk as the kernel names it, e.g. sda or nvme0n1 (not a partition)."""
