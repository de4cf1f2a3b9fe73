"""The NAB benchmark's cross-validation and its message when the data is missing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench import nab_bench
from orion_agent import nab

START = datetime(2024, 1, 1)


def test_missing_data_is_one_line_naming_where_it_looked_and_how_to_point_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nab_bench.main([str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert f"no NAB data at {tmp_path / 'nowhere'}" in captured.err
    assert "NAB_DATA" in captured.err
    assert "numenta/NAB" in captured.err


def test_the_data_directory_comes_from_nab_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAB_DATA", str(tmp_path))
    with pytest.raises(nab_bench.MissingDataError, match=f"no NAB data at {tmp_path} "):
        nab_bench.data_root([])


def file_of(name: str, detection: int | None, false_alarm: float) -> tuple[nab.LabelledSeries, list[float]]:
    timestamps = [START + timedelta(minutes=i) for i in range(100)]
    series = nab.LabelledSeries(name, timestamps, [(timestamps[40], timestamps[59])])
    scores = [0.0] * 100
    scores[20] = false_alarm
    if detection is not None:
        scores[detection] = 0.5
    return series, scores


def test_cross_validation_scores_each_category_at_the_threshold_tuned_on_the_others() -> None:
    # Categories a and b detect at 0.5 with a false alarm at 0.4; c's only signal is its false alarm's level: tuned
    # on all data, 0.4 catches c's window too, but tuned without c, the threshold is 0.5 and c's window is missed.
    files = [
        file_of("a/1.csv", 40, 0.4),
        file_of("b/1.csv", 40, 0.4),
        file_of("c/1.csv", None, 0.0),
    ]
    files[2][1][41] = 0.4
    run = nab_bench.Run({series.name: nab.sweep_rows(series, scores) for series, scores in files}, 0.0)
    evaluation = nab_bench.evaluate({"fixed": run}, [series.name for series, _ in files])
    assert evaluation.all_data.threshold == 0.4
    assert [(held_out, result.threshold) for held_out, _, result, _ in evaluation.folds] == [
        ("a", 0.4),
        ("b", 0.4),
        ("c", 0.5),
    ]
    assert (evaluation.cross_validated.tp, evaluation.cross_validated.fn) == (2, 1)
    assert evaluation.cross_validated_normalised < evaluation.all_data_normalised
