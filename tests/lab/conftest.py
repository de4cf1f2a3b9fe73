from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin
from orion_infra.model import load_stack, read_stack_file
from tests.fixtures.invalid_cases import DEFAULT_STACK, TODAY


@pytest.fixture(scope="package")
def twin() -> Iterator[Twin]:
    """One twin for the lab's tests (package-scoped), so it builds its stack itself, not from function fixtures."""
    stack, _ = load_stack(read_stack_file(DEFAULT_STACK), today=datetime.date.fromisoformat(TODAY))
    # Not under pytest's 0700 temporary directories: FRR's daemons run as the frr user and must reach their files.
    root = Path(f"/tmp/orion-lab-test-{secrets.token_hex(4)}")  # noqa: S108 - fresh name, removed by down()
    lab = Twin(stack, root, prefix="olabt")
    lab.up()
    lab.wait_for_sessions(timeout=40)
    yield lab
    lab.down()
    assert netns.namespaces("olabt-") == []
    assert not lab.root.exists()


@pytest.fixture(scope="package")
def lan_client(twin: Twin) -> str:
    """A LAN host that has its lease."""
    namespace = twin.client("lan-client", "lan")
    twin.dhcp_lease(namespace)
    return namespace


@pytest.fixture(scope="package")
def guest_client(twin: Twin) -> str:
    """A guest host that has its lease."""
    namespace = twin.client("guest-client", "guest")
    twin.dhcp_lease(namespace)
    return namespace
