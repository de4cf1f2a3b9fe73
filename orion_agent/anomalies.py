"""Online anomaly detection on the key series, one `AgentDetector` per series, fed at each check."""

from __future__ import annotations

import datetime
import math

from orion_agent.checks import Finding, Severity
from orion_agent.detect import AgentDetector


class AnomalyWatch:
    """The latest anomaly score of each series; a series without a value this round keeps its detector's state."""

    def __init__(self, threshold: float) -> None:
        self._threshold = threshold
        self._detectors: dict[str, AgentDetector] = {}
        self.scores: dict[str, float] = {}

    def observe(self, timestamp: float, series: str, value: float | None) -> Finding:
        if value is None or not math.isfinite(value):
            # The detector refuses non-finite values; a gap is not evidence of anything, so it is skipped.
            self.scores.pop(series, None)
            return Finding("anomaly", series, Severity.UNKNOWN, f"{series}: no value to score")
        detector = self._detectors.setdefault(series, AgentDetector())
        when = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).replace(tzinfo=None)
        score = detector.update(when, value)
        self.scores[series] = score
        if score >= self._threshold:
            return Finding("anomaly", series, Severity.WARNING, f"{series} anomalous (score {score:.2f})", score)
        return Finding("anomaly", series, Severity.OK, f"{series} as usual (score {score:.2f})", score)
