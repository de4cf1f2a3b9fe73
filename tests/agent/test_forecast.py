from __future__ import annotations

import math
import random

import pytest

from orion_agent.forecast import fit_trend, time_to_reach

NOW = 1_700_000_000.0
STEP = 300.0


def series(
    value: float | list[float], slope: float = 0.0, noise: float = 0.0, points: int = 72
) -> list[tuple[float, float]]:
    rng = random.Random(3)  # noqa: S311 - reproducible noise, nothing secret
    start = NOW - (points - 1) * STEP
    base = value if isinstance(value, float) else 0.0
    return [(start + i * STEP, base + slope * i * STEP + rng.gauss(0.0, noise)) for i in range(points)]


def test_a_disk_filling_linearly_is_full_when_the_line_says() -> None:
    # 100 GB free, losing 1 MB/s: full in 100000 s from now.
    points = series(100e9 + 71 * STEP * 1e6, slope=-1e6, noise=2e7)
    seconds = time_to_reach(points, 0.0, NOW, rising=False)
    assert seconds is not None
    assert seconds == pytest.approx(100_000, rel=0.02)


def test_traffic_growing_towards_capacity_saturates_when_the_line_says() -> None:
    # 500 Mbit/s now, growing 10 kbit/s every second: 1 Gbit/s in 50000 s.
    points = series(500e6 - 71 * STEP * 1e4, slope=1e4, noise=5e6)
    seconds = time_to_reach(points, 1e9, NOW, rising=True)
    assert seconds is not None
    assert seconds == pytest.approx(50_000, rel=0.05)


def test_a_flat_or_noisy_flat_series_has_no_trend() -> None:
    assert fit_trend(series(50.0)) is None
    assert time_to_reach(series(50.0), 0.0, NOW, rising=False) is None
    assert time_to_reach(series(50.0, noise=5.0), 100.0, NOW, rising=True) is None


def test_a_trend_away_from_the_limit_never_reaches_it() -> None:
    assert time_to_reach(series(10e9, slope=1e5), 0.0, NOW, rising=False) is None


def test_past_the_limit_already_is_zero() -> None:
    assert time_to_reach(series(1.2e9, slope=1e4), 1e9, NOW, rising=True) == 0.0


def test_a_spike_does_not_tilt_the_line() -> None:
    points = series(100e9 + 71 * STEP * 1e6, slope=-1e6)
    points[40] = (points[40][0], 0.0)  # one scrape read the filesystem empty
    points[41] = (points[41][0], math.nan)
    seconds = time_to_reach(points, 0.0, NOW, rising=False)
    assert seconds == pytest.approx(100_000, rel=0.001)


def test_too_few_points_make_no_forecast() -> None:
    assert time_to_reach(series(100.0, slope=-1.0, points=5), 0.0, NOW, rising=False) is None
