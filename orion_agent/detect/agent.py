"""The monitoring agent's detector: novelty of the deviation from the recent level and from the daily pattern."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from orion_agent.detect.base import (
    RecentMean,
    Restorable,
    WindowMax,
    WindowStats,
    as_float,
    as_int,
    require,
    seconds_of,
    two_sided_tail,
)


@dataclass(frozen=True)
class AgentSettings:
    """One parameter set for every series. Windows are durations, so the detector behaves the same at the agent's
    15-second checks as at NAB's 5-minute points; warm-ups need both a duration and a number of points, so a series
    sampled hourly still has enough points to estimate a spread from."""

    # The recent normal a value is compared with.
    long_window: timedelta = timedelta(hours=125)
    # What is judged is the mean of the last few minutes, so a single noisy sample is not an event.
    short_window: timedelta = timedelta(minutes=15)
    # A deviation is news when it beats every deviation of this long before it.
    memory: timedelta = timedelta(days=4)
    warm_up: timedelta = timedelta(minutes=500)
    warm_up_points: int = 100
    novelty_warm_up: timedelta = timedelta(minutes=500)
    novelty_warm_up_points: int = 100
    # The granularity of the long windows' sums and of the daily pattern's buckets: fine enough that a smooth daily
    # curve leaves no residual (30-minute buckets score a pure sine as high as 0.4: the curve moves within a bucket).
    resolution: timedelta = timedelta(minutes=5)
    # The daily pattern: the mean per time-of-day bucket, trusted once the bucket was seen on this many days.
    pattern_min_days: int = 2
    # Floor of each bucket's learning rate, per day (per week for the weekly offsets): the daily pattern adapts over
    # about two weeks.
    pattern_learning_rate: float = 1.0 / 12.0
    # The weekly pattern: per hour of the week, how far the value lies from the daily pattern (a quiet weekend), learnt
    # in hours because the daily pattern already carries the shape within the hour; trusted after this many weeks.
    weekly_resolution: timedelta = timedelta(hours=1)
    pattern_min_weeks: int = 2
    # After a score this high, an episode: silent for at least `quiet`, until the deviations fall back under the
    # record (the event passed) or for at most `rest` (it lasted, and is the new normal). A passed event's deviations
    # join the record at `passed_weight` of their size: a second event within the memory is news when it beats that
    # fraction of the first (at full size, a smaller second event could never be news).
    rest_level: float = 0.55
    quiet: timedelta = timedelta(hours=4)
    rest: timedelta = timedelta(minutes=500)
    passed_weight: float = 0.5
    # Spreads below this fraction of the series' magnitude are noise, not a scale (a flat line's last-digit wiggle).
    relative_scale_floor: float = 1e-3

    def document(self) -> dict[str, float | int]:
        """The settings as plain numbers (durations in seconds): what a saved state must have been made with."""
        return {
            name: value.total_seconds() if isinstance(value, timedelta) else value
            for name, value in asdict(self).items()
        }


DAY_SECONDS = 86400.0
WEEK_SECONDS = 7 * DAY_SECONDS


class _SeasonalPattern:
    """The mean value of each bucket of a period (a day), learnt a whole period at a time: each bucket sums the
    current period's values and folds their mean into its long-run mean when the next period begins, so a bucket
    learns at the same rate however many scrapes fall into it."""

    def __init__(self, period: float, resolution: float, learning_rate: float) -> None:
        self._period = period
        self._resolution = resolution
        self._learning_rate = learning_rate
        # bucket -> [long-run mean or None, periods folded, current period, its sum, its count]
        self._buckets: dict[int, list[Any]] = {}

    def visit(self, seconds: float) -> tuple[int, float | None, int]:
        """The bucket of `seconds`, after folding its previous period: (bucket, expected value, periods learnt)."""
        bucket = math.floor((seconds % self._period) / self._resolution)
        cycle = math.floor(seconds / self._period)
        state = self._buckets.get(bucket)
        if state is None:
            return bucket, None, 0
        mean, folded, current, total, count = state
        if current != cycle and count > 0:
            folded += 1
            period_mean = total / count
            rate = max(self._learning_rate, 1.0 / folded)
            mean = period_mean if mean is None else mean + rate * (period_mean - mean)
            self._buckets[bucket] = [mean, folded, cycle, 0.0, 0]
        return bucket, mean, folded

    def learn(self, seconds: float, bucket: int, value: float) -> None:
        cycle = math.floor(seconds / self._period)
        state = self._buckets.setdefault(bucket, [None, 0, cycle, 0.0, 0])
        state[2] = cycle
        state[3] += value
        state[4] += 1

    def snapshot(self) -> dict[str, list[Any]]:
        return {str(bucket): list(state) for bucket, state in self._buckets.items()}

    def restore(self, state: Any, what: str) -> None:
        require(isinstance(state, dict), f"{what}: expected a table")
        self._buckets.clear()
        buckets = math.ceil(self._period / self._resolution)
        for key, values in state.items():
            where = f"{what}[{key}]"
            require(key.isdigit() and int(key) < buckets, f"{where}: expected a bucket number below {buckets}")
            require(isinstance(values, list) and len(values) == 5, f"{where}: expected 5 numbers")
            mean = None if values[0] is None else as_float(values[0], where)
            self._buckets[int(key)] = [
                mean,
                as_int(values[1], where),
                as_int(values[2], where),
                as_float(values[3], where),
                as_int(values[4], where),
            ]


class _Novelty:
    """How a deviation compares with the largest of the recent past: above 1/2 when it beats them all. The past ends
    where the short window begins: otherwise an event would be compared with its own first minutes, and the more
    often a series is scraped, the smaller each step of the same event would look. While an alarm's episode lasts,
    its deviations are held out of the record; whether they join it is decided when the episode ends."""

    def __init__(self, memory: float, settling: float, resolution: float, passed_weight: float) -> None:
        self._recent = WindowMax(memory, resolution)
        self._passed_weight = passed_weight
        self._settling = settling
        self._pending: deque[tuple[float, float]] = deque()
        self._held: list[tuple[float, float]] = []
        self.beats_record = False

    def score(self, seconds: float, deviation: float, judge: bool, hold: bool) -> float:
        while self._pending and self._pending[0][0] <= seconds - self._settling:
            self._recent.push(*self._pending.popleft())
        self._recent.expire(seconds)
        record = max(self._recent.value, 0.0)
        (self._held if hold else self._pending).append((seconds, deviation))
        self.beats_record = deviation > record
        if not judge:
            return 0.0
        ratio = deviation / max(record, 1e-9)
        # The tail factor keeps tiny deviations quiet even when the recent past was perfectly flat.
        return ratio / (1.0 + ratio) * (1.0 - two_sided_tail(deviation))

    def hold(self) -> None:
        """An alarm: the deviations not yet in the record (the event's first minutes) are held with the episode's."""
        self._held.extend(self._pending)
        self._pending.clear()

    def release(self, keep: bool) -> None:
        """The episode is over: its deviations join the record (it lasted: the new normal) or are forgotten (it
        passed: a later event is judged against the normal before it, not against this one)."""
        weight = 1.0 if keep else self._passed_weight
        self._pending.extend((seconds, deviation * weight) for seconds, deviation in self._held)
        self._held.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "record": self._recent.snapshot(),
            "pending": [list(pair) for pair in self._pending],
            "held": [list(pair) for pair in self._held],
        }

    def restore(self, state: Any, what: str) -> None:
        require(isinstance(state, dict), f"{what}: expected a table")
        self._recent.restore(state.get("record"), f"{what}.record")
        for name, into in (("pending", self._pending), ("held", self._held)):
            pairs = state.get(name)
            require(isinstance(pairs, list), f"{what}.{name}: expected a list")
            into.clear()
            for position, pair in enumerate(pairs):
                where = f"{what}.{name}[{position}]"
                require(isinstance(pair, list) and len(pair) == 2, f"{where}: expected [seconds, deviation]")
                into.append((as_float(pair[0], where), as_float(pair[1], where)))


class AgentDetector:
    """Scores how much the latest values beat the recent past's surprises, judged against the daily pattern
    (seasonal residual) and against whichever of daily pattern or recent level explains them better.

    O(1) amortised per point; state: two windows of `long_window / resolution` sums, a short window of points, a
    monotonic queue of at most `memory / resolution` entries and one mean per bucket of the day, whatever the
    scrape rate. A timestamp earlier than the last one seen is taken as the last one (clamped): a clock stepped
    back must not crash the agent or unlearn its windows.
    """

    def __init__(self, settings: AgentSettings | None = None) -> None:
        self.settings = settings = settings or AgentSettings()
        resolution = settings.resolution.total_seconds()
        self._long = WindowStats(settings.long_window.total_seconds(), resolution)
        self._short = RecentMean(settings.short_window.total_seconds())
        self._residuals = WindowStats(settings.long_window.total_seconds(), resolution)
        self._recent_residuals = RecentMean(settings.short_window.total_seconds())
        self._pattern = _SeasonalPattern(DAY_SECONDS, resolution, settings.pattern_learning_rate)
        self._weekly = _SeasonalPattern(
            WEEK_SECONDS, settings.weekly_resolution.total_seconds(), settings.pattern_learning_rate
        )
        self._weekly_residuals = WindowStats(settings.long_window.total_seconds(), resolution)
        self._recent_weekly_residuals = RecentMean(settings.short_window.total_seconds())
        # The durations compared on every point, in seconds once and for all.
        self._warm_up = settings.warm_up.total_seconds()
        self._judge_after = (settings.warm_up + settings.novelty_warm_up).total_seconds()
        self._quiet = settings.quiet.total_seconds()
        self._rest = settings.rest.total_seconds()
        memory = settings.memory.total_seconds()
        settling = settings.short_window.total_seconds()
        self._seasonal_novelty = _Novelty(memory, settling, resolution, settings.passed_weight)
        self._unexplained_novelty = _Novelty(memory, settling, resolution, settings.passed_weight)
        self._seen = 0
        self._first: float | None = None
        self._last: float | None = None
        self._last_alarm: float | None = None
        self._in_episode = False

    def update(self, timestamp: datetime, value: float) -> float:
        settings = self.settings
        if not math.isfinite(value):
            raise ValueError(f"value at {timestamp} is not a finite number: {value}")
        seconds = seconds_of(timestamp)
        if self._last is not None and seconds < self._last:
            seconds = self._last
        self._last = seconds
        if self._first is None:
            self._first = seconds
        elapsed = seconds - self._first
        self._seen += 1
        self._short.push(seconds, value)
        self._long.expire(seconds)
        self._residuals.expire(seconds)
        self._weekly_residuals.expire(seconds)
        scale_floor = settings.relative_scale_floor * abs(self._long.mean) + 1e-12
        warm = len(self._long) >= settings.warm_up_points and elapsed >= self._warm_up
        level_deviation: float | None = None
        if warm:
            level_deviation = abs(self._short.mean - self._long.mean) / max(self._long.std, scale_floor)
        self._long.push(seconds, value)

        seasonal_deviation = self._seasonal_deviation(seconds, value, scale_floor)
        if level_deviation is None:
            return 0.0
        if seasonal_deviation is None:
            seasonal_deviation = level_deviation
        judge = self._seen >= settings.warm_up_points + settings.novelty_warm_up_points and elapsed >= self._judge_after
        score = max(
            self._seasonal_novelty.score(seconds, seasonal_deviation, judge, self._in_episode),
            self._unexplained_novelty.score(seconds, min(level_deviation, seasonal_deviation), judge, self._in_episode),
        )
        return self._alarm(seconds, score)

    def _seasonal_deviation(self, seconds: float, value: float, scale_floor: float) -> float | None:
        """How far the recent values lie from the daily (or, once trusted, weekly) pattern, in spreads."""
        settings = self.settings
        bucket, expected, days = self._pattern.visit(seconds)
        deviation: float | None = None
        if expected is not None:
            self._recent_residuals.push(seconds, value - expected)
            if days >= settings.pattern_min_days and len(self._residuals) >= settings.warm_up_points:
                spread = max(self._residuals.std, scale_floor)
                deviation = abs(self._recent_residuals.mean) / spread
            self._residuals.push(seconds, value - expected)
            weekly_deviation = self._weekly_deviation(seconds, value - expected, scale_floor)
            # Once trusted, the weekly pattern is the more specific one: a weekday as quiet as a Sunday is news to it,
            # not to a daily pattern that has learnt the average of both.
            if weekly_deviation is not None and deviation is not None:
                deviation = weekly_deviation
        self._pattern.learn(seconds, bucket, value)
        return deviation

    def _alarm(self, seconds: float, score: float) -> float:
        """The score as reported: silent during an alarm's episode, which a high score opens."""
        settings = self.settings
        novelties = (self._seasonal_novelty, self._unexplained_novelty)
        if self._in_episode and self._last_alarm is not None:
            since = seconds - self._last_alarm
            if since > self._rest:
                self._end_episode(keep=True)
            elif since > self._quiet and not (novelties[0].beats_record or novelties[1].beats_record):
                self._end_episode(keep=False)
            return 0.0
        if score >= settings.rest_level:
            self._last_alarm = seconds
            self._in_episode = True
            for novelty in novelties:
                novelty.hold()
        return score

    def _end_episode(self, keep: bool) -> None:
        self._in_episode = False
        self._seasonal_novelty.release(keep)
        self._unexplained_novelty.release(keep)

    def _weekly_deviation(self, seconds: float, daily_residual: float, scale_floor: float) -> float | None:
        """How far the recent daily residuals lie from this hour of the week's usual offset, in spreads."""
        settings = self.settings
        bucket, offset, weeks = self._weekly.visit(seconds)
        deviation = None
        if offset is not None:
            self._recent_weekly_residuals.push(seconds, daily_residual - offset)
            if weeks >= settings.pattern_min_weeks and len(self._weekly_residuals) >= settings.warm_up_points:
                spread = max(self._weekly_residuals.std, scale_floor)
                deviation = abs(self._recent_weekly_residuals.mean) / spread
            self._weekly_residuals.push(seconds, daily_residual - offset)
        self._weekly.learn(seconds, bucket, daily_residual)
        return deviation

    # Saving and restoring

    def snapshot(self) -> dict[str, Any]:
        """Everything the detector has learnt, as JSON-able data, with the settings it was learnt under."""
        return {
            "settings": self.settings.document(),
            "seen": self._seen,
            "first": self._first,
            "last": self._last,
            "last_alarm": self._last_alarm,
            "in_episode": self._in_episode,
            "long": self._long.snapshot(),
            "short": self._short.snapshot(),
            "residuals": self._residuals.snapshot(),
            "recent_residuals": self._recent_residuals.snapshot(),
            "pattern": self._pattern.snapshot(),
            "weekly": self._weekly.snapshot(),
            "weekly_residuals": self._weekly_residuals.snapshot(),
            "recent_weekly_residuals": self._recent_weekly_residuals.snapshot(),
            "seasonal_novelty": self._seasonal_novelty.snapshot(),
            "unexplained_novelty": self._unexplained_novelty.snapshot(),
        }

    @classmethod
    def restored(cls, state: Any, settings: AgentSettings | None = None) -> AgentDetector:
        """A detector continuing from `snapshot()`'s data; StateError names the first field that does not fit."""
        detector = cls(settings)
        require(isinstance(state, dict), "expected a table of detector state")
        saved_settings = state.get("settings")
        require(
            saved_settings == detector.settings.document(),
            f"settings: saved with {saved_settings!r}, expected {detector.settings.document()!r}",
        )
        detector._seen = as_int(state.get("seen"), "seen")
        detector._first = _optional_float(state.get("first"), "first")
        detector._last = _optional_float(state.get("last"), "last")
        detector._last_alarm = _optional_float(state.get("last_alarm"), "last_alarm")
        in_episode = state.get("in_episode")
        require(isinstance(in_episode, bool), "in_episode: expected true or false")
        detector._in_episode = in_episode
        parts: list[tuple[str, Restorable]] = [
            ("long", detector._long),
            ("short", detector._short),
            ("residuals", detector._residuals),
            ("recent_residuals", detector._recent_residuals),
            ("pattern", detector._pattern),
            ("weekly", detector._weekly),
            ("weekly_residuals", detector._weekly_residuals),
            ("recent_weekly_residuals", detector._recent_weekly_residuals),
            ("seasonal_novelty", detector._seasonal_novelty),
            ("unexplained_novelty", detector._unexplained_novelty),
        ]
        for name, part in parts:
            require(name in state, f"{name}: missing")
            part.restore(state[name], name)
        return detector


def _optional_float(value: Any, what: str) -> float | None:
    return None if value is None else as_float(value, what)
