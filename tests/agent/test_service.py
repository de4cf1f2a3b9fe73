from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orion_agent.alerts import AlertmanagerClient
from orion_agent.checks import Severity
from orion_agent.service import Agent
from orion_agent.sources import BirdExporterProbe, BirdScrape, PrometheusClient, Sample, Series, SourceError
from tests.agent.conftest import (
    ALL_DOWN,
    ONE_UP,
    FakeBird,
    RecordingRunner,
    Rig,
    http_server,
    make_settings,
    unused_port,
)

RigFactory = Callable[..., Rig]


def probe(rig: Rig, times: int) -> None:
    for _ in range(times):
        rig.clock.advance(1)
        rig.agent.probe()


def test_a_positively_observed_all_down_restarts_bgp_once(make_rig: RigFactory) -> None:
    rig = make_rig(FakeBird(ALL_DOWN))
    probe(rig, 2)
    assert rig.runner.calls == []
    probe(rig, 5)
    assert rig.runner.calls == [rig.settings.restart_bgp_command]
    assert rig.agent.health()["status"] == "degraded"  # Prometheus not asked yet


def test_an_exporter_timeout_between_down_probes_is_missing_data_not_confirmation(make_rig: RigFactory) -> None:
    timeout = SourceError("bird_exporter", "no answer within 0.8 s")
    rig = make_rig(FakeBird(ALL_DOWN, ALL_DOWN, timeout, ALL_DOWN, ALL_DOWN, timeout, ALL_DOWN, ALL_DOWN))
    probe(rig, 6)
    health = rig.agent.health()
    assert "bird_exporter" in health["degraded_inputs"]
    assert health["inputs"]["bird_exporter"]["error"] == "no answer within 0.8 s"
    assert health["bgp"] == "unknown"
    probe(rig, 2)
    assert rig.agent.all_down_probes == 2
    assert rig.runner.calls == []


def test_exporter_garbage_never_triggers_remediation(make_rig: RigFactory) -> None:
    garbage = SourceError("bird_exporter", "no bird metrics in the answer")
    rig = make_rig(FakeBird(garbage))
    probe(rig, 10)
    assert rig.runner.calls == []
    assert rig.agent.findings["bgp"][0].severity == Severity.UNKNOWN


def test_a_bird_that_stopped_answering_its_exporter_is_restarted_once_confirmed(make_rig: RigFactory) -> None:
    stopped = BirdScrape(bird_reachable=False, sessions={}, imported_prefixes={})
    rig = make_rig(FakeBird(stopped))
    probe(rig, rig.settings.remediation.confirm_probes - 1)
    assert rig.runner.calls == []
    probe(rig, 1)
    assert rig.runner.calls == [rig.settings.restart_bgp_command]
    assert rig.agent.findings["bgp"][0].severity == Severity.CRITICAL


def test_prometheus_down_degrades_the_view_with_one_timeout_per_round(make_rig: RigFactory) -> None:
    rig = make_rig(FakeBird(ONE_UP))
    rig.prometheus.error = SourceError("prometheus", "unreachable (ConnectionError)")
    rig.agent.probe()
    rig.agent.check()
    assert len(rig.prometheus.queries) == 1
    health = rig.agent.health()
    assert (health["status"], health["degraded_inputs"]) == ("degraded", ["prometheus"])
    assert {f.severity for f in rig.agent.findings["cpu"] + rig.agent.findings["targets"]} == {Severity.UNKNOWN}
    alert = rig.posted[-1][0]
    assert alert["labels"] == {
        "alertname": "OrionAgentInputDegraded",
        "severity": "warning",
        "source": "orion-agent",
        "input": "prometheus",
    }
    assert rig.runner.calls == []


def healthy_answers() -> dict[str, list[Sample]]:
    return {
        "node_cpu_seconds_total": [Sample({"host": "orion-router"}, 12.0)],
        "node_memory_MemAvailable_bytes": [Sample({"host": "orion-router"}, 40.0)],
        "node_filesystem_avail_bytes": [Sample({"host": "orion-router", "mountpoint": "/"}, 30.0)],
        "TimeExcds": [Sample({}, 0.5)],
        "node_network_receive_bytes_total": [Sample({"device": "wan"}, 200e6)],
        "node_network_transmit_bytes_total": [Sample({"device": "wan"}, 50e6)],
        "up": [Sample({"job": "node", "host": "orion-router"}, 1.0)],
    }


def test_a_healthy_round_is_ok_everywhere_and_sends_no_alert(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.prometheus.answers = healthy_answers()
    rig.agent.probe()
    rig.agent.check()
    assert rig.agent.health()["status"] == "ok"
    problems = [f for group in rig.agent.findings.values() for f in group if f.severity != Severity.OK]
    # The anomaly detectors need a warm-up; until then their verdicts are "as usual" (ok), and BGP's backup is down.
    assert [(f.check, f.subject) for f in problems] == [("bgp_session", "backup")]
    assert rig.posted == []
    assert set(rig.agent.anomalies.scores) == {
        "wan_receive_bits",
        "wan_transmit_bits",
        "router_cpu_percent",
        "router_memory_percent",
        "bgp_imported_prefixes",
    }


def test_a_routing_loop_alert_fires_and_resolves(make_rig: RigFactory) -> None:
    rig = make_rig()
    # First: the fake answers with the first key found in the query.
    rig.prometheus.answers = {'host="orion-router"}[2m]': [Sample({}, 800.0)], **healthy_answers()}
    rig.agent.probe()
    rig.agent.check()
    (fired,) = rig.posted[-1]
    assert fired["labels"]["alertname"] == "OrionAgentRoutingLoop"
    assert "endsAt" not in fired
    rig.prometheus.answers = healthy_answers()
    rig.clock.advance(15)
    rig.agent.check()
    (resolved,) = rig.posted[-1]
    assert resolved["labels"]["alertname"] == "OrionAgentRoutingLoop"
    assert resolved["endsAt"] == "2023-11-14T22:13:35.000+00:00"


def test_forecasts_warn_within_their_horizon(make_rig: RigFactory) -> None:
    rig = make_rig()
    now = rig.clock.now
    # 1 GB left, losing 100 kB/s: full in about 3 hours.
    filling = [(now - 3600 + i * 60, 1e9 + (60 - i) * 60 * 1e5) for i in range(61)]
    rig.prometheus.ranges = {
        "node_filesystem_avail_bytes": [Series({"host": "orion-router", "mountpoint": "/var"}, filling)]
    }
    rig.agent.forecast()
    (forecast,) = rig.agent.forecasts
    assert (forecast.forecast, forecast.subject) == ("disk_full", "orion-router:/var")
    assert forecast.seconds is not None
    assert abs(forecast.seconds - 10_000) < 100
    assert rig.agent.findings["forecast"][0].severity == Severity.WARNING


def test_the_loop_runs_each_schedule_on_time_and_survives_a_failing_round(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.prometheus.answers = healthy_answers()
    stop = threading.Event()
    start = rig.clock.now
    calls = {"check": 0}
    real_check = rig.agent.check

    def failing_check() -> None:
        calls["check"] += 1
        if calls["check"] == 2:
            raise RuntimeError("a bug in one round")
        real_check()

    rig.agent.check = failing_check  # type: ignore[method-assign]

    def wait(seconds: float) -> bool:
        rig.clock.advance(seconds)
        if rig.clock.now - start >= 120:
            stop.set()
        return stop.is_set()

    rig.agent.run(stop, wait)
    assert 119 <= rig.bird.scrapes <= 122
    assert calls["check"] == 8  # at 0, 15, ..., 105 s
    assert rig.agent.health()["status"] == "ok"


def test_the_report_says_what_the_agent_knows(make_rig: RigFactory, tmp_path: Path) -> None:
    rig = make_rig(FakeBird(ALL_DOWN))
    probe(rig, 5)
    rig.agent.check()
    report = rig.agent.report()
    assert report["bgp"] == {
        "state": "all_down",
        "sessions": {"transit": False, "backup": False},
        "imported_prefixes": 20.0,
    }
    assert report["summary"]["critical"] == 1
    assert [event["event"] for event in report["recent_audit"]] == ["acting", "command_finished", "verifying"]
    rig.agent.write_hourly_report()
    written = json.loads((rig.settings.state_dir / "reports" / "latest.json").read_text())
    assert written["status"] == report["status"]
    markdown = (rig.settings.state_dir / "reports" / "latest.md").read_text()
    assert "**critical** bgp / router: all 2 BGP sessions are down" in markdown
    assert "- restart-bgp: armed, live, 1 action(s) in the last hour" in markdown


def test_real_clients_against_unreachable_and_garbage_inputs_degrade_but_do_not_crash(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    posted: list[Any] = []
    with http_server(lambda path, body: (200, b"{garbage")) as garbage:
        agent = Agent(
            settings,
            prometheus=PrometheusClient(garbage, 0.5),
            bird=BirdExporterProbe(f"http://127.0.0.1:{unused_port()}/metrics", 0.5),
            post_alerts=AlertmanagerClient(f"http://127.0.0.1:{unused_port()}", 0.5).post,
            runner=RecordingRunner(calls=posted),
            clock=lambda: 1_700_000_000.0,
        )
        for _ in range(10):
            agent.probe()
        agent.check()
        agent.forecast()
    health = agent.health()
    assert health["degraded_inputs"] == ["bird_exporter", "prometheus", "alertmanager"]
    assert health["inputs"]["prometheus"]["error"] == "answered something that is not JSON"
    assert health["inputs"]["bird_exporter"]["error"] == "unreachable (ConnectionError)"
    assert posted == []
