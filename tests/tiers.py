"""The test tiers. The fast tier (`make test-fast`, pre-commit) is the tests that run in this process and in no real
time: no root, no other program, no waiting. Its guard holds each test to that, so a test that needs more is marked
for the full tier (`root`, `programs`, `realtime`; pyproject.toml) instead of slowing every commit down unnoticed."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REAL_SLEEP_ALLOWED = 0.2
"""Seconds of real sleeping a fast-tier test may add up to (a poll or two), across all its threads."""


@contextmanager
def fast_tier_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside, starting a program fails at once and more than REAL_SLEEP_ALLOWED of sleeping fails at the end."""

    def no_program(_popen: subprocess.Popen[Any], arguments: object, *_: object, **__: object) -> None:
        raise AssertionError(f"the fast tier runs no program (this test ran {arguments!r}): mark it programs")

    slept = 0.0
    lock = threading.Lock()
    real_sleep = time.sleep

    def counted_sleep(seconds: float) -> None:
        nonlocal slept
        with lock:
            slept += seconds
        real_sleep(seconds)

    # Where every way of starting a program ends (run, check_output, Popen), after Popen has set itself up.
    monkeypatch.setattr(subprocess.Popen, "_execute_child", no_program)
    monkeypatch.setattr(time, "sleep", counted_sleep)
    yield
    assert slept <= REAL_SLEEP_ALLOWED, f"the fast tier waits in no real time ({slept:.2f} s slept): mark it realtime"
