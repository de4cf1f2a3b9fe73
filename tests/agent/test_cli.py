from __future__ import annotations

import csv
import json
import math
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner, Result

from orion_agent.cli import main
from orion_agent.runbooks import RunbookState, StateStore
from orion_agent.server import AgentServer
from orion_agent.settings import SETTINGS_FILE_VARIABLE
from tests.agent.conftest import Rig, unused_port


def write_series(path: Path, values: list[float]) -> None:
    lines = ["timestamp,value"] + [
        f"2024-01-01 {i // 12:02d}:{i % 12 * 5:02d}:00,{value}" for i, value in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_score_appends_an_anomaly_score_to_each_row(tmp_path: Path) -> None:
    values = [50.0 + math.sin(i / 5) for i in range(240)] + [500.0] * 5
    write_series(tmp_path / "in.csv", values)
    result = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "out.csv").read_text().splitlines()))
    assert len(rows) == 245
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    scores = [float(row["anomaly_score"]) for row in rows]
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert max(scores[240:]) > max(scores[200:240])


def test_score_refuses_a_malformed_file_and_leaves_no_output(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("timestamp,value\n2024-01-01 00:00:00,abc\n")
    result = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), str(tmp_path / "out.csv")])
    assert result.exit_code == 1
    assert "line 2: expected a number, found 'abc'" in result.output
    assert not (tmp_path / "out.csv").exists()


def settings_file(tmp_path: Path, port: int) -> Path:
    document = {
        "listen_port": port,
        "state_dir": str(tmp_path / "state"),
        "audit_log": str(tmp_path / "state" / "audit.jsonl"),
        "router": {
            "host": "orion-router",
            "address": "192.0.2.1",
            "bird_exporter_url": "http://192.0.2.1:9324/metrics",
            "wan_device": "wan",
            "wan_capacity_bits": 1000000000,
        },
    }
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(document))
    return path


def test_clear_edits_the_state_file_when_the_agent_is_not_running(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state" / "runbooks.json")
    store.save({"restart-bgp": RunbookState(frozen="not verified within 180 s of acting", frozen_at=1.0)})
    path = settings_file(tmp_path, unused_port())
    result = CliRunner().invoke(main, ["clear", "restart-bgp", "--settings", str(path), "--by", "alice"])
    assert result.exit_code == 0, result.output
    assert "restart-bgp: cleared (the agent is not running; state file edited)" in result.output
    loaded = store.load()
    assert loaded is not None
    assert loaded["restart-bgp"].frozen is None
    audit = [json.loads(line) for line in (tmp_path / "state" / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["event"] == "cleared"
    assert audit[-1]["by"] == "alice"
    unknown = CliRunner().invoke(main, ["clear", "reboot", "--settings", str(path)])
    assert unknown.exit_code == 2  # a usage error, found before the agent is asked
    assert "no runbook 'reboot' (runbooks: restart-bgp)" in unknown.output


@pytest.mark.parametrize(
    "arguments",
    [["report", "--agent-url", "nonsense"], ["clear", "restart-bgp", "--agent-url", "ftp://x"], ["clear", "nope"]],
)
def test_a_bad_agent_url_or_runbook_is_a_usage_error_before_anything_is_sent(arguments: list[str]) -> None:
    with mock.patch("requests.get") as get, mock.patch("requests.post") as post:
        result = CliRunner().invoke(main, [*arguments, "--settings", "/nonexistent.json"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for" in result.output
    assert get.call_count == post.call_count == 0


def test_report_and_clear_talk_to_the_running_agent(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    server = AgentServer(rig.agent, "127.0.0.1", 0)
    server.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        rig.agent.probe()
        report = CliRunner().invoke(main, ["report", "--agent-url", url, "--format", "json"])
        assert report.exit_code == 0, report.output
        assert json.loads(report.output)["bgp"]["state"] == "some_up"
        cleared = CliRunner().invoke(main, ["clear", "restart-bgp", "--agent-url", url, "--by", "bob"])
        assert (cleared.exit_code, cleared.output) == (0, "restart-bgp: was not frozen\n")
    finally:
        server.stop()


def test_report_without_a_running_agent_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", "--settings", str(settings_file(tmp_path, unused_port()))])
    assert result.exit_code == 1
    assert "did not answer (ConnectionError)" in result.output


def test_run_refuses_invalid_settings_naming_the_field(tmp_path: Path) -> None:
    path = settings_file(tmp_path, 70000)
    result = CliRunner().invoke(main, ["run", "--settings", str(path)])
    assert result.exit_code == 1
    assert "listen_port: Input should be less than or equal to 65535 (got 70000)" in result.output


GOOD = "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n"


def score(source: Path, destination: Path) -> Result:
    return CliRunner().invoke(main, ["score", str(source), str(destination)])


@pytest.mark.parametrize("link", ["same path", "symlink", "hardlink"])
def test_score_refuses_to_write_over_its_input(tmp_path: Path, link: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(GOOD)
    destination = {"same path": source, "symlink": tmp_path / "out.csv", "hardlink": tmp_path / "out.csv"}[link]
    if link == "symlink":
        destination.symlink_to(source)
    elif link == "hardlink":
        destination.hardlink_to(source)
    result = score(source, destination)
    assert result.exit_code == 2, result.output
    assert f"{destination} is the same file as {source}" in result.stderr
    assert source.read_text() == GOOD


def test_a_failing_rerun_leaves_the_earlier_output_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(GOOD)
    destination = tmp_path / "out.csv"
    assert score(tmp_path / "in.csv", destination).exit_code == 0
    destination.chmod(0o640)
    before = destination.read_bytes()
    (tmp_path / "bad.csv").write_text(GOOD + "2024-01-01 00:10:00,abc\n")
    result = score(tmp_path / "bad.csv", destination)
    assert result.exit_code == 1
    assert f"{tmp_path / 'bad.csv'}, line 4: expected a number, found 'abc'" in result.stderr
    assert destination.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.csv", "in.csv", "out.csv"]
    rerun = score(tmp_path / "in.csv", destination)
    assert rerun.exit_code == 0, rerun.output
    assert stat.S_IMODE(destination.stat().st_mode) == 0o640


def test_score_writes_through_a_symlinked_destination(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(GOOD)
    (tmp_path / "real.csv").write_text("old\n")
    (tmp_path / "out.csv").symlink_to(tmp_path / "real.csv")
    assert score(tmp_path / "in.csv", tmp_path / "out.csv").exit_code == 0
    assert (tmp_path / "out.csv").is_symlink()
    assert (tmp_path / "real.csv").read_text().startswith("timestamp,value,anomaly_score\n")


def test_score_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(GOOD)
    result = score(tmp_path / "in.csv", tmp_path / "missing" / "out.csv")
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"the folder {tmp_path / 'missing'} does not exist" in result.stderr
    assert not (tmp_path / "missing").exists()


def test_score_reports_what_it_noticed_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(
        b"\xef\xbb\xbftimestamp,value\r\n2024-01-01 00:05:00,1\r\n2024-01-01 00:00:00,2\r\n"
    )
    result = score(tmp_path / "in.csv", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"scored": str(tmp_path / "out.csv"), "rows": 2}
    assert f"{tmp_path / 'in.csv'}: a byte-order mark removed" in result.stderr
    assert "1 timestamp went back (first at line 3: 2024-01-01 00:00:00 after 2024-01-01 00:05:00)" in result.stderr
    assert (tmp_path / "out.csv").read_text().splitlines()[1:3] == [
        "2024-01-01 00:05:00,1,0.0",
        "2024-01-01 00:00:00,2,0.0",
    ]


def test_report_without_settings_says_where_settings_come_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTINGS_FILE_VARIABLE, raising=False)
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 2, result.output
    assert "--settings" in result.stderr
    assert f"${SETTINGS_FILE_VARIABLE}" in result.stderr
    assert "--agent-url" in result.stderr
    assert "router: Field required" in result.stderr


def test_score_names_the_destination_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(GOOD)
    result = score(tmp_path / "in.csv", Path("/proc/out.csv"))
    assert result.exit_code == 1
    assert result.stderr == "Error: cannot write /proc/out.csv: No such file or directory\n"


@pytest.mark.programs
def test_score_to_stdout_keeps_stdout_to_the_scored_rows(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(GOOD)
    finished = subprocess.run(
        [sys.executable, "-m", "orion_agent", "score", str(tmp_path / "in.csv"), "/dev/stdout"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == [
        "timestamp,value,anomaly_score",
        "2024-01-01 00:00:00,1,0.0",
        "2024-01-01 00:05:00,2,0.0",
    ]
    assert json.loads(finished.stderr) == {"scored": "/dev/stdout", "rows": 2}


@pytest.mark.programs
@pytest.mark.realtime
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_a_score_stopped_midway_leaves_no_temporary_file_and_the_earlier_output(
    tmp_path: Path, stop: signal.Signals
) -> None:
    rows = "".join(f"2024-01-{1 + i // 288:02d} {i % 288 // 12:02d}:{i % 12 * 5:02d}:00,{i % 7}\n" for i in range(8000))
    (tmp_path / "in.csv").write_text("timestamp,value\n" + rows * 25)
    destination = tmp_path / "out.csv"
    destination.write_text("an earlier output\n")
    with subprocess.Popen(
        [sys.executable, "-m", "orion_agent", "score", str(tmp_path / "in.csv"), str(destination)],
        stderr=subprocess.DEVNULL,
    ) as scoring:
        deadline = time.monotonic() + 30
        while not any(path.name.endswith(".tmp") for path in tmp_path.iterdir()):
            assert scoring.poll() is None, "finished before it could be stopped"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        scoring.send_signal(stop)
        assert scoring.wait(timeout=30) != 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv"]
    assert destination.read_text() == "an earlier output\n"
