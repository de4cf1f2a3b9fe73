"""The audit log: one JSON line per decision or action, appended and flushed as it happens."""

from __future__ import annotations

import datetime
import json
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any


def iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat(timespec="milliseconds")


class AuditLog:
    """Append-only JSON lines; each line carries the time, the runbook, the event and its evidence."""

    def __init__(self, path: Path, clock: Callable[[], float]) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        # What the reports show, without reading back a log that grows for months.
        self.recent: deque[dict[str, Any]] = deque(maxlen=200)
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, runbook: str, event: str, **details: Any) -> dict[str, Any]:
        entry = {"time": iso(self._clock()), "runbook": runbook, "event": event, **details}
        line = json.dumps(entry, sort_keys=False, default=str)
        with self._lock, self.path.open("a") as file:
            file.write(line + "\n")
            self.recent.append(entry)
        return entry

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]
