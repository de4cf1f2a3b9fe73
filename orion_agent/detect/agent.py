"""The monitoring agent's detector: novelty of the deviation from the recent level and from the daily pattern."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from orion_agent.detect.base import RollingMax, RollingStats, two_sided_tail


@dataclass(frozen=True)
class AgentSettings:
    """One parameter set for every series; point counts assume Prometheus-like scrapes (NAB's are 5 minutes apart)."""

    # The recent normal a value is compared with (about five days).
    long_points: int = 1500
    # What is judged is the mean of the last few points, so a single noisy sample is not an event.
    short_points: int = 3
    # A deviation is news when it beats every deviation of this many points before it (about two days).
    memory_points: int = 600
    warm_up_points: int = 100
    novelty_warm_up_points: int = 100
    # The daily pattern: the mean per time-of-day bucket, trusted once the bucket was seen on this many days.
    # Buckets as fine as the scrapes, so a smooth daily curve leaves no residual (30-minute buckets score a pure sine
    # as high as 0.4: the curve moves within a bucket).
    bucket_minutes: int = 5
    bucket_min_days: int = 2
    # Floor of each bucket's learning rate, per visit (once a day): the pattern adapts over about two weeks.
    bucket_learning_rate: float = 1.0 / 12.0
    # After a score this high, stay silent this long: one anomaly, one alarm.
    rest_level: float = 0.55
    rest_points: int = 100
    # Spreads below this fraction of the series' magnitude are noise, not a scale (a flat line's last-digit wiggle).
    relative_scale_floor: float = 1e-3


class _DailyPattern:
    """The mean value of each time-of-day bucket, and the days each bucket has been seen on."""

    def __init__(self, settings: AgentSettings) -> None:
        self._settings = settings
        self._means: dict[int, float] = {}
        self._visits: dict[int, int] = {}
        self._days: dict[int, int] = {}
        self._last_day: dict[int, int] = {}

    def bucket(self, timestamp: datetime) -> int:
        return (timestamp.hour * 60 + timestamp.minute) // self._settings.bucket_minutes

    def expected(self, bucket: int) -> float | None:
        return self._means.get(bucket)

    def trusted(self, bucket: int) -> bool:
        return self._days.get(bucket, 0) >= self._settings.bucket_min_days

    def learn(self, timestamp: datetime, bucket: int, value: float) -> None:
        visits = self._visits.get(bucket, 0) + 1
        self._visits[bucket] = visits
        day = timestamp.toordinal()
        if self._last_day.get(bucket) != day:
            self._last_day[bucket] = day
            self._days[bucket] = self._days.get(bucket, 0) + 1
        mean = self._means.get(bucket, value)
        rate = max(self._settings.bucket_learning_rate, 1.0 / visits)
        self._means[bucket] = mean + rate * (value - mean)


class _Novelty:
    """How a deviation compares with the largest of the recent past: above 1/2 when it beats them all."""

    def __init__(self, memory_points: int) -> None:
        self._recent = RollingMax(memory_points)

    def score(self, deviation: float, judge: bool) -> float:
        record = self._recent.value
        self._recent.push(deviation)
        if not judge:
            return 0.0
        ratio = deviation / max(record, 1e-9)
        # The tail factor keeps tiny deviations quiet even when the recent past was perfectly flat.
        return ratio / (1.0 + ratio) * (1.0 - two_sided_tail(deviation))


class AgentDetector:
    """Scores how much the latest values beat the recent past's surprises, judged against the daily pattern
    (seasonal residual) and against whichever of daily pattern or recent level explains them better.

    O(1) amortised per point; state: two windows of `long_points`, one of `memory_points` at most, and one float per
    time-of-day bucket.
    """

    def __init__(self, settings: AgentSettings | None = None) -> None:
        self.settings = settings = settings or AgentSettings()
        self._long = RollingStats(settings.long_points)
        self._short = RollingStats(settings.short_points)
        self._residuals = RollingStats(settings.long_points)
        self._recent_residuals = RollingStats(settings.short_points)
        self._pattern = _DailyPattern(settings)
        self._seasonal_novelty = _Novelty(settings.memory_points)
        self._unexplained_novelty = _Novelty(settings.memory_points)
        self._seen = 0
        self._points_since_alarm = settings.rest_points + 1

    def update(self, timestamp: datetime, value: float) -> float:
        settings = self.settings
        if not math.isfinite(value):
            raise ValueError(f"value at {timestamp} is not a finite number: {value}")
        self._seen += 1
        self._short.push(value)
        scale_floor = settings.relative_scale_floor * abs(self._long.mean) + 1e-12
        level_deviation: float | None = None
        if len(self._long) >= settings.warm_up_points:
            level_deviation = abs(self._short.mean - self._long.mean) / max(self._long.std, scale_floor)
        self._long.push(value)

        bucket = self._pattern.bucket(timestamp)
        expected = self._pattern.expected(bucket)
        seasonal_deviation: float | None = None
        if expected is not None:
            self._recent_residuals.push(value - expected)
            if self._pattern.trusted(bucket) and len(self._residuals) >= settings.warm_up_points:
                spread = max(self._residuals.std, scale_floor)
                seasonal_deviation = abs(self._recent_residuals.mean) / spread
            self._residuals.push(value - expected)
        self._pattern.learn(timestamp, bucket, value)

        if level_deviation is None:
            return 0.0
        if seasonal_deviation is None:
            seasonal_deviation = level_deviation
        judge = self._seen >= settings.warm_up_points + settings.novelty_warm_up_points
        score = max(
            self._seasonal_novelty.score(seasonal_deviation, judge),
            self._unexplained_novelty.score(min(level_deviation, seasonal_deviation), judge),
        )
        self._points_since_alarm += 1
        if self._points_since_alarm <= settings.rest_points:
            return 0.0
        if score >= settings.rest_level:
            self._points_since_alarm = 0
        return score
