from __future__ import annotations

from collections.abc import Iterator

import pytest

from orion_infra.lab.twin import Twin
from tests.lab.stacks import lab_stack, running_twin

TWIN_NAME = "test"


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
