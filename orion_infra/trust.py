"""Where the operator's machine keeps the anchors it verifies Proxmox APIs with (tls.verify: node_ca, ADR 0031):
the Proxmox provider reads them through SSL_CERT_DIR, the deploy writes them, `orion trust` writes them again from
the stack's output. No Pulumi here: the CLI uses it."""

from __future__ import annotations

from pathlib import Path

TRUST_DIR = Path(".orion") / "trust"
"""Relative to the project directory, which is where Pulumi runs the program and the operator runs `orion`."""


def node_trust_file(trust_dir: str, node: str) -> str:
    """The anchor of `node`'s API in `trust_dir`."""
    return f"{trust_dir.rstrip('/')}/{node}.pem"
