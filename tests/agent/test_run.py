"""`orion-agent run` as the unit starts it: a real process on loopback, stopped by SIGTERM."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from orion_agent.logs import JsonFormatter
from tests.agent.conftest import http_server, unused_port
from tests.agent.test_sources import EXPORTER_PAGE


def wait_for_health(url: str, deadline: float) -> dict[str, object]:
    while True:
        try:
            answer: dict[str, object] = requests.get(url, timeout=1).json()
            if answer["inputs"]["bird_exporter"]["ok"]:  # type: ignore[index]
                return answer
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "the agent did not come up"
        time.sleep(0.05)


@pytest.mark.programs
def test_the_agent_runs_reports_degraded_inputs_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = unused_port()
    with http_server(lambda path, body: (200, EXPORTER_PAGE.encode())) as exporter:
        settings = {
            "prometheus_url": f"http://127.0.0.1:{unused_port()}",
            "alertmanager_url": f"http://127.0.0.1:{unused_port()}",
            "listen_address": "127.0.0.1",
            "listen_port": port,
            "probe_interval_seconds": 0.2,
            "probe_timeout_seconds": 0.2,
            "state_dir": str(tmp_path / "state"),
            "audit_log": str(tmp_path / "state" / "audit.jsonl"),
            "log_file": str(tmp_path / "log" / "agent.log"),
            "router": {
                "host": "orion-router",
                "address": "127.0.0.1",
                "bird_exporter_url": exporter + "/metrics",
                "wan_device": "wan",
                "wan_capacity_bits": 1000000000,
            },
        }
        (tmp_path / "agent.json").write_text(json.dumps(settings))
        process = subprocess.Popen(
            [sys.executable, "-m", "orion_agent", "run", "--settings", str(tmp_path / "agent.json")],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            health = wait_for_health(f"http://127.0.0.1:{port}/health", time.monotonic() + 20)
            assert health["status"] == "degraded"
            assert health["degraded_inputs"] == ["prometheus", "alertmanager"]
            assert health["bgp"] == "some_up"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    logged = [json.loads(line) for line in (tmp_path / "log" / "agent.log").read_text().splitlines()]
    degraded = next(entry for entry in logged if entry.get("input") == "prometheus")
    assert degraded["level"] == "warning"
    assert degraded["error"] == "unreachable (ConnectionError)"
    assert json.loads(stderr.splitlines()[0])["logger"].startswith("orion_agent")


def test_log_lines_are_json_with_the_calls_fields() -> None:
    record = logging.LogRecord(
        "orion_agent.x", logging.WARNING, __file__, 1, "input %s degraded", ("prometheus",), None
    )
    record.fields = {"input": "prometheus", "message": "cannot overwrite the message"}
    line = json.loads(JsonFormatter().format(record))
    assert line == {
        "time": line["time"],
        "level": "warning",
        "logger": "orion_agent.x",
        "message": "input prometheus degraded",
        "input": "prometheus",
    }
