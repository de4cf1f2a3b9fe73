"""SSH host keys the deploy makes for the NixOS VMs before they boot, so that every connection to a VM can check
whom it talks to from the first one on.

A key is an Ed25519 key whose 32-byte seed pulumi-random generates (a secret in the state); everything else follows
from the seed, the same bytes on every run: the private key in OpenSSH's format (what sshd reads), the public line
(what pulumi-command pins and known_hosts lists) and the cloud-config user data that carries the key to the VM's
first boot on its cloud-init drive (nix/scripts/orion-host-key installs it before sshd starts).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SEED_BYTES = 32
KEY_TYPE = b"ssh-ed25519"
# Where the VM's first-boot unit finds the key in the user data; the cloud-config keys cloud-init uses too.
PRIVATE_KEY_FIELD = "ed25519_private"
PUBLIC_KEY_FIELD = "ed25519_public"


@dataclass(frozen=True)
class HostKey:
    private_openssh: str
    public_line: str
    """`ssh-ed25519 AAAA... comment`: an authorized_keys line, as pulumi-command's host_key takes it."""

    @property
    def public_key(self) -> str:
        """The key without its comment, as known_hosts lists it."""
        return " ".join(self.public_line.split()[:2])


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def host_key(seed_base64: str, comment: str) -> HostKey:
    """The host key grown from `seed_base64` (pulumi-random's RandomBytes, 32 bytes)."""
    seed = base64.b64decode(seed_base64, validate=True)
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a host key seed is {SEED_BYTES} bytes, got {len(seed)}")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_blob = _string(KEY_TYPE) + _string(public)
    # openssh-key-v1 (OpenSSH's PROTOCOL.key), unencrypted. The check integer is random in ssh-keygen's output;
    # here it comes from the seed, so the same seed always gives the same file.
    check = hashlib.sha256(b"orion host key check" + seed).digest()[:4]
    private = check + check + _string(KEY_TYPE) + _string(public) + _string(seed + public) + _string(comment.encode())
    private += bytes(range(1, 1 + (-len(private) % 8)))
    blob = (
        b"openssh-key-v1\0"
        + _string(b"none")
        + _string(b"none")
        + _string(b"")
        + struct.pack(">I", 1)
        + _string(public_blob)
        + _string(private)
    )
    encoded = base64.b64encode(blob).decode()
    lines = [encoded[index : index + 70] for index in range(0, len(encoded), 70)]
    pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----\n"
    return HostKey(pem, f"{KEY_TYPE.decode()} {base64.b64encode(public_blob).decode()} {comment}")


def first_boot_user_data(key: HostKey) -> str:
    """The VM's cloud-init user data: its host key, nothing else."""
    private = "".join(f"    {line}\n" for line in key.private_openssh.splitlines())
    return (
        "#cloud-config\n"
        "# Rendered by ORION: the VM's SSH host key, installed at its first boot before sshd starts.\n"
        "ssh_keys:\n"
        f"  {PRIVATE_KEY_FIELD}: |\n{private}"
        f"  {PUBLIC_KEY_FIELD}: {key.public_line}\n"
    )


def known_hosts_line(address: object, key: HostKey | str) -> str:
    """`address`'s known_hosts line for `key` (a key made here, or a public line such as ssh-keyscan prints)."""
    public = key.public_key if isinstance(key, HostKey) else " ".join(key.split()[:2])
    return f"{address} {public}\n"
