from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from orion_infra.model import RawConfig, read_stack_file
from tests.fixtures.invalid_cases import DEFAULT_STACK, TODAY


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
