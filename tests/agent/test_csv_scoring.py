from __future__ import annotations

import csv
import math
import os
import shutil
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from orion_agent.detect.csv_scoring import CsvFormatError, SameFileError, Scored, score_csv

NAB = Path("/work/shared/data/nab/data")


class Recording:
    """A detector that remembers what it was fed and scores each value as itself, so rows can be traced."""

    fed: list[tuple[datetime, float]]

    def __init__(self) -> None:
        self.fed = []

    def update(self, timestamp: datetime, value: float) -> float:
        self.fed.append((timestamp, value))
        return value / 10


def run(tmp_path: Path, text: str | bytes) -> tuple[Scored, list[list[str]], Recording]:
    source = tmp_path / "in.csv"
    if isinstance(text, str):
        source.write_text(text)
    else:
        source.write_bytes(text)
    detector = Recording()
    scored = score_csv(source, tmp_path / "out.csv", lambda: detector)
    with (tmp_path / "out.csv").open(newline="") as written:
        return scored, list(csv.reader(written)), detector


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_repeated_and_backward_timestamps_are_scored_in_place_with_the_detector_moving_forward_only(
    tmp_path: Path,
) -> None:
    scored, table, detector = run(
        tmp_path,
        "timestamp,value\n"
        "2024-01-01 00:05:00,1\n"
        "2024-01-01 00:05:00,2\n"
        "2024-01-01 00:00:00,3\n"
        "2024-01-01 00:10:00,4\n"
        "2024-01-01 00:01:00,5\n",
    )
    assert table == [
        ["timestamp", "value", "anomaly_score"],
        ["2024-01-01 00:05:00", "1", "0.1"],
        ["2024-01-01 00:05:00", "2", "0.2"],
        ["2024-01-01 00:00:00", "3", "0.3"],
        ["2024-01-01 00:10:00", "4", "0.4"],
        ["2024-01-01 00:01:00", "5", "0.5"],
    ]
    assert [when for when, _ in detector.fed] == [at("2024-01-01 00:05"), at("2024-01-01 00:05"),
                                                   at("2024-01-01 00:05"), at("2024-01-01 00:10"),
                                                   at("2024-01-01 00:10")]  # fmt: skip
    assert scored.rows == 5
    assert scored.notes == [
        "1 timestamp repeated the latest before it (first at line 3: 2024-01-01 00:05:00)",
        "2 timestamps went back (first at line 4: 2024-01-01 00:00:00 after 2024-01-01 00:05:00), "
        "scored as if at the latest time before",
    ]


def test_a_byte_order_mark_and_crlf_lines_are_read(tmp_path: Path) -> None:
    scored, table, _ = run(tmp_path, b"\xef\xbb\xbftimestamp,value\r\n2024-01-01 00:00:00,1.5\r\n")
    assert table == [["timestamp", "value", "anomaly_score"], ["2024-01-01 00:00:00", "1.5", "0.15"]]
    assert (tmp_path / "out.csv").read_bytes().count(b"\r") == 0
    assert scored.notes == ["a byte-order mark removed"]


def test_gaps_are_told_with_the_usual_step_and_the_longest(tmp_path: Path) -> None:
    minutes = [0, 5, 10, 15, 20, 40, 45, 50, 120]
    body = "".join(f"2024-01-01 {m // 60:02d}:{m % 60:02d}:00,1\n" for m in minutes)
    scored, table, _ = run(tmp_path, "timestamp,value\n" + body)
    assert len(table) == len(minutes) + 1
    assert scored.notes == ["2 gaps longer than 2 times the usual step of 300 s (the longest, 4200 s, ends at line 10)"]


def test_a_header_only_file_gives_a_header_only_output(tmp_path: Path) -> None:
    scored, table, detector = run(tmp_path, "timestamp,value\n")
    assert table == [["timestamp", "value", "anomaly_score"]]
    assert (scored.rows, scored.notes, detector.fed) == (0, ["no rows"], [])


def test_blank_lines_and_missing_values_keep_one_score_per_row(tmp_path: Path) -> None:
    scored, table, detector = run(
        tmp_path,
        "timestamp,value\n2024-01-01 00:00:00,1\n\n2024-01-01 00:05:00,\n2024-01-01 00:10:00,NaN\n"
        "2024-01-01 00:15:00,2\n",
    )
    assert [row[2] for row in table[1:]] == ["0.1", "0.0", "0.0", "0.2"]
    assert [value for _, value in detector.fed] == [1.0, 2.0]
    assert scored.notes == [
        "1 blank line skipped (first at line 3)",
        "2 rows without a number (first at line 4: ''), scored 0 and not learned",
    ]


@pytest.mark.parametrize(
    ("text", "fed"),
    [
        ("2024-01-01 00:00:00", "2024-01-01 00:00:00"),
        ("2024-01-01 00:00", "2024-01-01 00:00:00"),
        ("2024-01-01T00:00:00.250", "2024-01-01 00:00:00.250"),
        ("2024-01-01T02:00:00+02:00", "2024-01-01 00:00:00"),
        ("2024-01-01T00:00:00Z", "2024-01-01 00:00:00"),
        ("2024-01-01T05:30+0530", "2024-01-01 00:00:00"),
        ("2024-01-01", "2024-01-01 00:00:00"),
        ("1704067200", "2024-01-01 00:00:00"),
        ("1704067200.5", "2024-01-01 00:00:00.500"),
        ("1704067200000", "2024-01-01 00:00:00"),
    ],
)
def test_timestamps_as_real_exports_write_them(tmp_path: Path, text: str, fed: str) -> None:
    _, table, detector = run(tmp_path, f"timestamp,value\n{text},-2.5e-3\n")
    assert table[1] == [text, "-2.5e-3", "0.0"]  # the recorder scores -0.00025: clamped into [0, 1]
    assert detector.fed == [(at(fed), -0.0025)]


def test_a_file_without_a_header_is_read_from_its_first_line(tmp_path: Path) -> None:
    scored, table, _ = run(tmp_path, "2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n")
    assert [row[:2] for row in table] == [
        ["timestamp", "value"],
        ["2024-01-01 00:00:00", "1"],
        ["2024-01-01 00:05:00", "2"],
    ]
    assert scored.notes == ["no header line: the first line was read as data"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"", "line 1: expected the header 'timestamp,value', found an empty file"),
        (b"time,value\n", "line 1: expected the header 'timestamp,value', found 'time,value'"),
        (
            b"timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,n/a\n",
            "line 3: expected a number, found 'n/a'",
        ),
        (b"timestamp,value\n2024-01-01 00:00:00,1,2\n", "line 2: expected 2 fields (timestamp,value), found 3"),
        (
            b"timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01x00:05,2\n",
            "line 3: expected a timestamp (an ISO 8601 time like '2024-01-01 00:00:00' or '2024-01-01T00:00Z', "
            "or Unix epoch seconds), found '2024-01-01x00:05'",
        ),
        (
            b"timestamp,value\n2024-13-01 00:00:00,1\n",
            "line 2: expected a timestamp (an ISO 8601 time like '2024-01-01 00:00:00' or '2024-01-01T00:00Z', "
            "or Unix epoch seconds), found '2024-13-01 00:00:00'",
        ),
        (
            b"timestamp,value\n9999-12-31T23:59:59-01:00,1\n",
            "line 2: expected a time within years 1-9999 in UTC, found '9999-12-31T23:59:59-01:00'",
        ),
        (b"timestamp,value\n2024-01-01 00:00:00,\xb51\n", "line 2: not UTF-8 text (byte 0xb5 at column 21)"),
        (
            b'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,"' + b"9" * 200_000 + b'"\n',
            "line 3: not readable as CSV (field larger than field limit (131072))",
        ),
    ],
    ids=[
        "empty",
        "other header",
        "not a number",
        "three fields",
        "odd separator",
        "month 13",
        "past year 9999",
        "latin-1",
        "huge",
    ],
)
def test_a_line_that_cannot_be_read_is_named_and_the_destination_is_untouched(
    tmp_path: Path, text: bytes, message: str
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(text)
    (tmp_path / "out.csv").write_text("an earlier result\n")
    with pytest.raises(CsvFormatError) as raised:
        score_csv(source, tmp_path / "out.csv")
    assert str(raised.value) == f"{source}, {message}"
    assert (tmp_path / "out.csv").read_text() == "an earlier result\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.csv", "out.csv"]


def test_the_input_is_never_the_output(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01 00:00:00,1\n")
    (tmp_path / "link.csv").symlink_to(source)
    for destination in (source, tmp_path / "link.csv", tmp_path / "." / "in.csv"):
        with pytest.raises(SameFileError):
            score_csv(source, destination)
    assert source.read_text() == "timestamp,value\n2024-01-01 00:00:00,1\n"


def test_scores_are_causal_later_rows_never_change_earlier_scores(tmp_path: Path) -> None:
    rows = [
        f"2024-01-{1 + i // 288:02d} {i % 288 // 12:02d}:{i % 12 * 5:02d}:00,{50 + math.sin(i / 9):.4f}"
        for i in range(900)
    ]
    later = [row.replace(",", ",9") if i % 7 == 0 else row for i, row in enumerate(rows)]
    later[700:710] = [rows[600]] * 10  # repeated, earlier timestamps after row 700
    (tmp_path / "a.csv").write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    (tmp_path / "b.csv").write_text("timestamp,value\n" + "\n".join(rows[:650] + later[650:]) + "\n")
    score_csv(tmp_path / "a.csv", tmp_path / "a.out")
    score_csv(tmp_path / "b.csv", tmp_path / "b.out")
    first = (tmp_path / "a.out").read_text().splitlines()
    second = (tmp_path / "b.out").read_text().splitlines()
    assert len(first) == len(second) == 901
    assert first[:651] == second[:651]
    assert first[651:] != second[651:]


def test_a_real_nab_file_with_repeats_and_a_gap_is_scored_row_for_row(tmp_path: Path) -> None:
    source = NAB / "realAWSCloudwatch" / "ec2_network_in_5abac7.csv"
    if not source.exists():
        pytest.skip(f"{source} is not here")
    shutil.copy(source, tmp_path / "in.csv")
    scored = score_csv(tmp_path / "in.csv", tmp_path / "out.csv")
    inputs = (tmp_path / "in.csv").read_text().splitlines()
    outputs = (tmp_path / "out.csv").read_text().splitlines()
    assert scored.rows == len(inputs) - 1 == len(outputs) - 1
    assert [line.rsplit(",", 1)[0] for line in outputs[1:]] == inputs[1:]
    assert all(0.0 <= float(line.rsplit(",", 1)[1]) <= 1.0 for line in outputs[1:])
    assert scored.notes == [
        "11 timestamps repeated the latest before it (first at line 2120: 2014-03-09 03:00:00)",
        "1 gap longer than 2 times the usual step of 300 s (the longest, 3840 s, ends at line 2119)",
    ]


def test_a_failure_midway_removes_the_temporary_file_and_keeps_the_destination(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n")
    (tmp_path / "out.csv").write_text("an earlier result\n")

    class Interrupted:
        def update(self, timestamp: datetime, value: float) -> float:
            if value == 2:
                raise KeyboardInterrupt
            return 0.0

    with pytest.raises(KeyboardInterrupt):
        score_csv(source, tmp_path / "out.csv", Interrupted)
    assert (tmp_path / "out.csv").read_text() == "an earlier result\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_a_new_destination_gets_the_mode_the_umask_gives(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01 00:00:00,1\n")
    previous = os.umask(0o027)
    try:
        score_csv(source, tmp_path / "out.csv")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o640


def test_a_header_in_any_case_and_times_with_and_without_a_zone(tmp_path: Path) -> None:
    scored, table, detector = run(
        tmp_path, "Timestamp,Value\n2024-01-01 00:00:00,1\n2024-01-01T00:05:00Z,2\n1704068400,3\n"
    )
    assert table[0] == ["timestamp", "value", "anomaly_score"]
    assert [when for when, _ in detector.fed] == [
        at("2024-01-01 00:00"),
        at("2024-01-01 00:05"),
        at("2024-01-01 00:20"),
    ]
    assert scored.notes == [
        "2 timestamps with a zone (an offset, 'Z' or epoch time) and 1 without: those without were taken as UTC",
        "1 gap longer than 2 times the usual step of 300 s (the longest, 900 s, ends at line 4)",
    ]


@pytest.mark.programs
@pytest.mark.parametrize("destination", ["/dev/stdout", "/dev/fd/1"])
@pytest.mark.parametrize("redirection", [">", ">>"])
def test_scoring_to_stdout_writes_where_the_shell_redirected_it_keeping_what_is_there(
    tmp_path: Path, destination: str, redirection: str
) -> None:
    """Opening /dev/stdout for writing truncates the file a shell redirected stdout to: the lines written before
    the score, or the whole file with `>>`, were lost."""
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01 00:00:00,1\n")
    log = tmp_path / "log"
    log.write_text("already there\n")
    script = f'(echo before; "$1" -m orion_agent score "$2" {destination}; echo after) {redirection} "$3"'
    subprocess.run(["sh", "-c", script, "sh", sys.executable, str(source), str(log)], check=True)
    kept = ["already there"] if redirection == ">>" else []
    assert log.read_text().splitlines() == [
        *kept,
        "before",
        "timestamp,value,anomaly_score",
        "2024-01-01 00:00:00,1,0.0",
        "after",
    ]
