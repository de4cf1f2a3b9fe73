from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from orion_infra.cli_lab import TEST_TWIN_VARIABLE
from orion_infra.lab.twin import Twin
from tests.lab.stacks import lab_stack, running_twin

# `orion lab test` names the shared twin of each group of tests it runs at once.
TWIN_NAME = os.environ.get(TEST_TWIN_VARIABLE, "test")


def pytest_configure(config: pytest.Config) -> None:
    # The groups `orion lab test` runs at once, each with a shared twin of its own (unmarked: the observing tests).
    config.addinivalue_line(
        "markers", "breaks_twin: breaks the shared twin (and restores it): a fresh one in `orion lab test`"
    )
    config.addinivalue_line(
        "markers", "agent_acts: the agent acts on the shared twin (and it is restored): a fresh one in `orion lab test`"
    )
    config.addinivalue_line("markers", "own_twins: builds twins of its own: beside the others in `orion lab test`")


@pytest.fixture(scope="package")
def twin() -> Iterator[Twin]:
    """One twin for the lab's tests (package-scoped), so it builds its stack itself, not from function fixtures."""
    with running_twin(lab_stack(), TWIN_NAME) as lab:
        yield lab


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


def pytest_report_collectionfinish() -> str:
    # What `orion lab test`'s test reads back from each group's output.
    return f"shared lab twin: {TWIN_NAME}"
