"""Scoring a NAB-style `timestamp,value` CSV file with a detector."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from orion_agent.detect.agent import AgentDetector
from orion_agent.detect.base import Detector

HEADER = ["timestamp", "value"]
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


class CsvFormatError(ValueError):
    """A line of an input file that is not what `score_csv` reads."""

    def __init__(self, source: Path, line: int, problem: str) -> None:
        super().__init__(f"{source}, line {line}: {problem}")
        self.source = source
        self.line = line


def score_csv(source: Path, destination: Path, detector_factory: Callable[[], Detector] = AgentDetector) -> None:
    """Write `destination` as `source` (header `timestamp,value`) with each row's anomaly score appended."""
    detector = detector_factory()
    with source.open(newline="") as reader_file, destination.open("w", newline="") as writer_file:
        reader = csv.reader(reader_file)
        writer = csv.writer(writer_file, lineterminator="\n")
        header = next(reader, None)
        if header is None or [cell.strip() for cell in header] != HEADER:
            raise CsvFormatError(source, 1, f"expected the header 'timestamp,value', found {_shown(header)}")
        writer.writerow([*HEADER, "anomaly_score"])
        previous: datetime | None = None
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != 2:
                raise CsvFormatError(source, line, f"expected 2 fields (timestamp,value), found {len(row)}")
            text_timestamp, text_value = (cell.strip() for cell in row)
            try:
                timestamp = datetime.strptime(text_timestamp, TIMESTAMP_FORMAT)
            except ValueError:
                raise CsvFormatError(
                    source, line, f"expected a timestamp 'YYYY-MM-DD HH:MM:SS', found {text_timestamp!r}"
                ) from None
            try:
                value = float(text_value)
            except ValueError:
                raise CsvFormatError(source, line, f"expected a number, found {text_value!r}") from None
            if not math.isfinite(value):
                raise CsvFormatError(source, line, f"expected a finite number, found {text_value!r}")
            if previous is not None and timestamp < previous:
                raise CsvFormatError(
                    source, line, f"expected timestamps in time order, found {text_timestamp} after {previous}"
                )
            previous = timestamp
            score = detector.update(timestamp, value)
            writer.writerow([text_timestamp, text_value, repr(min(max(score, 0.0), 1.0))])


def _shown(header: list[str] | None) -> str:
    return "an empty file" if header is None else repr(",".join(header))
