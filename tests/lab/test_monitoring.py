"""Monitoring in the twin: Prometheus and Alertmanager on the monitoring VM's address with the rendered files, scraping
the router's, the Proxmox host's and their own exporters; the rendered rules and dashboards evaluated against live
data; a dead peer raises the BGP alert all the way to the agent's webhook, and its return resolves it."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import NOT_RUN, Twin
from orion_infra.model import ports
from orion_infra.render import REPOSITORY
from orion_infra.render.monitor import queries, render_monitor
from tests.lab.test_lan import tcp_probe


@pytest.fixture(scope="module")
def scraped(twin: Twin) -> dict[str, str]:
    """Target health once every target has been scraped at least twice (rates need two samples)."""

    def settled() -> bool:
        health = twin.targets()
        return bool(health) and "unknown" not in health.values()

    netns.wait_until(settled, timeout=30, failure="not every target scraped")
    time.sleep(2 * twin.stack.monitoring.scrape_interval_seconds + 1)
    return twin.targets()


def instant(twin: Twin, expr: str) -> list[dict[str, Any]]:
    data = twin.prometheus(f"query?query={urllib.parse.quote(expr)}")
    assert isinstance(data, dict)
    result: list[dict[str, Any]] = data["result"]
    return result


def test_every_target_is_up_but_those_the_lab_cannot_run(scraped: dict[str, str]) -> None:
    assert len(scraped) == 9
    down = {target.split("/")[0] for target, health in scraped.items() if health != "up"}
    assert down == set(NOT_RUN)


def firing_alerts(twin: Twin) -> set[tuple[str, str]]:
    data = twin.prometheus("alerts")
    assert isinstance(data, dict)
    return {
        (alert["labels"]["alertname"], alert["labels"].get("job", ""))
        for alert in data["alerts"]
        if alert["state"] == "firing"
    }


def test_in_a_quiet_twin_only_the_targets_the_lab_cannot_run_are_alerted(twin: Twin, scraped: dict[str, str]) -> None:
    """What README's lab section says an operator sees: TargetDown for those exporters, and nothing else."""
    expected = {("TargetDown", job) for job in NOT_RUN}
    netns.wait_until(lambda: firing_alerts(twin) == expected, timeout=15, failure=f"not only {sorted(expected)} firing")


def test_the_readme_says_which_targets_the_lab_cannot_run_and_why() -> None:
    lab_section = (REPOSITORY / "README.md").read_text().split("## The lab")[1].split("\n## ")[0]
    for job, reason in NOT_RUN.items():
        assert f"`{job}`: {reason}" in " ".join(lab_section.split()), job


def test_every_rule_evaluates_without_error(twin: Twin, scraped: dict[str, str]) -> None:
    data = twin.prometheus("rules")
    assert isinstance(data, dict)
    rules = [rule for group in data["groups"] for rule in group["rules"]]
    assert len(rules) == 12  # 5 recording, 7 alerting: all the rendered file holds
    broken = {rule["name"]: rule.get("lastError") for rule in rules if rule["health"] != "ok"}
    assert broken == {}


def dashboard_queries(document: Any) -> Iterator[str]:
    if isinstance(document, dict):
        if isinstance(document.get("expr"), str):
            yield document["expr"]
        for value in document.values():
            yield from dashboard_queries(value)
    elif isinstance(document, list):
        for value in document:
            yield from dashboard_queries(value)


def test_every_dashboard_query_evaluates(twin: Twin, scraped: dict[str, str]) -> None:
    files = render_monitor(twin.stack, twin.options, twin.public_keys)
    exprs = {
        expr
        for name, text in files.items()
        if name.startswith("grafana/dashboards/")
        for expr in dashboard_queries(json.loads(text))
    }
    assert len(exprs) > 15
    ordered = sorted(exprs)
    answers = twin.prometheus_all([f"query?query={urllib.parse.quote(expr)}" for expr in ordered])
    results = [data["result"] for data in answers if isinstance(data, dict)]
    empty = [expr for expr, result in zip(ordered, results, strict=True) if not result]
    # Absent series are not errors (no traffic dropped yet, no conntrack module), but the core ones must be there.
    assert 'sum(bird_protocol_up{proto="BGP"})' not in empty
    assert len(empty) < len(exprs) / 2, empty


def test_the_seeds_three_queries_return_data(twin: Twin, scraped: dict[str, str]) -> None:
    promql = queries(twin.stack, twin.options)
    wan = instant(twin, promql.wan_receive_mbps)
    assert [series["metric"]["device"] for series in wan] == [twin.options.interface("wan")]
    cpu = {series["metric"]["host"]: float(series["value"][1]) for series in instant(twin, promql.cpu_usage_percent)}
    assert set(cpu) == {"orion-router", "orion-monitor", "orion-pve"}
    assert all(0 <= value <= 100 for value in cpu.values())
    memory = [float(series["value"][1]) for series in instant(twin, promql.memory_usage_percent)]
    assert len(memory) == 3
    assert all(0 < value < 100 for value in memory)


def firing(twin: Twin, alert: str, session: str) -> str | None:
    """The status ('firing'/'resolved') of the last notification about `alert` for `session` the agent received."""
    status = None
    for item in twin.agent("report?format=json")["alerts_received"]:
        if item["alertname"] == alert and item["labels"].get("name") == session:
            status = item["status"]
    return status


@pytest.mark.breaks_twin
def test_a_dead_peer_is_alerted_to_the_agent_and_resolved_when_it_returns(twin: Twin, scraped: dict[str, str]) -> None:
    peer = twin.stack.bgp.peers[-1]
    session = twin.protocol(peer)
    assert firing(twin, "BgpSessionDown", session) is None
    twin.stop_peer(peer)
    try:
        fired = netns.wait_until(
            lambda: firing(twin, "BgpSessionDown", session) == "firing",
            timeout=60,
            failure="BgpSessionDown not delivered to the agent",
        )
        print(f"BgpSessionDown delivered {fired:.1f} s after {peer.name} died")
    finally:
        twin.start_peer(peer)
    twin.wait_for_sessions(timeout=60)
    resolved = netns.wait_until(
        lambda: firing(twin, "BgpSessionDown", session) == "resolved",
        timeout=60,
        failure="its resolution not delivered to the agent",
    )
    print(f"resolved {resolved:.1f} s after the session came back")


def test_the_lan_reaches_none_of_the_monitoring_vms_control_planes(twin: Twin, lan_client: str) -> None:
    """Prometheus, Alertmanager (silences, injected alerts), the agent's webhook and the node exporter listen on the
    VM's loopback: a LAN client reaches the VM (refused, not dropped) and none of them; on the VM they answer."""
    for job, port in ports.MONITOR_SERVICES.items():
        assert (job, tcp_probe(lan_client, str(twin.monitor_address), port)) == (job, "refused")
        assert (job, tcp_probe(twin.monitor_ns, ports.MONITOR_LOCAL_ADDRESS, port)) == (job, "open")
