"""The agent's anomaly detector and two baselines on the NAB subset, scored with NAB's standard profile, with the null
and perfect detectors as sanity checks.

Two numbers per detector. All data: its parameter set (one threshold, and for the agent's second row also its
settings, from a small grid) tuned on every file, as NAB's own sweep does: what it scores on the data it was tuned
on. Cross-validated (the one that counts): leave one category (a data/ subfolder) out, tune the parameter set on the
other two, score the one left out at that parameter set, and add the three held-out results up: what it scores on
data it has not seen.
Run: uv run python -m bench.nab_bench [NAB directory, default $NAB_DATA or /work/shared/data/nab]"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from orion_agent import nab
from orion_agent.detect import (
    AgentDetector,
    AgentSettings,
    Detector,
    StaticThresholdDetector,
    WindowedGaussianDetector,
)

DEFAULT_DATA = Path("/work/shared/data/nab")
NAB_DATA_VARIABLE = "NAB_DATA"

# The agent's grid: the shipped settings first (a tie goes to them), then variations of what matters most.
_SHIPPED = AgentSettings()
AGENT_GRID: dict[str, AgentSettings] = {
    "shipped": _SHIPPED,
    "memory 2 days": replace(_SHIPPED, memory=timedelta(days=2)),
    "memory 7 days": replace(_SHIPPED, memory=timedelta(days=7)),
    "passed events forgotten": replace(_SHIPPED, passed_weight=0.0),
    "passed events at half size": replace(_SHIPPED, passed_weight=0.5),
}


def _agent(settings: AgentSettings) -> Callable[[], Detector]:
    return lambda: AgentDetector(settings)


DETECTORS: dict[str, dict[str, Callable[[], Detector]]] = {
    # The shipped settings with only the threshold tuned, as NAB tunes every detector; and the same with the grid's
    # settings tuned too, inside the folds, which shows whether choosing settings on two categories carries over.
    "agent": {"shipped": _agent(_SHIPPED)},
    "agent, settings grid": {name: _agent(settings) for name, settings in AGENT_GRID.items()},
    "windowed gaussian": {"fixed": WindowedGaussianDetector},
    "static threshold": {"fixed": StaticThresholdDetector},
}


class MissingDataError(Exception):
    """The NAB files are not where the benchmark looked."""


def data_root(argv: Sequence[str]) -> Path:
    if len(argv) > 1:
        raise MissingDataError(f"usage: python -m bench.nab_bench [NAB directory]; got {len(argv)} arguments")
    root = Path(argv[0]) if argv else Path(os.environ.get(NAB_DATA_VARIABLE) or DEFAULT_DATA)
    if not (root / "combined_windows.json").is_file() or not (root / "data").is_dir():
        raise MissingDataError(
            f"no NAB data at {root} (expected {root}/combined_windows.json and {root}/data/): point "
            f"{NAB_DATA_VARIABLE} or the first argument at a copy of numenta/NAB's data/ folder beside a "
            "combined_windows.json from its labels/ folder"
        )
    return root


def read_values(path: Path) -> list[float]:
    with path.open() as data:
        next(data)
        return [float(line.split(",")[1]) for line in data if line.strip()]


@dataclass(frozen=True)
class Run:
    """One parameter candidate's anomaly scores over the corpus, as NAB's sweep rows per file, and its cost."""

    rows: dict[str, list[nab.ScoredRow]]
    micros_per_point: float


def run_candidate(
    factory: Callable[[], Detector], corpus: Sequence[nab.LabelledSeries], values: dict[str, list[float]]
) -> Run:
    """Every series scored by a fresh detector, and the detector's microseconds per point."""
    rows = {}
    elapsed = 0.0
    points = 0
    for series in corpus:
        detector = factory()
        points_of_series = list(zip(series.timestamps, values[series.name], strict=True))
        started = time.perf_counter()
        scores = [detector.update(timestamp, value) for timestamp, value in points_of_series]
        elapsed += time.perf_counter() - started
        points += len(scores)
        rows[series.name] = nab.sweep_rows(series, scores)
    return Run(rows, elapsed / points * 1e6)


def category(name: str) -> str:
    return name.split("/", 1)[0]


def rows_of(run: Run, names: Sequence[str]) -> list[nab.ScoredRow]:
    return [row for name in names for row in run.rows[name]]


def windows_in(rows: Sequence[nab.ScoredRow]) -> int:
    return len({row.window for row in rows if row.window is not None})


def tune(runs: dict[str, Run], names: Sequence[str]) -> tuple[str, nab.ThresholdScore]:
    """The candidate and threshold with the highest raw score on `names`; a tie goes to the earlier candidate."""
    chosen: tuple[str, nab.ThresholdScore] | None = None
    for candidate, run in runs.items():
        best = nab.best_threshold(rows_of(run, names))
        if chosen is None or best.score > chosen[1].score:
            chosen = (candidate, best)
    assert chosen is not None, "every detector has at least one candidate"
    return chosen


@dataclass(frozen=True)
class Evaluation:
    all_data: nab.ThresholdScore
    all_data_candidate: str
    all_data_windows: int
    cross_validated: nab.ThresholdScore
    folds: list[tuple[str, str, nab.ThresholdScore, int]]

    @property
    def all_data_normalised(self) -> float:
        return nab.normalised(self.all_data.score, self.all_data_windows)

    @property
    def cross_validated_normalised(self) -> float:
        return nab.normalised(self.cross_validated.score, self.all_data_windows)


def evaluate(runs: dict[str, Run], names: Sequence[str]) -> Evaluation:
    candidate, all_data = tune(runs, names)
    folds = []
    raw = 0.0
    tp = fp = fn = 0
    for held_out in sorted({category(name) for name in names}):
        training = [name for name in names if category(name) != held_out]
        testing = [name for name in names if category(name) == held_out]
        chosen, tuned = tune(runs, training)
        held_rows = rows_of(runs[chosen], testing)
        result = nab.score_at_threshold(held_rows, tuned.threshold)
        folds.append((held_out, chosen, result, windows_in(held_rows)))
        raw += result.score
        tp, fp, fn = tp + result.tp, fp + result.fp, fn + result.fn
    windows = windows_in(rows_of(runs[candidate], names))
    return Evaluation(all_data, candidate, windows, nab.ThresholdScore(float("nan"), raw, tp, fp, fn), folds)


def table_row(name: str, evaluation: Evaluation, micros: float | None) -> str:
    best, cv = evaluation.all_data, evaluation.cross_validated
    threshold = "-" if best.threshold > 1.0 else f"{best.threshold:.4f}"
    cost = "-" if micros is None else f"{micros:.1f}"
    return (
        f"{name:<24} {evaluation.cross_validated_normalised:>6.1f} {cv.tp:>3} {cv.fp:>4} {cv.fn:>3}   "
        f"{evaluation.all_data_normalised:>6.1f} {threshold:>9} {best.tp:>3} {best.fp:>4} {best.fn:>3} {cost:>8}"
    )


def fold_lines(evaluation: Evaluation) -> list[str]:
    lines = []
    for held_out, chosen, result, windows in evaluation.folds:
        score = f"{nab.normalised(result.score, windows):.1f}" if windows else "n/a (no windows)"
        lines.append(
            f"  {held_out:<22} tuned on the others: {chosen!r} at {result.threshold:.4f}; held-out score {score}, "
            f"tp {result.tp} fp {result.fp} fn {result.fn}"
        )
    return lines


def main(argv: Sequence[str]) -> int:
    try:
        root = data_root(argv)
    except MissingDataError as problem:
        print(f"nab_bench: {problem}", file=sys.stderr)
        return 2
    corpus = nab.load_corpus(root)
    values = {series.name: read_values(root / "data" / series.name) for series in corpus}
    names = [series.name for series in corpus]
    windows = sum(len(series.windows) for series in corpus)
    points = sum(len(series.timestamps) for series in corpus)
    categories = sorted({category(name) for name in names})
    print(f"NAB subset: {len(corpus)} files, {points} points, {windows} anomaly windows; standard profile")
    print(f"cross-validated: leave one category out of {', '.join(categories)}; tune on the others, score it")
    print("tp/fn: windows detected/missed; fp: points detected outside windows")
    header = f"{'':<24} {'cross-validated':^22}   {'all data':^32}"
    print(header)
    print(
        f"{'detector':<24} {'score':>6} {'tp':>3} {'fp':>4} {'fn':>3}   "
        f"{'score':>6} {'threshold':>9} {'tp':>3} {'fp':>4} {'fn':>3} {'us/point':>8}"
    )
    details = []
    for name, candidates in DETECTORS.items():
        runs = {candidate: run_candidate(factory, corpus, values) for candidate, factory in candidates.items()}
        evaluation = evaluate(runs, names)
        print(table_row(name, evaluation, runs[evaluation.all_data_candidate].micros_per_point))
        if len(candidates) > 1:
            details.append(f"{name}: all data chose {evaluation.all_data_candidate!r} of {', '.join(candidates)}")
        details.append(f"{name}, held out in turn:")
        details.extend(fold_lines(evaluation))
    for name, scores in (
        ("null (sanity: 0)", [[0.0] * len(series.timestamps) for series in corpus]),
        ("perfect (sanity: 100)", [nab.perfect_scores(series) for series in corpus]),
    ):
        run = Run({series.name: nab.sweep_rows(series, found) for series, found in zip(corpus, scores, strict=True)}, 0)
        print(table_row(name, evaluate({"fixed": run}, names), None))
    print()
    print("\n".join(details))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
