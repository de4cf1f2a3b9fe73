"""Structured logs: one JSON object per line, to stderr (the journal) and to a log file."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from orion_agent.audit import iso


class JsonFormatter(logging.Formatter):
    """The time, level, logger and message, plus whatever a call passed as `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            document.update({key: value for key, value in fields.items() if key not in document})
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure_logging(level: str, log_file: Path | None) -> None:
    """JSON to stderr and, if given, to `log_file`; a log file that cannot be opened is reported, not fatal."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    problem = None
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file))
        except OSError as error:
            problem = f"cannot write {log_file}: {error.strerror}"
    formatter = JsonFormatter()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    # urllib3 logs every retry and connection at debug; the agent reports what failed itself.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    if problem is not None:
        logging.getLogger("orion_agent").warning(problem)
