"""Scoring a `timestamp,value` CSV file with a detector, as NAB files and real exports come.

Accepted: a `timestamp,value` header (any case; a byte-order mark is removed) or none when the first line is already
data; LF or CRLF lines; blank lines (skipped). Timestamps: ISO 8601 date and time separated by a space or `T`, with or
without seconds and fractions, with or without `Z` or an offset (`+02:00`, `+0200`), or a bare date; or Unix epoch
seconds (9 to 11 digits, fraction allowed) or milliseconds (12 to 14 digits). Times with an offset are converted to
UTC, as the live agent sees its series; times without one are taken as they are. Values: any decimal number,
exponent allowed; an empty, NaN or infinite value is a missing sample, scored 0 and not learned, like a gap the live
agent skips. Timestamps that repeat or go back are scored as if at the latest time before them, so the detector only
ever moves forward. Every row is scored from the rows before it alone, and the output keeps the input's rows, order
and text, with the score appended.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from orion_agent.detect.agent import AgentDetector
from orion_agent.detect.base import Detector
from orion_agent.files import replaced_on_success

HEADER = ["timestamp", "value"]
BYTE_ORDER_MARK = "\ufeff"
# fromisoformat alone would also take any character between date and time ("2024-01-01x00:00").
_ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?", re.ASCII)
# 9 to 11 digits are seconds from 1973 to 5138; 12 to 14 are milliseconds over the same years: they never overlap.
_EPOCH = re.compile(r"(?P<whole>\d{9,14})(\.\d+)?", re.ASCII)
_EPOCH_MILLISECOND_DIGITS = 12
# A step this many times the usual one is a gap worth telling.
_GAP_FACTOR = 2
TIMESTAMP_FORMATS = "an ISO 8601 time like '2024-01-01 00:00:00' or '2024-01-01T00:00Z', or Unix epoch seconds"


class CsvFormatError(ValueError):
    """A line of an input file that is not what `score_csv` reads."""

    def __init__(self, source: Path, line: int, problem: str) -> None:
        super().__init__(f"{source}, line {line}: {problem}")
        self.source = source
        self.line = line


class SameFileError(ValueError):
    """The destination is the source itself (perhaps by another name): writing it would destroy the input."""

    def __init__(self, source: Path, destination: Path) -> None:
        super().__init__(f"{destination} is the same file as {source}: choose another destination")


@dataclass
class Scored:
    """What `score_csv` wrote and what it noticed in the input on the way (one sentence per finding)."""

    rows: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class _Irregularities:
    """Counts and first occurrences of what the input does that a clean series would not."""

    blank_lines: int = 0
    first_blank_line: int = 0
    missing_values: int = 0
    first_missing: str = ""
    repeated: int = 0
    first_repeated: str = ""
    went_back: int = 0
    first_went_back: str = ""
    with_offset: int = 0
    without_offset: int = 0
    steps: Counter[float] = field(default_factory=Counter)
    longest_step: float = 0.0
    longest_step_line: int = 0
    latest: datetime | None = None
    latest_text: str = ""

    def place(self, timestamp: datetime, text: str, line: int) -> datetime:
        """When to feed the detector a row stamped `timestamp`: never before the latest time already fed."""
        latest = self.latest
        if latest is None:
            self.latest, self.latest_text = timestamp, text
            return timestamp
        if timestamp == latest:
            self.repeated += 1
            self.first_repeated = self.first_repeated or f"first at line {line}: {text}"
            return latest
        if timestamp < latest:
            self.went_back += 1
            self.first_went_back = self.first_went_back or f"first at line {line}: {text} after {self.latest_text}"
            return latest
        step = (timestamp - latest).total_seconds()
        self.steps[step] += 1
        if step > self.longest_step:
            self.longest_step, self.longest_step_line = step, line
        self.latest, self.latest_text = timestamp, text
        return timestamp

    def notes(self, rows: int) -> list[str]:
        found = []
        if rows == 0:
            found.append("no rows")
        if self.blank_lines:
            found.append(f"{_count(self.blank_lines, 'blank line')} skipped (first at line {self.first_blank_line})")
        if self.missing_values:
            found.append(
                f"{_count(self.missing_values, 'row')} without a number ({self.first_missing}), "
                "scored 0 and not learned"
            )
        if self.repeated:
            found.append(f"{_count(self.repeated, 'timestamp')} repeated the latest before it ({self.first_repeated})")
        if self.went_back:
            found.append(
                f"{_count(self.went_back, 'timestamp')} went back ({self.first_went_back}), "
                "scored as if at the latest time before"
            )
        if self.with_offset and self.without_offset:
            found.append(
                f"{_count(self.with_offset, 'timestamp')} with a zone (an offset, 'Z' or epoch time) and "
                f"{self.without_offset} without: those without were taken as UTC"
            )
        gaps = self._gaps()
        if gaps:
            found.append(gaps)
        return found

    def _gaps(self) -> str:
        if not self.steps:
            return ""
        usual = self.steps.most_common(1)[0][0]
        gaps = sum(count for step, count in self.steps.items() if step > _GAP_FACTOR * usual)
        if not gaps:
            return ""
        return (
            f"{_count(gaps, 'gap')} longer than {_GAP_FACTOR} times the usual step of {usual:g} s "
            f"(the longest, {self.longest_step:g} s, ends at line {self.longest_step_line})"
        )


def score_csv(source: Path, destination: Path, detector_factory: Callable[[], Detector] = AgentDetector) -> Scored:
    """Write `destination` as `source` with each row's anomaly score appended; see the module for what is read.

    `destination` is written to a temporary file beside it and renamed over it only once every row is scored, so
    a failure leaves it as it was; a symlinked destination has its target replaced, keeping that file's mode. A
    destination that is not a regular file (a pipe, a terminal, /dev/stdout) is written as rows are scored.
    """
    if _same_file(source, destination):
        raise SameFileError(source, destination)
    writing: contextlib.AbstractContextManager[TextIO]
    descriptor = _named_descriptor(destination)
    if descriptor is not None:
        # /dev/stdout, /dev/fd/N: written where that descriptor stands. Opening the path would truncate what it
        # leads to, the file a shell redirected stdout to (`>>` or the lines before it) included.
        writing = os.fdopen(os.dup(descriptor), "w", newline="", encoding="utf-8")
    elif _is_stream(destination):
        # A pipe, terminal or device (/dev/stdout): nothing there to keep, and nothing to rename over.
        writing = destination.open("w", newline="", encoding="utf-8")
    else:
        writing = replaced_on_success(Path(os.path.realpath(destination)))
    with source.open("rb") as reader_file, writing as writer_file:
        return _score(source, reader_file, writer_file, detector_factory())


def _score(source: Path, reader_file: BinaryIO, writer_file: TextIO, detector: Detector) -> Scored:
    found = _Irregularities()
    scored = Scored()
    writer = csv.writer(writer_file, lineterminator="\n")
    writer.writerow([*HEADER, "anomaly_score"])
    for line, cells in _rows(source, reader_file, scored.notes, found):
        if len(cells) != 2:
            raise CsvFormatError(source, line, f"expected 2 fields (timestamp,value), found {len(cells)}")
        text_timestamp, text_value = cells
        timestamp = found.place(_timestamp(source, line, text_timestamp, found), text_timestamp, line)
        value = _value(source, line, text_value)
        score = 0.0
        if math.isfinite(value):
            score = detector.update(timestamp, value)
            # A detector's NaN would fail both comparisons and pass through unclamped.
            score = 0.0 if math.isnan(score) else min(max(score, 0.0), 1.0)
        else:
            found.missing_values += 1
            found.first_missing = found.first_missing or f"first at line {line}: {text_value!r}"
        writer.writerow([text_timestamp, text_value, repr(score)])
        scored.rows += 1
    scored.notes.extend(found.notes(scored.rows))
    return scored


def _rows(
    source: Path, reader_file: BinaryIO, notes: list[str], found: _Irregularities
) -> Iterator[tuple[int, list[str]]]:
    """Each data row's line number and stripped cells, after the header (if any); blank lines counted, not given."""
    reader = csv.reader(_decoded_lines(source, reader_file, notes))
    is_first = True
    while True:
        try:
            row = next(reader, None)
        except csv.Error as error:
            raise CsvFormatError(source, reader.line_num, f"not readable as CSV ({error})") from None
        if row is None:
            break
        cells = [cell.strip() for cell in row]
        if not any(cells):
            found.blank_lines += 1
            found.first_blank_line = found.first_blank_line or reader.line_num
            continue
        if is_first:
            is_first = False
            if [cell.lower() for cell in cells] == HEADER:
                continue
            if not _looks_like_data(cells):
                raise CsvFormatError(
                    source, reader.line_num, f"expected the header 'timestamp,value', found {','.join(row)!r}"
                )
            notes.append("no header line: the first line was read as data")
        yield reader.line_num, cells
    if is_first:
        raise CsvFormatError(source, 1, "expected the header 'timestamp,value', found an empty file")


def _decoded_lines(source: Path, reader_file: BinaryIO, notes: list[str]) -> Iterator[str]:
    """The file's lines as text, each undecodable one named by its number (a text-mode file could not say where)."""
    for number, raw in enumerate(reader_file, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            hint = "; it looks like UTF-16, save it as UTF-8" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            raise CsvFormatError(
                source, number, f"not UTF-8 text (byte 0x{raw[error.start]:02x} at column {error.start + 1}{hint})"
            ) from None
        if number == 1 and text.startswith(BYTE_ORDER_MARK):
            text = text.removeprefix(BYTE_ORDER_MARK)
            notes.append("a byte-order mark removed")
        yield text


def _looks_like_data(cells: list[str]) -> bool:
    return len(cells) == 2 and _parsed_timestamp(cells[0]) is not None


def _parsed_timestamp(text: str) -> datetime | None:
    epoch = _EPOCH.fullmatch(text)
    try:
        if epoch is not None:
            seconds = float(text)
            if len(epoch["whole"]) >= _EPOCH_MILLISECOND_DIGITS:
                seconds /= 1000
            return datetime.fromtimestamp(seconds, UTC)
        if _ISO_TIMESTAMP.fullmatch(text):
            return datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _timestamp(source: Path, line: int, text: str, found: _Irregularities) -> datetime:
    parsed = _parsed_timestamp(text)
    if parsed is None:
        raise CsvFormatError(source, line, f"expected a timestamp ({TIMESTAMP_FORMATS}), found {text!r}")
    if parsed.tzinfo is None:
        found.without_offset += 1
        return parsed
    found.with_offset += 1
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in no year Python counts in UTC
        raise CsvFormatError(source, line, f"expected a time within years 1-9999 in UTC, found {text!r}") from None


def _value(source: Path, line: int, text: str) -> float:
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise CsvFormatError(source, line, f"expected a number, found {text!r}") from None


def _same_file(source: Path, destination: Path) -> bool:
    try:
        return os.path.samefile(source, destination)
    except FileNotFoundError:
        return False


_STANDARD_DESCRIPTORS = {"/dev/stdout": 1, "/dev/stderr": 2}
_DESCRIPTOR_FOLDERS = ("/dev/fd/", "/proc/self/fd/")


def _named_descriptor(destination: Path) -> int | None:
    """The open descriptor `destination` names (/dev/stdout, /dev/fd/N), None for any other path."""
    name = os.path.abspath(destination)
    if name in _STANDARD_DESCRIPTORS:
        return _STANDARD_DESCRIPTORS[name]
    for folder in _DESCRIPTOR_FOLDERS:
        number = name.removeprefix(folder)
        if number != name and number.isdigit():
            return int(number)
    return None


def _is_stream(destination: Path) -> bool:
    try:
        return not stat.S_ISREG(destination.stat().st_mode) and not destination.is_dir()
    except FileNotFoundError:
        return False


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
