"""Predictions from a robust linear trend: when a series will reach a limit (disk full, WAN saturated), if ever."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Fewer points than this make any slope a guess.
MIN_POINTS = 8
# Kendall's tau of time against value: how consistently the series moves one way. Noise around a level scores
# near 0; a steady fill scores near 1. Below this, there is no trend to extrapolate.
MIN_TAU = 0.5


@dataclass(frozen=True)
class Trend:
    """A Theil-Sen line: robust to the odd spike or gap that would tilt a least-squares fit."""

    slope: float
    """Units per second."""
    intercept: float
    """Value at time 0 (unix time)."""
    tau: float

    def at(self, time: float) -> float:
        return self.intercept + self.slope * time


def fit_trend(points: Sequence[tuple[float, float]]) -> Trend | None:
    """The median pairwise slope, or None when there are too few points or no consistent direction."""
    usable = sorted((t, v) for t, v in points if math.isfinite(t) and math.isfinite(v))
    if len(usable) < MIN_POINTS:
        return None
    slopes = []
    concordant = discordant = 0
    for i, (t1, v1) in enumerate(usable):
        for t2, v2 in usable[i + 1 :]:
            if t2 == t1:
                continue
            slopes.append((v2 - v1) / (t2 - t1))
            if v2 > v1:
                concordant += 1
            elif v2 < v1:
                discordant += 1
    if not slopes:
        return None
    tau = (concordant - discordant) / len(slopes)
    if abs(tau) < MIN_TAU:
        return None
    slope = statistics.median(slopes)
    if slope == 0:
        return None
    intercept = statistics.median(v - slope * t for t, v in usable)
    return Trend(slope, intercept, tau)


def time_to_reach(points: Sequence[tuple[float, float]], limit: float, now: float, *, rising: bool) -> float | None:
    """Seconds from `now` until the series' trend, rising to `limit` (or falling to it), gets there; 0 if it is
    past it already; None without a trend in that direction."""
    trend = fit_trend(points)
    if trend is None or (trend.slope > 0) != rising:
        return None
    level = trend.at(now)
    if (level >= limit) if rising else (level <= limit):
        return 0.0
    return (limit - level) / trend.slope
