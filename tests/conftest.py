from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orion_infra.model import RawConfig, read_stack_file
from tests.fixtures.invalid_cases import DEFAULT_STACK, TODAY
from tests.pulumi_harness import PulumiUp, name_trust_anchors, up_under_mocks
from tests.tiers import fast_tier_limits

FAST_TIER = os.environ.get("ORION_TEST_TIER") == "fast"


@pytest.fixture(autouse=FAST_TIER)
def fast_tier_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In the fast tier (`make test-fast`), each test is held to its limits (tests/tiers.py)."""
    with fast_tier_limits(monkeypatch):
        yield


@pytest.fixture
def today() -> datetime.date:
    """Validation looks at the date (end-of-life releases); tests judge as of a fixed day."""
    return datetime.date.fromisoformat(TODAY)


@pytest.fixture
def default_stack_file() -> Path:
    return DEFAULT_STACK


@pytest.fixture
def default_raw() -> RawConfig:
    return read_stack_file(DEFAULT_STACK)


@pytest.fixture
def pulumi_up(monkeypatch: pytest.MonkeyPatch) -> PulumiUp:
    """Runs ORION's Pulumi program as `pulumi up` would, under a fresh recording mock monitor, with SSL_CERT_DIR
    naming the Proxmox trust anchors' directory as the README tells operators to.

    Takes the plain config (keys without `orion:`) and the secret config; returns what was registered,
    exported and logged.
    """
    name_trust_anchors(monkeypatch)
    return up_under_mocks
