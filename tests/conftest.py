from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from orion_infra.model import RawConfig, read_stack_file
from tests.fixtures.invalid_cases import DEFAULT_STACK, TODAY
from tests.pulumi_harness import PulumiUp, name_trust_anchors, up_under_mocks


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
