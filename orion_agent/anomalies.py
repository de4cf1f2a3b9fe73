"""Online anomaly detection on the key series, one `AgentDetector` per series, fed at each check, kept across
restarts in the state directory."""

from __future__ import annotations

import datetime
import logging
import math
from pathlib import Path

from orion_agent.checks import Finding, Severity
from orion_agent.detect import AgentDetector, StateError
from orion_agent.detect.state import load_detectors, save_detectors

log = logging.getLogger(__name__)


class AnomalyWatch:
    """The latest anomaly score of each series; a series without a value this round keeps its detector's state."""

    def __init__(self, threshold: float, state_file: Path | None = None) -> None:
        self._threshold = threshold
        self._state_file = state_file
        self._detectors: dict[str, AgentDetector] = {}
        self.scores: dict[str, float] = {}

    def load(self, now: float) -> None:
        """Continue from the saved detectors; a file that cannot be used is set aside with one clear log line, and
        the detectors start fresh: losing what they learnt must never stop the agent."""
        if self._state_file is None or not self._state_file.exists():
            return
        try:
            self._detectors = load_detectors(self._state_file, now)
        except (StateError, ArithmeticError, ValueError, TypeError, LookupError) as problem:
            # StateError names what is wrong; the others are a backstop for a value no check foresaw.
            aside = self._state_file.with_name(self._state_file.name + ".refused")
            try:
                self._state_file.replace(aside)
                kept = f"kept as {aside}"
            except OSError as error:
                kept = f"could not be set aside ({error.strerror})"
            log.error(
                "anomaly detector state refused, starting fresh: %s; %s",
                problem,
                kept,
                extra={"fields": {"path": str(self._state_file), "error": str(problem)}},
            )
            return
        log.info(
            "anomaly detector state restored",
            extra={"fields": {"path": str(self._state_file), "series": sorted(self._detectors)}},
        )

    def save(self, now: float) -> None:
        """Write the detectors' state; a failure is logged and the next save tries again."""
        if self._state_file is None:
            return
        try:
            save_detectors(self._state_file, self._detectors, now)
        except (OSError, ValueError) as error:
            log.error(
                "anomaly detector state not saved: %s",
                error,
                extra={"fields": {"path": str(self._state_file), "error": str(error)}},
            )

    def observe(self, timestamp: float, series: str, value: float | None) -> Finding:
        if value is None or not math.isfinite(value):
            # The detector refuses non-finite values; a gap is not evidence of anything, so it is skipped.
            self.scores.pop(series, None)
            return Finding("anomaly", series, Severity.UNKNOWN, f"{series}: no value to score")
        detector = self._detectors.setdefault(series, AgentDetector())
        when = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).replace(tzinfo=None)
        try:
            score = detector.update(when, value)
        except (ArithmeticError, ValueError) as problem:
            # A restored state that passed every check and still breaks the arithmetic: that series starts afresh
            # rather than failing at every check from now on.
            log.error(
                "anomaly detector of %s reset: %s",
                series,
                problem,
                extra={"fields": {"series": series, "error": f"{type(problem).__name__}: {problem}"}},
            )
            detector = self._detectors[series] = AgentDetector()
            score = detector.update(when, value)
        self.scores[series] = score
        if score >= self._threshold:
            return Finding("anomaly", series, Severity.WARNING, f"{series} anomalous (score {score:.2f})", score)
        return Finding("anomaly", series, Severity.OK, f"{series} as usual (score {score:.2f})", score)
