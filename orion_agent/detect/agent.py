"""The monitoring agent's detector: novelty of the deviation from the daily or weekly pattern or the recent level."""

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
    # Floor of each bucket's learning rate, per day: the daily pattern adapts over about two weeks.
    pattern_learning_rate: float = 1.0 / 12.0
    # The weekly pattern: the mean per bucket of the week (a quiet weekend), trusted after this many weeks, adapting
    # over about a month; coarser buckets than the daily pattern's keep its state small (672 numbers, not 2016).
    weekly_resolution: timedelta = timedelta(minutes=15)
    weekly_learning_rate: float = 1.0 / 4.0
    pattern_min_weeks: int = 2
    # After a score this high, an episode: silent for at least `quiet`, until the deviations fall back under the
    # record (the event passed) or for at most `rest` (it lasted, and is the new normal: the level and the novelty
    # record are learnt anew from the episode's start). A passed event's deviations join the record at
    # `passed_weight` of their size: a second event within the memory is news when it beats that fraction of the
    # first (at full size, a smaller second event could never be news). An episode opens only at a clear beat of the
    # record (0.6: the deviation 1.5 times the record); a narrow beat joins the record at full size instead, which
    # quiets a noisy series' next near-records (0.55 made 8 more false alarms on NAB's AWS files for no window).
    rest_level: float = 0.6
    quiet: timedelta = timedelta(hours=4)
    rest: timedelta = timedelta(minutes=500)
    passed_weight: float = 0.25
    # A score is reported only when it beats every score reported this long before: the first sign of an event is the
    # news, and a noisy series' near-records, which stay under `rest_level` and so open no episode, are one alarm, not
    # one per point.
    repeat_window: timedelta = timedelta(hours=1)
    # The tail factor, which keeps a deviation that beats a flat record quiet when it is small, reads the deviation in
    # spreads of this width: the deviation is the difference of two noisy estimates (the last minutes against the
    # level or pattern expected), and the difference of two independent values spreads sqrt(2) times as wide as one.
    # Read in single spreads, a series' noise beat a quiet record too readily; NAB's tuned threshold then had to sit
    # above such near-records, and where it sat depended on the few artificial files it was tuned on.
    tail_spread: float = math.sqrt(2.0)
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


class _PatternResiduals:
    """A seasonal pattern with the spread of the values around it (over the long window) and the mean of the recent
    residuals: how far the last minutes lie from what this time of the day (or week) usually holds."""

    def __init__(self, pattern: _SeasonalPattern, settings: AgentSettings) -> None:
        self.pattern = pattern
        self.residuals = WindowStats(settings.long_window.total_seconds(), settings.resolution.total_seconds())
        self.recent = RecentMean(settings.short_window.total_seconds())

    def judge(
        self, seconds: float, value: float, min_periods: int, min_points: int, scale_floor: float
    ) -> tuple[float, float] | None:
        """(deviation in spreads, spread) once the pattern is trusted, else None; then learns `value`."""
        bucket, expected, periods = self.pattern.visit(seconds)
        self.residuals.expire(seconds)
        judged = None
        if expected is not None:
            self.recent.push(seconds, value - expected)
            if periods >= min_periods and len(self.residuals) >= min_points:
                spread = self.residuals.std
                judged = (abs(self.recent.mean) / max(spread, scale_floor), spread)
            self.residuals.push(seconds, value - expected)
        self.pattern.learn(seconds, bucket, value)
        return judged

    def snapshot(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern.snapshot(),
            "residuals": self.residuals.snapshot(),
            "recent": self.recent.snapshot(),
        }

    def restore(self, state: Any, what: str) -> None:
        require(isinstance(state, dict), f"{what}: expected a table")
        parts: list[tuple[str, Restorable]] = [
            ("pattern", self.pattern),
            ("residuals", self.residuals),
            ("recent", self.recent),
        ]
        for name, part in parts:
            require(name in state, f"{what}.{name}: missing")
            part.restore(state[name], f"{what}.{name}")


class _Novelty:
    """How a deviation compares with the largest of the recent past: above 1/2 when it beats them all. The past ends
    where the short window begins: otherwise an event would be compared with its own first minutes, and the more
    often a series is scraped, the smaller each step of the same event would look. While an alarm's episode lasts,
    its deviations are held out of the record; whether they join it is decided when the episode ends."""

    def __init__(self, memory: float, settling: float, resolution: float, tail_spread: float) -> None:
        self._recent = WindowMax(memory, resolution)
        self._settling = settling
        self._tail_spread = tail_spread
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
        return ratio / (1.0 + ratio) * (1.0 - two_sided_tail(deviation / self._tail_spread))

    def reset(self) -> None:
        """Forget the record and every deviation waiting to join it: they were measured against an old normal."""
        self._recent = WindowMax(self._recent.duration, self._recent.resolution)
        self._pending.clear()
        self._held.clear()

    def hold(self) -> None:
        """An alarm: the deviations not yet in the record (the event's first minutes) are held with the episode's."""
        self._held.extend(self._pending)
        self._pending.clear()

    def release(self, weight: float) -> None:
        """The episode is over: its deviations join the record at `weight` of their size."""
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
    """Scores how much the latest values' deviation beats the largest of the recent past, the deviation measured
    from whichever explains the values best: the daily pattern, the weekly pattern, or the recent level.

    O(1) amortised per point; state: three windows of `long_window / resolution` sums, short windows of points, a
    monotonic queue of at most `memory / resolution` entries and one mean per bucket of the day and of the week,
    whatever the scrape rate. A timestamp earlier than the last one seen is taken as the last one (clamped): a clock
    stepped back must not crash the agent or unlearn its windows.
    """

    def __init__(self, settings: AgentSettings | None = None) -> None:
        self.settings = settings = settings or AgentSettings()
        resolution = settings.resolution.total_seconds()
        self._long = WindowStats(settings.long_window.total_seconds(), resolution)
        self._short = RecentMean(settings.short_window.total_seconds())
        self._daily = _PatternResiduals(
            _SeasonalPattern(DAY_SECONDS, resolution, settings.pattern_learning_rate), settings
        )
        self._weekly = _PatternResiduals(
            _SeasonalPattern(WEEK_SECONDS, settings.weekly_resolution.total_seconds(), settings.weekly_learning_rate),
            settings,
        )
        # The durations compared on every point, in seconds once and for all.
        self._warm_up = settings.warm_up.total_seconds()
        self._judge_after = (settings.warm_up + settings.novelty_warm_up).total_seconds()
        self._quiet = settings.quiet.total_seconds()
        self._rest = settings.rest.total_seconds()
        self._novelty_warm_up = settings.novelty_warm_up.total_seconds()
        self._settling = settings.short_window.total_seconds()
        memory = settings.memory.total_seconds()
        self._novelty = _Novelty(memory, self._settling, resolution, settings.tail_spread)
        self._reported = WindowMax(settings.repeat_window.total_seconds(), resolution)
        self._seen = 0
        self._first: float | None = None
        self._last: float | None = None
        self._last_alarm: float | None = None
        self._in_episode = False
        # After a change that lasted: nothing is judged before this time (the novelty record is rebuilt), and until
        # the old regime would have left the long window, its (mean, spread, until when) judge too.
        self._judge_from: float | None = None
        self._old_level: tuple[float, float, float] | None = None

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
        scale_floor = settings.relative_scale_floor * abs(self._long.mean) + 1e-12
        warm = len(self._long) >= settings.warm_up_points and elapsed >= self._warm_up
        level_deviation: float | None = None
        if warm:
            level_deviation = abs(self._short.mean - self._long.mean) / max(self._long.std, scale_floor)
        self._long.push(seconds, value)

        seasonal_deviation = self._seasonal_deviation(seconds, value, scale_floor)
        if level_deviation is None:
            return 0.0
        # The pattern that explains the values best judges them: the daily or weekly one once trusted, else the level.
        deviation = level_deviation if seasonal_deviation is None else seasonal_deviation
        if self._old_level is not None:
            # A return to the normal before a change that lasted is no news (the end of a quiet day, of a flat spell).
            old_mean, old_std, until = self._old_level
            if seconds > until:
                self._old_level = None
            else:
                # The latest value too: on the way back, the short window's mean still holds the changed values.
                distance = min(abs(self._short.mean - old_mean), abs(value - old_mean))
                deviation = min(deviation, distance / max(old_std, scale_floor))
        judge = (
            self._seen >= settings.warm_up_points + settings.novelty_warm_up_points
            and elapsed >= self._judge_after
            and (self._judge_from is None or seconds >= self._judge_from)
        )
        return self._first_sign(
            seconds, self._alarm(seconds, self._novelty.score(seconds, deviation, judge, self._in_episode))
        )

    def _seasonal_deviation(self, seconds: float, value: float, scale_floor: float) -> float | None:
        """How far the recent values lie from the daily or weekly pattern, whichever explains the values more (the
        smaller spread around it), in spreads; None while neither is trusted or explains anything."""
        settings = self.settings
        min_points = settings.warm_up_points
        judged = [
            self._daily.judge(seconds, value, settings.pattern_min_days, min_points, scale_floor),
            self._weekly.judge(seconds, value, settings.pattern_min_weeks, min_points, scale_floor),
        ]
        # A pattern whose residuals spread as wide as the values themselves (no rhythm) would judge the same noise
        # as the level does a second time, with noise of its own added; a weekly pattern explains a quiet weekend
        # that the daily one, having learnt the average of all days, cannot.
        explaining = [found for found in judged if found is not None and found[1] < self._long.std]
        if not explaining:
            return None
        return min(explaining, key=lambda found: found[1])[0]

    def _alarm(self, seconds: float, score: float) -> float:
        """The score as reported: silent during an alarm's episode, which a high score opens."""
        if self._in_episode and self._last_alarm is not None:
            since = seconds - self._last_alarm
            if since > self._rest:
                self._in_episode = False
                self._rebase(seconds)
            elif since > self._quiet and not self._novelty.beats_record:
                self._in_episode = False
                self._novelty.release(weight=self.settings.passed_weight)
            return 0.0
        if score >= self.settings.rest_level:
            self._last_alarm = seconds
            self._in_episode = True
            self._novelty.hold()
        return score

    def _first_sign(self, seconds: float, score: float) -> float:
        """The score, or 0 when one at least as high was reported within the repeat window."""
        self._reported.expire(seconds)
        beaten = self._reported.value
        if score > 0.0:
            self._reported.push(seconds, score)
        return score if score > beaten else 0.0

    def _rebase(self, seconds: float) -> None:
        """The episode lasted: the values since its start are the new normal. The recent level forgets the values
        before it and the novelty its record, learnt anew over a novelty warm-up: kept, the old regime's mean and the
        shift's own deviations would hide every later event for days (a spike two days after a level shift). The old
        level's mean and spread are kept for as long as it would have stayed in the long window: a value must differ
        from both regimes to be news. The patterns' residuals are kept: a pattern judges only while its spread is below
        the new level's."""
        assert self._last_alarm is not None, "an episode starts with an alarm"
        old = self._long.forget_before(self._last_alarm - self._settling)
        if old is not None:
            self._old_level = (old[0], old[1], seconds + self._long.duration)
        self._novelty.reset()
        self._judge_from = seconds + self._novelty_warm_up

    # Saving and restoring

    def snapshot(self) -> dict[str, Any]:
        """Everything the detector has learnt, as JSON-able data, with the settings it was learnt under."""
        return {
            "settings": self.settings.document(),
            "seen": self._seen,
            "first": self._first,
            "last": self._last,
            "last_alarm": self._last_alarm,
            "judge_from": self._judge_from,
            "old_level": None if self._old_level is None else list(self._old_level),
            "in_episode": self._in_episode,
            "long": self._long.snapshot(),
            "short": self._short.snapshot(),
            "daily": self._daily.snapshot(),
            "weekly": self._weekly.snapshot(),
            "novelty": self._novelty.snapshot(),
            "reported": self._reported.snapshot(),
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
        detector._judge_from = _optional_float(state.get("judge_from"), "judge_from")
        old_level = state.get("old_level")
        if old_level is not None:
            require(isinstance(old_level, list) and len(old_level) == 3, "old_level: expected [mean, spread, until]")
            mean, spread, until = (as_float(number, "old_level") for number in old_level)
            detector._old_level = (mean, spread, until)
        in_episode = state.get("in_episode")
        require(isinstance(in_episode, bool), "in_episode: expected true or false")
        detector._in_episode = in_episode
        parts: list[tuple[str, Restorable]] = [
            ("long", detector._long),
            ("short", detector._short),
            ("daily", detector._daily),
            ("weekly", detector._weekly),
            ("novelty", detector._novelty),
            ("reported", detector._reported),
        ]
        for name, part in parts:
            require(name in state, f"{name}: missing")
            part.restore(state[name], name)
        return detector


def _optional_float(value: Any, what: str) -> float | None:
    return None if value is None else as_float(value, what)
