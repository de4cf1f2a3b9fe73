"""The agent's anomaly detector and two baselines on the NAB subset, scored with NAB's standard profile (one
threshold per detector, optimised over the whole corpus), with the null and perfect detectors as sanity checks.
Run: uv run python -m bench.nab_bench [NAB directory, default $NAB_DATA or /work/shared/data/nab]"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from orion_agent import nab
from orion_agent.detect import AgentDetector, Detector, StaticThresholdDetector, WindowedGaussianDetector

DEFAULT_DATA = Path(os.environ.get("NAB_DATA", "/work/shared/data/nab"))

DETECTORS: dict[str, Callable[[], Detector]] = {
    "agent (orion_agent.detect.AgentDetector)": AgentDetector,
    "windowed gaussian": WindowedGaussianDetector,
    "static threshold": StaticThresholdDetector,
}


def read_values(path: Path) -> list[float]:
    with path.open() as data:
        next(data)
        return [float(line.split(",")[1]) for line in data if line.strip()]


def run_detector(
    factory: Callable[[], Detector], corpus: Sequence[nab.LabelledSeries], values: dict[str, list[float]]
) -> tuple[list[tuple[nab.LabelledSeries, list[float]]], float]:
    """Every series' scores, from a fresh detector each, and the detector's microseconds per point."""
    results = []
    elapsed = 0.0
    points = 0
    for series in corpus:
        detector = factory()
        points_of_series = list(zip(series.timestamps, values[series.name], strict=True))
        started = time.perf_counter()
        scores = [detector.update(timestamp, value) for timestamp, value in points_of_series]
        elapsed += time.perf_counter() - started
        points += len(scores)
        results.append((series, scores))
    return results, elapsed / points * 1e6


def row(name: str, score: nab.CorpusScore, micros: float | None) -> str:
    best = score.best
    threshold = "-" if best.threshold > 1.0 else f"{best.threshold:.4f}"
    cost = "-" if micros is None else f"{micros:.1f}"
    return f"{name:<42} {score.normalised:>6.1f} {threshold:>9} {best.tp:>4} {best.fp:>5} {best.fn:>4} {cost:>8}"


def main(argv: Sequence[str]) -> None:
    root = Path(argv[0]) if argv else DEFAULT_DATA
    corpus = nab.load_corpus(root)
    values = {series.name: read_values(root / "data" / series.name) for series in corpus}
    windows = sum(len(series.windows) for series in corpus)
    points = sum(len(series.timestamps) for series in corpus)
    print(f"NAB subset: {len(corpus)} files, {points} points, {windows} anomaly windows; standard profile")
    print("tp/fn: windows detected/missed; fp: points detected outside windows; threshold: the best over the corpus")
    print(f"{'detector':<42} {'score':>6} {'threshold':>9} {'tp':>4} {'fp':>5} {'fn':>4} {'us/point':>8}")
    for name, factory in DETECTORS.items():
        results, micros = run_detector(factory, corpus, values)
        print(row(name, nab.score_corpus(results), micros))
    null = [(series, [0.0] * len(series.timestamps)) for series in corpus]
    print(row("null (sanity: 0)", nab.score_corpus(null), None))
    perfect = [(series, nab.perfect_scores(series)) for series in corpus]
    print(row("perfect (sanity: 100)", nab.score_corpus(perfect), None))


if __name__ == "__main__":
    main(sys.argv[1:])
