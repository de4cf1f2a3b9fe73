from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

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
    assert unknown.exit_code == 1
    assert "no runbook 'reboot' (runbooks: restart-bgp)" in unknown.output


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


def test_report_without_settings_says_where_settings_come_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTINGS_FILE_VARIABLE, raising=False)
    result = CliRunner().invoke(main, ["report"])
    assert result.exit_code == 2, result.output
    assert "--settings" in result.stderr
    assert f"${SETTINGS_FILE_VARIABLE}" in result.stderr
    assert "--agent-url" in result.stderr
    assert "router: Field required" in result.stderr
