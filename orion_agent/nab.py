"""The Numenta Anomaly Benchmark's scoring (standard profile), after NAB's `nab/sweeper.py`, `nab/optimizer.py`
and `Runner.normalize` in `nab/runner.py`.

A detection is a row whose anomaly score is at least the threshold. Inside a window the earliest detection counts,
weighted by a scaled sigmoid of its position (1.0 at the window's left edge); every detection outside a window costs
the false-positive weight, less right after a window; every window without a detection costs the false-negative
weight. Rows of the probationary period (the first 15 %, at most 750 rows) are not scored. One threshold is chosen
for the whole corpus, the one with the highest total.

Normalisation deviates from NAB in one point: NAB divides by the number of *labels*, this divides by the number of
scored *windows*. They differ when labels share a window (ec2_cpu_utilization_825cc2 in NAB), where NAB's perfect
detector would score below 100.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PROBATIONARY_PERCENT = 0.15
# NAB caps the probationary period at this many rows' worth of the percentage (0.15 * 5000 = 750 rows).
PROBATIONARY_CAP_ROWS = 5000
# Above every score in [0, 1]: NAB starts its sweep here, with nothing detected.
SWEEP_START = 1.1


@dataclass(frozen=True)
class CostMatrix:
    """NAB's profile weights, as positive magnitudes: a detection gains `tp`, a false positive costs `fp`."""

    tp: float
    fp: float
    fn: float


STANDARD_PROFILE = CostMatrix(tp=1.0, fp=0.11, fn=1.0)


@dataclass(frozen=True)
class LabelledSeries:
    """One data file's timestamps and its anomaly windows (inclusive limits, which must be timestamps of the file)."""

    name: str
    timestamps: Sequence[datetime]
    windows: Sequence[tuple[datetime, datetime]]


@dataclass(frozen=True)
class ScoredRow:
    """A row as the sweep sees it: its anomaly score, what detecting it is worth, and the window it lies in."""

    anomaly_score: float
    sweep_score: float
    window: str | None


@dataclass(frozen=True)
class ThresholdScore:
    """The corpus at one threshold. tp/fn count windows detected/missed; fp counts rows detected outside windows."""

    threshold: float
    score: float
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class CorpusScore:
    """The best threshold's result, with the null and perfect detectors' raw scores it is normalised between."""

    best: ThresholdScore
    null_score: float
    perfect_score: float

    @property
    def normalised(self) -> float:
        return 100.0 * (self.best.score - self.null_score) / (self.perfect_score - self.null_score)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def scaled_sigmoid(relative_position: float) -> float:
    """-1 is a window's left edge (0.987), 0 its right edge (0), positive values lie past it (down to -1)."""
    if relative_position > 3.0:
        return -1.0
    return 2.0 * sigmoid(-5.0 * relative_position) - 1.0


def probationary_length(rows: int, percent: float = PROBATIONARY_PERCENT) -> float:
    return min(math.floor(percent * rows), percent * PROBATIONARY_CAP_ROWS)


def sweep_rows(
    series: LabelledSeries, anomaly_scores: Sequence[float], profile: CostMatrix = STANDARD_PROFILE
) -> list[ScoredRow]:
    """Each scored row with what detecting it is worth (NAB's `Sweeper.calcSweepScore`); probationary rows dropped."""
    if len(anomaly_scores) != len(series.timestamps):
        raise ValueError(f"{series.name}: {len(anomaly_scores)} scores for {len(series.timestamps)} rows")
    index_of = {timestamp: i for i, timestamp in enumerate(series.timestamps)}
    for start, end in series.windows:
        if start not in index_of or end not in index_of:
            raise ValueError(f"{series.name}: window {start} .. {end} does not start and end on rows of the file")
    pending = sorted(series.windows)
    max_tp = scaled_sigmoid(-1.0)
    probation = probationary_length(len(series.timestamps))
    rows: list[ScoredRow] = []
    window: str | None = None
    window_right = window_width = 0
    previous_right: int | None = None
    previous_width = 0
    for i, (timestamp, anomaly_score) in enumerate(zip(series.timestamps, anomaly_scores, strict=True)):
        if window is None and pending and timestamp == pending[0][0]:
            start, end = pending.pop(0)
            window = f"{series.name}|{start}"
            window_right = index_of[end]
            window_width = window_right - index_of[start] + 1
        if window is not None:
            # NAB's `+ 1` makes the left edge exactly -1, so an edge detection is worth the full tp weight.
            position = -(window_right - i + 1) / window_width
            sweep_score = scaled_sigmoid(position) * profile.tp / max_tp
        elif previous_right is None:
            sweep_score = -profile.fp
        else:
            # A one-row window makes NAB divide by zero; treat it as far behind instead.
            position = abs(previous_right - i) / (previous_width - 1) if previous_width > 1 else 3.5
            sweep_score = scaled_sigmoid(position) * profile.fp
        if i >= probation:
            rows.append(ScoredRow(anomaly_score, sweep_score, window))
        if window is not None and i == window_right:
            previous_right, previous_width = window_right, window_width
            window = None
    return rows


def scores_by_threshold(rows: Iterable[ScoredRow], profile: CostMatrix = STANDARD_PROFILE) -> list[ThresholdScore]:
    """The corpus score at every distinct anomaly score, highest threshold first (NAB's `calcScoreByThreshold`)."""
    ordered = sorted(rows, key=lambda row: row.anomaly_score, reverse=True)
    windows = {row.window for row in ordered if row.window is not None}
    best_in_window = dict.fromkeys(windows, -profile.fn)
    window_total = -profile.fn * len(windows)
    fp_total = 0.0
    detected_windows: set[str] = set()
    fp_rows = 0
    results: list[ThresholdScore] = []
    threshold = SWEEP_START

    def snapshot() -> ThresholdScore:
        return ThresholdScore(
            threshold, window_total + fp_total, len(detected_windows), fp_rows, len(windows) - len(detected_windows)
        )

    for row in ordered:
        if row.anomaly_score != threshold:
            results.append(snapshot())
            threshold = row.anomaly_score
        if row.window is None:
            fp_rows += 1
            fp_total += row.sweep_score
        else:
            detected_windows.add(row.window)
            if row.sweep_score > best_in_window[row.window]:
                window_total += row.sweep_score - best_in_window[row.window]
                best_in_window[row.window] = row.sweep_score
    results.append(snapshot())
    return results


def best_threshold(rows: Iterable[ScoredRow], profile: CostMatrix = STANDARD_PROFILE) -> ThresholdScore:
    """The highest-scoring threshold; on a tie the higher threshold, as NAB's stable sort picks."""
    best: ThresholdScore | None = None
    for candidate in scores_by_threshold(rows, profile):
        if best is None or candidate.score > best.score:
            best = candidate
    assert best is not None, "the sweep always yields the nothing-detected threshold"
    return best


def score_at_threshold(
    rows: Iterable[ScoredRow], threshold: float, profile: CostMatrix = STANDARD_PROFILE
) -> ThresholdScore:
    """The rows at a threshold chosen elsewhere (on other data, in cross-validation): rows scoring at least
    `threshold` are detections, as in the sweep."""
    best_in_window: dict[str, float] = {}
    detected: set[str] = set()
    fp_total = 0.0
    fp_rows = 0
    for row in rows:
        if row.window is not None:
            best_in_window.setdefault(row.window, -profile.fn)
            if row.anomaly_score >= threshold:
                detected.add(row.window)
                best_in_window[row.window] = max(best_in_window[row.window], row.sweep_score)
        elif row.anomaly_score >= threshold:
            fp_rows += 1
            fp_total += row.sweep_score
    total = math.fsum(best_in_window.values()) + fp_total
    return ThresholdScore(threshold, total, len(detected), fp_rows, len(best_in_window) - len(detected))


def normalised(raw: float, windows: int, profile: CostMatrix = STANDARD_PROFILE) -> float:
    """A raw score over `windows` scored windows on NAB's scale: the null detector 0, the perfect one 100."""
    null, perfect = -profile.fn * windows, profile.tp * windows
    return 100.0 * (raw - null) / (perfect - null)


def perfect_scores(series: LabelledSeries) -> list[float]:
    """1.0 on the first scored row of every window, 0.0 elsewhere: the best any detector can do."""
    scores = [0.0] * len(series.timestamps)
    probation = probationary_length(len(series.timestamps))
    index_of = {timestamp: i for i, timestamp in enumerate(series.timestamps)}
    for start, end in series.windows:
        first = max(index_of[start], math.ceil(probation))
        if first <= index_of[end]:
            scores[first] = 1.0
    return scores


def score_corpus(
    results: Iterable[tuple[LabelledSeries, Sequence[float]]], profile: CostMatrix = STANDARD_PROFILE
) -> CorpusScore:
    """One detector's anomaly scores over a corpus, at the corpus-wide best threshold, normalised 0 (null) .. 100."""
    rows: list[ScoredRow] = []
    windows = 0
    for series, anomaly_scores in results:
        series_rows = sweep_rows(series, anomaly_scores, profile)
        windows += len({row.window for row in series_rows if row.window is not None})
        rows.extend(series_rows)
    if windows == 0:
        raise ValueError("the corpus has no scored window, so no score can be normalised against it")
    return CorpusScore(best_threshold(rows, profile), -profile.fn * windows, profile.tp * windows)


def parse_timestamp(text: str) -> datetime:
    """NAB's `YYYY-MM-DD HH:MM:SS`, with or without the fractional seconds its window files carry."""
    return datetime.fromisoformat(text)


def load_corpus(root: Path) -> list[LabelledSeries]:
    """Every series of `root/combined_windows.json`, its timestamps read from `root/data/<name>`."""
    windows = json.loads((root / "combined_windows.json").read_text())
    corpus = []
    for name in sorted(windows):
        with (root / "data" / name).open() as data:
            next(data)
            timestamps = [parse_timestamp(line.split(",", 1)[0]) for line in data if line.strip()]
        limits = [(parse_timestamp(start), parse_timestamp(end)) for start, end in windows[name]]
        corpus.append(LabelledSeries(name, timestamps, limits))
    return corpus
