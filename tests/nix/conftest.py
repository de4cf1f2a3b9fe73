from __future__ import annotations

import datetime

import pytest

from orion_infra.model import OrionStack, RawConfig, load_stack


@pytest.fixture
def default_stack(default_raw: RawConfig, today: datetime.date) -> OrionStack:
    stack, _ = load_stack(default_raw, today=today)
    return stack
