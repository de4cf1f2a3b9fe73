from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from orion_agent import nab

START = datetime(2024, 1, 1)


def series(name: str, rows: int, windows: list[tuple[int, int]]) -> nab.LabelledSeries:
    """`rows` one minute apart (15 probationary rows per 100) with windows given as inclusive row indices."""
    timestamps = [START + timedelta(minutes=i) for i in range(rows)]
    return nab.LabelledSeries(name, timestamps, [(timestamps[a], timestamps[b]) for a, b in windows])


def detections(rows: int, *indices: int) -> list[float]:
    scores = [0.0] * rows
    for i in indices:
        scores[i] = 1.0
    return scores


ONE_WINDOW = series("one", 100, [(40, 59)])


def normalised(*results: tuple[nab.LabelledSeries, list[float]]) -> float:
    return nab.score_corpus(results).normalised


def test_scaled_sigmoid_matches_nabs_documented_values() -> None:
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(3.5) == -1.0


def test_probationary_period_is_15_percent_capped_at_750_rows() -> None:
    assert nab.probationary_length(100) == 15
    assert nab.probationary_length(4032) == 604
    assert nab.probationary_length(100_000) == 750


def test_null_detector_scores_0_and_perfect_detector_scores_100() -> None:
    assert normalised((ONE_WINDOW, detections(100))) == 0.0
    assert normalised((ONE_WINDOW, detections(100, 40))) == pytest.approx(100.0)
    assert normalised((ONE_WINDOW, nab.perfect_scores(ONE_WINDOW))) == pytest.approx(100.0)


def test_detection_at_a_windows_end_scores_by_the_scaled_sigmoid() -> None:
    # Row 59 ends a 20-row window: position -(59 - 59 + 1) / 20, weighted by tp / scaled_sigmoid(-1).
    raw = (2 / (1 + math.exp(-0.25)) - 1) / (2 / (1 + math.exp(-5)) - 1)
    assert raw == pytest.approx(0.12604, abs=1e-5)
    assert normalised((ONE_WINDOW, detections(100, 59))) == pytest.approx(100 * (raw + 1) / 2)


def test_an_earlier_detection_in_a_window_scores_higher() -> None:
    early, middle, late = (normalised((ONE_WINDOW, detections(100, i))) for i in (40, 50, 59))
    assert early > middle > late > 50.0


def test_only_the_first_detection_in_a_window_counts() -> None:
    assert normalised((ONE_WINDOW, detections(100, 40, 45, 59))) == normalised((ONE_WINDOW, detections(100, 40)))


def test_a_false_positive_costs_its_weight_far_from_windows_and_less_right_after_one() -> None:
    far = normalised((ONE_WINDOW, detections(100, 20, 40)))
    assert far == pytest.approx(100 * (1 - 0.11 + 1) / 2)
    right_after = normalised((ONE_WINDOW, detections(100, 40, 60)))
    assert far < right_after < 100.0


def test_a_missed_window_costs_the_false_negative_weight() -> None:
    two_windows = series("two", 100, [(30, 39), (70, 79)])
    assert normalised((two_windows, detections(100, 30))) == pytest.approx(50.0)
    assert normalised((two_windows, detections(100, 30, 70))) == pytest.approx(100.0)


def test_detections_in_the_probationary_period_are_not_scored() -> None:
    assert normalised((ONE_WINDOW, detections(100, 5, 40))) == pytest.approx(100.0)


def test_the_threshold_is_chosen_once_for_the_whole_corpus() -> None:
    # Alone, `noisy` would be best at 0.9 and `quiet` at 0.6; over both, 0.6 (total 1.89) beats 0.9 (total 0).
    quiet = series("quiet", 100, [(40, 59)])
    noisy = series("noisy", 100, [(40, 59)])
    quiet_scores = [0.0] * 100
    quiet_scores[40] = 0.6
    noisy_scores = [0.0] * 100
    noisy_scores[20], noisy_scores[40] = 0.7, 0.9
    result = nab.score_corpus([(quiet, quiet_scores), (noisy, noisy_scores)])
    assert result.best.threshold == 0.6
    assert result.best.score == pytest.approx(2 - 0.11)
    assert (result.best.tp, result.best.fp, result.best.fn) == (2, 1, 0)


def test_the_sweep_starts_with_nothing_detected() -> None:
    thresholds = nab.scores_by_threshold(nab.sweep_rows(ONE_WINDOW, detections(100, 40)))
    assert thresholds[0] == nab.ThresholdScore(nab.SWEEP_START, -1.0, 0, 0, 1)
    assert [t.threshold for t in thresholds] == [nab.SWEEP_START, 1.0, 0.0]


def test_the_scorer_tells_a_good_detector_from_a_bad_one() -> None:
    good = [0.1] * 100
    good[41] = 0.9
    bad = [0.1] * 100
    for i in range(20, 30):
        bad[i] = 0.9
    bad[58] = 0.5
    assert normalised((ONE_WINDOW, good)) > 95.0
    assert normalised((ONE_WINDOW, bad)) < 60.0


def test_windows_must_lie_on_rows_and_scores_match_rows() -> None:
    shifted = nab.LabelledSeries("odd", ONE_WINDOW.timestamps, [(START + timedelta(seconds=30), START)])
    with pytest.raises(ValueError, match="does not start and end on rows"):
        nab.sweep_rows(shifted, [0.0] * 100)
    with pytest.raises(ValueError, match="99 scores for 100 rows"):
        nab.sweep_rows(ONE_WINDOW, [0.0] * 99)


def test_scoring_at_a_given_threshold_matches_the_sweep_at_that_threshold() -> None:
    scores = [0.0] * 100
    scores[20], scores[45], scores[58] = 0.7, 0.5, 0.9
    rows = nab.sweep_rows(ONE_WINDOW, scores)
    by_threshold = {result.threshold: result for result in nab.scores_by_threshold(rows)}
    for threshold in (0.9, 0.7, 0.5):
        found, swept = nab.score_at_threshold(rows, threshold), by_threshold[threshold]
        assert (found.tp, found.fp, found.fn) == (swept.tp, swept.fp, swept.fn)
        assert found.score == pytest.approx(swept.score)
    # Between swept thresholds, and above them all: what the swept threshold just above detects, or nothing.
    assert nab.score_at_threshold(rows, 0.6).score == pytest.approx(by_threshold[0.7].score)
    assert nab.score_at_threshold(rows, 0.95) == nab.ThresholdScore(0.95, -1.0, 0, 0, 1)


def test_normalised_puts_null_at_0_and_perfect_at_100() -> None:
    assert nab.normalised(-3.0, 3) == 0.0
    assert nab.normalised(3.0, 3) == 100.0
    assert nab.normalised(0.0, 3) == 50.0
