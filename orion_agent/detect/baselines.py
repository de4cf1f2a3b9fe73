"""Two simple detectors the agent's detector is measured against (windows in time, like the agent's: NAB's point
counts times its 5-minute spacing)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from orion_agent.detect.base import RecentMean, WindowStats, seconds_of, two_sided_tail

NAB_STEP = timedelta(minutes=5)


class WindowedGaussianDetector:
    """How unlikely the mean of the last few values is under a Gaussian fitted to a long window before them."""

    def __init__(
        self, long_window: timedelta = 2000 * NAB_STEP, short_window: timedelta = 10 * NAB_STEP, warm_up: int = 100
    ) -> None:
        self._long = WindowStats(long_window.total_seconds(), NAB_STEP.total_seconds())
        self._short = RecentMean(short_window.total_seconds())
        self._warm_up = warm_up

    def update(self, timestamp: datetime, value: float) -> float:
        seconds = seconds_of(timestamp)
        self._short.push(seconds, value)
        self._long.expire(seconds)
        score = 0.0
        if len(self._long) >= self._warm_up:
            spread = self._long.std
            distance = abs(self._short.mean - self._long.mean)
            if spread > 0.0:
                # -log10 of the tail rather than 1 - tail, which rounds to 1.0 beyond 8 sigma and so hides the ranking.
                surprise = -math.log10(max(two_sided_tail(distance / spread), 1e-300))
                score = surprise / (surprise + 1.0)
            elif distance > 0.0:
                score = 1.0
        self._long.push(seconds, value)
        return score


class StaticThresholdDetector:
    """Bounds learnt from the first `learning_points` values; afterwards, how far outside them a value lies."""

    def __init__(self, learning_points: int = 750, margin: float = 0.0) -> None:
        self._learning_points = learning_points
        self._margin = margin
        self._seen = 0
        self._low = float("inf")
        self._high = float("-inf")

    def update(self, timestamp: datetime, value: float) -> float:
        if self._seen < self._learning_points:
            self._seen += 1
            self._low = min(self._low, value)
            self._high = max(self._high, value)
            return 0.0
        spread = self._high - self._low
        slack = self._margin * spread
        excess = max(self._low - slack - value, value - self._high - slack, 0.0)
        if excess == 0.0:
            return 0.0
        # Relative to the learnt range, so the score means the same for bytes and percentages.
        return excess / (excess + spread) if spread > 0.0 else 1.0
