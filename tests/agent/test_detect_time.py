"""The agent's detector works in time, not in points: the same series at the agent's 15-second checks and at NAB's
5-minute points gives the same verdicts, and timestamps that repeat or step back are taken as the last one."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from orion_agent.detect import AgentDetector

START = datetime(2024, 1, 1)
DAYS = 6
EVENT = timedelta(days=4, hours=8, minutes=20)
LEVEL = AgentDetector().settings.rest_level


def sampled(step: timedelta, value: Callable[[timedelta], float], days: int = DAYS) -> list[tuple[datetime, float]]:
    count = int(timedelta(days=days) / step)
    return [(START + i * step, value(i * step)) for i in range(count)]


def daily_sine_with_shift(seed: int) -> Callable[[timedelta], float]:
    noise = random.Random(seed)  # noqa: S311 -- reproducible test noise, nothing secret

    def value(at: timedelta) -> float:
        day_fraction = at / timedelta(days=1)
        shift = 15.0 if at >= EVENT else 0.0
        return 50.0 + 20.0 * math.sin(2 * math.pi * day_fraction) + noise.gauss(0.0, 1.0) + shift

    return value


def alarms(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    detector = AgentDetector()
    found = [(timestamp, detector.update(timestamp, value)) for timestamp, value in points]
    return [(timestamp, score) for timestamp, score in found if score >= LEVEL]


@pytest.mark.parametrize("step", [timedelta(seconds=15), timedelta(minutes=5)])
def test_a_level_shift_raises_one_alarm_at_15_seconds_as_at_5_minutes(step: timedelta) -> None:
    raised = alarms(sampled(step, daily_sine_with_shift(3)))
    assert len(raised) == 1, raised
    when, _ = raised[0]
    assert START + EVENT <= when <= START + EVENT + timedelta(minutes=15)


def test_15_second_and_5_minute_sampling_score_alike() -> None:
    # The days before the event: both stay below the alarm level and reach similar maxima.
    def calm_maximum(step: timedelta) -> float:
        detector = AgentDetector()
        points = sampled(step, daily_sine_with_shift(5), days=4)
        found = [detector.update(timestamp, value) for timestamp, value in points]
        return max(found)

    fast, slow = calm_maximum(timedelta(seconds=15)), calm_maximum(timedelta(minutes=5))
    assert fast < LEVEL
    assert slow < LEVEL
    assert abs(fast - slow) < 0.2


def test_a_missing_daily_peak_is_flagged_at_15_seconds() -> None:
    # Flat at the day's mean where day 4's peak should be: usual for the level, not for the hour.
    noise = random.Random(11)  # noqa: S311 -- reproducible test noise, nothing secret
    missing_from, missing_to = timedelta(days=4, hours=3), timedelta(days=4, hours=9)

    def value(at: timedelta) -> float:
        if missing_from <= at < missing_to:
            return 50.0 + noise.gauss(0.0, 1.0)
        return 50.0 + 20.0 * math.sin(2 * math.pi * (at / timedelta(days=1))) + noise.gauss(0.0, 1.0)

    raised = alarms(sampled(timedelta(seconds=15), value))
    assert raised
    assert START + missing_from <= raised[0][0] <= START + missing_to


def test_the_rest_after_an_alarm_is_a_duration() -> None:
    detector = AgentDetector()
    points = sampled(timedelta(seconds=15), daily_sine_with_shift(3))
    found = [(timestamp, detector.update(timestamp, value)) for timestamp, value in points]
    first = next(timestamp for timestamp, score in found if score >= LEVEL)
    resting = [score for timestamp, score in found if first < timestamp <= first + detector.settings.rest]
    assert len(resting) > 100
    assert set(resting) == {0.0}


def feed(detector: AgentDetector, points: list[tuple[datetime, float]]) -> list[float]:
    return [detector.update(timestamp, value) for timestamp, value in points]


def test_a_repeated_timestamp_is_accepted() -> None:
    detector = AgentDetector()
    points = sampled(timedelta(minutes=5), daily_sine_with_shift(1), days=2)
    feed(detector, points)
    last = points[-1][0]
    assert 0.0 <= detector.update(last, 51.0) <= 1.0
    assert 0.0 <= detector.update(last, 52.0) <= 1.0


def test_an_earlier_timestamp_is_taken_as_the_last_one_seen() -> None:
    points = sampled(timedelta(minutes=5), daily_sine_with_shift(1), days=3)
    last = points[-1][0]
    stepped_back, repeated = AgentDetector(), AgentDetector()
    feed(stepped_back, points)
    feed(repeated, points)
    for value in (48.0, 90.0, 47.0):
        assert stepped_back.update(last - timedelta(days=2), value) == repeated.update(last, value)
    assert stepped_back.snapshot() == repeated.snapshot()


def test_windows_forget_by_time_across_a_gap() -> None:
    # After a week without data the old level is gone from the long window: the new level is not news for ever.
    detector = AgentDetector()
    feed(detector, sampled(timedelta(minutes=5), lambda at: 10.0 + math.sin(at / timedelta(minutes=7)), days=2))
    later = START + timedelta(days=9)
    found = [detector.update(later + i * timedelta(minutes=5), 500.0 + math.sin(i / 1.4)) for i in range(3 * 288)]
    assert max(found[2 * 288 :]) < LEVEL


def weekly_series(quiet_weekday: int | None, daily_amplitude: float) -> list[tuple[datetime, float]]:
    """Five weeks at 5 minutes: a daily sine, 25 lower on Saturdays and Sundays (and on day `quiet_weekday`)."""
    noise = random.Random(13)  # noqa: S311 -- reproducible test noise, nothing secret

    def value(at: timedelta) -> float:
        day = int(at / timedelta(days=1))
        weekend = (START + at).weekday() >= 5 or day == quiet_weekday
        daily = 60.0 + daily_amplitude * math.sin(2 * math.pi * (at / timedelta(days=1)))
        return daily - (25.0 if weekend else 0.0) + noise.gauss(0.0, 1.0)

    return sampled(timedelta(minutes=5), value, days=35)


QUIET_WEDNESDAY = 4 * 7 + 2  # 2024-01-01 is a Monday: the fifth week's Wednesday


# With a daily rhythm, and without one: then the daily pattern explains nothing and is not used, the weekly one is.
AMPLITUDES = pytest.mark.parametrize("daily_amplitude", [20.0, 0.0])


@AMPLITUDES
def test_weekends_become_usual_once_the_weekly_pattern_is_learnt(daily_amplitude: float) -> None:
    raised = alarms(weekly_series(None, daily_amplitude))
    assert [when for when, _ in raised if when >= START + timedelta(days=19)] == []


@AMPLITUDES
def test_a_weekday_as_quiet_as_a_sunday_is_flagged(daily_amplitude: float) -> None:
    raised = alarms(weekly_series(QUIET_WEDNESDAY, daily_amplitude))
    wednesday = START + timedelta(days=QUIET_WEDNESDAY)
    assert [when for when, _ in raised if when >= START + timedelta(days=19)]
    assert wednesday <= raised[-1][0] <= wednesday + timedelta(hours=1)


def test_a_second_smaller_event_within_the_memory_is_flagged() -> None:
    noise = random.Random(17)  # noqa: S311 -- reproducible test noise, nothing secret
    # At another hour than the first: at the same one the daily pattern would have learnt part of the first bump.
    first, second = timedelta(days=4, hours=2), timedelta(days=5, hours=9)

    def value(at: timedelta) -> float:
        bump = 30.0 if first <= at < first + timedelta(minutes=30) else 0.0
        bump += 20.0 if second <= at < second + timedelta(minutes=30) else 0.0
        return 50.0 + 20.0 * math.sin(2 * math.pi * (at / timedelta(days=1))) + noise.gauss(0.0, 1.0) + bump

    raised = [when - START for when, _ in alarms(sampled(timedelta(minutes=5), value))]
    assert len(raised) == 2, raised
    assert first <= raised[0] <= first + timedelta(minutes=15)
    assert second <= raised[1] <= second + timedelta(minutes=15)


def shift_then(second_event: Callable[[timedelta], float], days: int = 7) -> list[tuple[datetime, float]]:
    """A noisy level shifted up by 15 from `EVENT` on for good, plus `second_event`, at 5 minutes. (Without a daily
    rhythm: with one, the old level's spread, as wide as the rhythm, still hides the second event; see ADR 0035.)"""
    noise = random.Random(19)  # noqa: S311 -- reproducible test noise, nothing secret

    def value(at: timedelta) -> float:
        shift = 15.0 if at >= EVENT else 0.0
        return 50.0 + shift + 2.0 * noise.gauss(0.0, 1.0) + second_event(at)

    return sampled(timedelta(minutes=5), value, days=days)


SPIKE = EVENT + timedelta(days=2, hours=5)


def test_an_event_two_days_after_a_lasting_level_shift_is_flagged() -> None:
    # Smaller than the shift: judged against the old normal, with the shift's deviations in the record, it is hidden.
    raised = alarms(shift_then(lambda at: 12.0 if SPIKE <= at < SPIKE + timedelta(minutes=30) else 0.0))
    assert [when - START for when, _ in raised if when > START + EVENT + timedelta(hours=1)]
    assert SPIKE <= raised[-1][0] - START <= SPIKE + timedelta(minutes=15)
    assert START + EVENT <= raised[0][0] <= START + EVENT + timedelta(minutes=15)


def test_a_return_to_the_normal_before_a_lasting_change_is_no_news() -> None:
    # The shift lasts a day and a half, then the series is back where it was: one alarm, at the shift's start.
    back = EVENT + timedelta(hours=36)
    raised = alarms(shift_then(lambda at: -15.0 if at >= back else 0.0))
    assert len(raised) == 1, raised
    assert START + EVENT <= raised[0][0] <= START + EVENT + timedelta(minutes=15)
