from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from orion_agent.detect import (
    AgentDetector,
    CsvFormatError,
    Detector,
    StaticThresholdDetector,
    WindowedGaussianDetector,
    score_csv,
)

START = datetime(2024, 1, 1)
DAY = 288  # points a day, five minutes apart
EVENT = 4 * DAY + 100
WARM_UP = 2 * DAY
DETECTORS: list[Callable[[], Detector]] = [AgentDetector, WindowedGaussianDetector, StaticThresholdDetector]

Point = tuple[datetime, float]


def make_series(days: int, value: Callable[[int], float]) -> list[Point]:
    return [(START + timedelta(minutes=5 * i), value(i)) for i in range(days * DAY)]


def daily_sine(i: int) -> float:
    return 50.0 + 20.0 * math.sin(2 * math.pi * i / DAY)


_RANDOM = random.Random(7)  # noqa: S311 -- reproducible test noise, nothing secret
NOISE = [_RANDOM.gauss(0.0, 1.0) for _ in range(6 * DAY)]


def noisy_sine(i: int) -> float:
    return daily_sine(i) + NOISE[i]


def scores(factory: Callable[[], Detector], points: Sequence[Point]) -> list[float]:
    detector = factory()
    return [detector.update(timestamp, value) for timestamp, value in points]


def quiet(found: Sequence[float], level: float = 0.3) -> bool:
    """Nothing above `level` once two days, the daily pattern's warm-up, have passed."""
    return max(found[WARM_UP:]) < level


def flags_event(found: Sequence[float], at: int, level: float = 0.6) -> bool:
    """The event is scored above `level`, and above anything the days before it scored."""
    return max(found[at : at + 5]) >= level and max(found[at : at + 5]) > max(found[WARM_UP:at])


@pytest.mark.parametrize("factory", DETECTORS)
def test_scores_stay_within_0_and_1(factory: Callable[[], Detector]) -> None:
    wild = make_series(3, lambda i: noisy_sine(i) * (1000.0 if i % 97 == 0 else 1.0) - (500.0 if i % 89 == 0 else 0.0))
    assert all(0.0 <= score <= 1.0 for score in scores(factory, wild))


def changed_from(points: Sequence[Point], index: int) -> list[Point]:
    return [*points[:index], *((timestamp, value * 3.0 + 100.0) for timestamp, value in points[index:])]


def causal(run: Callable[[Sequence[Point]], list[float]], points: Sequence[Point], index: int) -> bool:
    """Changing the points from `index` on leaves every score before `index` as it was."""
    return run(points)[:index] == run(changed_from(points, index))[:index]


@pytest.mark.parametrize("factory", DETECTORS)
def test_detectors_are_causal(factory: Callable[[], Detector]) -> None:
    points = make_series(3, noisy_sine)
    for index in (1, DAY, 2 * DAY + 17):
        assert causal(lambda series: scores(factory, series), points, index)


def test_the_causality_check_catches_scores_that_look_ahead() -> None:
    def next_value_is_high(series: Sequence[Point]) -> list[float]:
        return [1.0 if series[min(i + 1, len(series) - 1)][1] > 150.0 else 0.0 for i in range(len(series))]

    assert not causal(next_value_is_high, make_series(3, noisy_sine), DAY)


def test_the_agent_stays_quiet_on_a_flat_line_and_a_daily_sine() -> None:
    assert quiet(scores(AgentDetector, make_series(6, lambda i: 42.0)))
    assert quiet(scores(AgentDetector, make_series(6, daily_sine)))


def test_the_agent_flags_a_spike_on_a_noisy_daily_pattern() -> None:
    assert not flags_event(scores(AgentDetector, make_series(6, noisy_sine)), EVENT)
    found = scores(AgentDetector, make_series(6, lambda i: noisy_sine(i) + (30.0 if i == EVENT else 0.0)))
    assert flags_event(found, EVENT)
    assert not quiet(found)


def test_the_agent_flags_a_level_shift_once() -> None:
    found = scores(AgentDetector, make_series(6, lambda i: noisy_sine(i) + (15.0 if i >= EVENT else 0.0)))
    assert flags_event(found, EVENT)
    alarms = [i for i in range(EVENT, len(found)) if found[i] >= AgentDetector().settings.rest_level]
    assert alarms
    assert alarms[0] < EVENT + 5
    rest_points = AgentDetector().settings.rest / timedelta(minutes=5)
    assert all(later - alarms[0] > rest_points for later in alarms[1:])


def test_the_agent_flags_a_missing_daily_peak() -> None:
    # The value stays at the day's mean where the daily peak should be: normal for the level, not for the hour.
    missing = range(3 * DAY + DAY // 8, 3 * DAY + 3 * DAY // 8)
    points = make_series(5, lambda i: 50.0 + NOISE[i] if i in missing else noisy_sine(i))
    assert flags_event(scores(AgentDetector, points), missing.start, level=AgentDetector().settings.rest_level)
    assert not flags_event(scores(WindowedGaussianDetector, points), missing.start)


def test_the_static_threshold_learns_its_bounds_first() -> None:
    found = scores(StaticThresholdDetector, make_series(4, lambda i: {10: 100.0, 3 * DAY: 500.0}.get(i, noisy_sine(i))))
    assert found[10] == 0.0
    assert found[3 * DAY] > 0.5


def test_the_windowed_gaussian_flags_a_level_shift() -> None:
    found = scores(WindowedGaussianDetector, make_series(4, lambda i: 10.0 + NOISE[i] + (8.0 if i >= 3 * DAY else 0.0)))
    assert max(found[3 * DAY : 3 * DAY + 10]) > max(found[DAY : 3 * DAY])


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_score_csv_keeps_every_row_and_appends_a_score(tmp_path: Path) -> None:
    rows = make_series(2, noisy_sine)
    body = "".join(f"{timestamp:%Y-%m-%d %H:%M:%S},{value}\n" for timestamp, value in rows)
    source = write_csv(tmp_path / "in.csv", "timestamp,value\n" + body)
    destination = tmp_path / "out.csv"
    score_csv(source, destination)
    with destination.open() as written:
        table = list(csv.reader(written))
    assert table[0] == ["timestamp", "value", "anomaly_score"]
    assert len(table) == len(rows) + 1
    assert [row[:2] for row in table[1:]] == [line.split(",") for line in body.splitlines()]
    assert all(0.0 <= float(row[2]) <= 1.0 for row in table[1:])


def test_score_csv_takes_the_detector_to_use(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n")

    class Always:
        def update(self, timestamp: datetime, value: float) -> float:
            return 0.25

    score_csv(source, tmp_path / "out.csv", Always)
    assert (tmp_path / "out.csv").read_text().splitlines()[1:] == [
        "2024-01-01 00:00:00,1,0.25",
        "2024-01-01 00:05:00,2,0.25",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: expected the header 'timestamp,value', found an empty file"),
        ("time,value\n", "line 1: expected the header 'timestamp,value', found 'time,value'"),
        ("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,n/a\n", "line 3: expected a number, found 'n/a'"),
        ("timestamp,value\n2024-01-01 00:00:00,1,2\n", "line 2: expected 2 fields (timestamp,value), found 3"),
    ],
)
def test_score_csv_names_the_file_and_line_of_malformed_input(tmp_path: Path, text: str, message: str) -> None:
    source = write_csv(tmp_path / "bad.csv", text)
    with pytest.raises(CsvFormatError) as raised:
        score_csv(source, tmp_path / "out.csv")
    assert str(raised.value) == f"{source}, {message}"


def test_a_near_record_below_the_rest_level_is_reported_once_not_on_every_point_after_it() -> None:
    # One sample 5.5 spreads high: it stays in the 15-minute mean for three points, scoring about 0.58 then 0.56; it
    # opens no episode (below the rest level), so before the repeat window each point was a detection of its own.
    noise = random.Random(23)  # noqa: S311 -- reproducible test noise, nothing secret
    spike = 3 * 288 + 100
    points = [
        (datetime(2024, 1, 1) + i * timedelta(minutes=5), 50.0 + noise.gauss(0, 1) + (5.5 if i == spike else 0.0))
        for i in range(4 * 288)
    ]
    detector = AgentDetector()
    found = [detector.update(timestamp, value) for timestamp, value in points]
    raised = [i for i in range(spike - 10, spike + 20) if found[i] >= 0.5]
    assert raised == [spike]
    assert found[spike] < detector.settings.rest_level


@pytest.mark.parametrize(("shift", "news"), [(0.8, False), (2.0, True)])
def test_a_deviation_within_the_noise_of_two_estimates_is_no_news_even_after_a_still_mean(
    shift: float, news: bool
) -> None:
    # The values cycle 1, 1, -2 around 50, so their 15-minute mean never moves and the novelty record stays near 0:
    # any deviation beats it. Read in single spreads, 0.8 of one scored 0.56, news; in spreads sqrt(2) wide, as
    # befits the difference of the last minutes and the level expected, it stays under 0.5, while 2 spreads are.
    cycle = (1.0, 1.0, -2.0)
    spread = math.sqrt(2.0)  # of the cycle's values
    event = 350  # after the warm-ups, before the daily pattern is trusted
    detector = AgentDetector()
    found = [
        detector.update(START + timedelta(minutes=5 * i), 50.0 + cycle[i % 3] + (shift * spread if i >= event else 0))
        for i in range(event + 3)
    ]
    assert max(found[:event]) < 0.01
    if news:
        assert max(found[event:]) >= detector.settings.rest_level
    else:
        assert 0.3 < max(found[event:]) < 0.5
