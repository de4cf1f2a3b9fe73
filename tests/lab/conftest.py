from __future__ import annotations

import dataclasses
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
    raw = read_stack_file(DEFAULT_STACK)
    # The stack as operators write it, on a faster clock: scrapes every second and notifications without batching,
    # so alerts fire and resolve within seconds. Same renderers, same rules, same addresses.
    operators = raw.values["monitoring"]
    assert isinstance(operators, dict)
    monitoring = {
        **operators,
        "scrape_interval_seconds": 1,
        "alert_grouping": {"wait_seconds": 1, "interval_seconds": 2},
    }
    raw = dataclasses.replace(raw, values={**raw.values, "monitoring": monitoring})
    stack, _ = load_stack(raw, today=datetime.date.fromisoformat(TODAY))
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
