"""SSH keys made for a test run (never committed): what the stack's key secrets hold in the tests."""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

_DIRECTORY = Path(tempfile.mkdtemp(prefix="orion-test-keys-"))


@functools.cache
def private_key(name: str, passphrase: str = "") -> str:
    """An ed25519 private key in OpenSSH format, made once per run and name."""
    path = _DIRECTORY / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", f"orion-test-{name}", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.read_text()
