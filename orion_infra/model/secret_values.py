"""What a secret's value must be, by where the stack uses it: checked before anything is created, reported with the
config key and what was expected, never with the value."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Callable

from orion_infra.model.problems import Location

# The kernel's TCP-MD5 key limit (TCP_MD5SIG_MAXKEYLEN), and what a BIRD string can carry (no escapes).
TCP_MD5_MAX_BYTES = 80
_BIRD_STRING = re.compile(r"^[\x20-\x7e]+$")
# iDRAC 8 accepts 1 to 20 characters for a local user's password (RACADM and Redfish Password property).
IDRAC_PASSWORD_MAX = 20
_OPENSSH = re.compile(
    r"^-----BEGIN OPENSSH PRIVATE KEY-----\r?\n(?P<body>[A-Za-z0-9+/=\r\n]+)-----END OPENSSH PRIVATE KEY-----\s*$"
)


def _bgp_password(value: str) -> str | None:
    if not value or len(value.encode()) > TCP_MD5_MAX_BYTES:
        return f"expected 1 to {TCP_MD5_MAX_BYTES} bytes (the kernel's TCP-MD5 key limit), got {len(value.encode())}"
    if not _BIRD_STRING.fullmatch(value) or '"' in value or "\\" in value:
        return 'expected printable ASCII without " or \\ (BIRD writes it as a quoted string, without escapes)'
    return None


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    return blob[offset + 4 : offset + 4 + length], offset + 4 + length


def _ssh_private_key(value: str) -> str | None:
    found = _OPENSSH.fullmatch(value.strip() + "\n")
    if found is None:
        return "expected an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY----- ...), as ssh-keygen writes it"
    try:
        blob = base64.b64decode("".join(found.group("body").split()), validate=True)
        if not blob.startswith(b"openssh-key-v1\0"):
            return "expected an OpenSSH private key; its content is not openssh-key-v1"
        cipher, _ = _read_string(blob, len(b"openssh-key-v1\0"))
    except (binascii.Error, struct.error):
        return "expected an OpenSSH private key; its base64 content does not decode"
    if cipher != b"none":
        return "expected a key without a passphrase: Pulumi cannot type one (ssh-keygen -p -N '' removes it)"
    return None


def _idrac_password(value: str) -> str | None:
    if not 1 <= len(value) <= IDRAC_PASSWORD_MAX or not _BIRD_STRING.fullmatch(value):
        return f"expected 1 to {IDRAC_PASSWORD_MAX} printable ASCII characters (what the iDRAC accepts)"
    return None


def _proxmox_password(value: str) -> str | None:
    if len(value) < 8 or "\n" in value:
        return "expected at least 8 characters on one line (Proxmox refuses shorter passwords)"
    return None


# Where each secret is referenced (an int: any index) and what its value must be.
RULES: tuple[tuple[tuple[str | type[int], ...], Callable[[str], str | None]], ...] = (
    (("bgp", "peers", int, "password"), _bgp_password),
    (("access", "deploy_key"), _ssh_private_key),
    (("access", "agent_key"), _ssh_private_key),
    (("hosts", int, "idrac", "password"), _idrac_password),
    (("hosts", int, "proxmox", "root_password"), _proxmox_password),
)


def _matches(pattern: tuple[str | type[int], ...], loc: Location) -> bool:
    return len(pattern) == len(loc) and all(
        isinstance(part, int) if expected is int else part == expected
        for expected, part in zip(pattern, loc, strict=True)
    )


def value_problem(loc: Location, value: str) -> str | None:
    """Why `value` cannot serve where `loc` uses it, or None. The message never contains the value."""
    return next((rule(value) for pattern, rule in RULES if _matches(pattern, loc)), None)
