"""The agent's detectors saved to one versioned JSON file and restored from it, so a restart or an upgrade does not
throw away days of learnt normal (the warm-up would blind the detectors for hours, the daily pattern for days)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orion_agent.detect.agent import AgentDetector, AgentSettings
from orion_agent.detect.base import StateError
from orion_agent.files import replaced_on_success

STATE_FORMAT = "orion-agent-detector-state"
# Raise it whenever a detector's snapshot changes shape or meaning: an older or newer agent's file is refused.
STATE_VERSION = 3
# A file saved further than this in the future means the clock moved back; its detectors would clamp every new
# timestamp to that future for as long as the gap lasts.
FUTURE_SLACK_SECONDS = 3600.0


def save_detectors(path: Path, detectors: Mapping[str, AgentDetector], saved_at: float) -> None:
    """Write every detector's state to `path` atomically: a crash leaves the old file or the new one, never half."""
    document = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "saved_at": saved_at,
        "detectors": {series: detector.snapshot() for series, detector in detectors.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # One writer, the agent: a fixed temporary name, so one left by a save that was killed is overwritten, not kept.
    with replaced_on_success(path, mode=0o600, temporary=path.with_name(f".{path.name}.tmp")) as file:
        json.dump(document, file, separators=(",", ":"), allow_nan=False)


def load_detectors(path: Path, now: float, settings: AgentSettings | None = None) -> dict[str, AgentDetector]:
    """The detectors saved in `path`; StateError says why the file is refused (not ours, another version, saved in
    the future, or a field that does not fit), naming the file and the field."""
    try:
        text = path.read_text()
    except OSError as error:
        raise StateError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise StateError(f"{path}: not a text file") from None
    try:
        document: Any = json.loads(text)
    except ValueError as error:
        raise StateError(f"{path}: not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise StateError(
            f"{path}: not an orion-agent detector state file (format {found!r}, expected {STATE_FORMAT!r})"
        )
    version = document.get("version")
    if version != STATE_VERSION:
        raise StateError(f"{path}: detector state version {version!r}, this agent reads version {STATE_VERSION}")
    saved_at = document.get("saved_at")
    if not isinstance(saved_at, int | float) or isinstance(saved_at, bool) or not math.isfinite(saved_at):
        raise StateError(f"{path}: saved_at: expected seconds since 1970, got {saved_at!r}")
    if saved_at > now + FUTURE_SLACK_SECONDS:
        raise StateError(f"{path}: saved at {saved_at:.0f}, after the current time {now:.0f} (the clock moved back)")
    detectors = document.get("detectors")
    if not isinstance(detectors, dict):
        raise StateError(f"{path}: detectors: expected a table of series")
    restored = {}
    for series, state in detectors.items():
        try:
            restored[series] = AgentDetector.restored(state, settings)
        except StateError as problem:
            raise StateError(f"{path}: detectors.{series}.{problem}") from None
    return restored
