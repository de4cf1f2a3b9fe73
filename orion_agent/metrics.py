"""The agent's own metrics, read from its state when Prometheus scrapes (nothing to keep in step by hand)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from orion_agent.checks import Severity
from orion_agent.service import Agent


class AgentCollector(Collector):
    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    def collect(self) -> Iterator[Metric]:
        agent = self._agent
        health = agent.health()
        report = agent.report()
        inputs = GaugeMetricFamily(
            "orion_agent_input_up", "Whether an input answered usefully last time", labels=["input"]
        )
        for name, value in health["inputs"].items():
            inputs.add_metric([name], 1.0 if value["ok"] else 0.0)
        yield inputs
        findings = GaugeMetricFamily(
            "orion_agent_findings", "Findings by check and severity", labels=["check", "severity"]
        )
        counts: dict[tuple[str, str], int] = {}
        for finding in report["findings"]:
            key = (finding["check"], finding["severity"])
            counts[key] = counts.get(key, 0) + 1
        for (check, severity), count in sorted(counts.items()):
            findings.add_metric([check, severity], count)
        yield findings
        yield GaugeMetricFamily(
            "orion_agent_bgp_sessions_up", "BGP sessions up at the last probe", value=agent.bgp.sessions_up
        )
        yield GaugeMetricFamily(
            "orion_agent_bgp_all_down_probes",
            "Consecutive probes that saw every BGP session down",
            value=agent.all_down_probes,
        )
        scores = GaugeMetricFamily("orion_agent_anomaly_score", "Latest anomaly score per series", labels=["series"])
        for series, score in sorted(report["anomaly_scores"].items()):
            scores.add_metric([series], score)
        yield scores
        forecasts = GaugeMetricFamily(
            "orion_agent_forecast_seconds", "Seconds until a limit is reached", labels=["forecast", "subject"]
        )
        for forecast in report["forecasts"]:
            if forecast["seconds"] is not None:
                forecasts.add_metric([forecast["forecast"], forecast["subject"]], forecast["seconds"])
        yield forecasts
        frozen = GaugeMetricFamily(
            "orion_agent_runbook_frozen", "Whether a runbook waits for a human", labels=["runbook"]
        )
        for name, state in report["runbooks"].items():
            frozen.add_metric([name], 1.0 if state["frozen"] else 0.0)
        yield frozen
        events = CounterMetricFamily(
            "orion_agent_runbook_events", "Runbook decisions and actions since start", labels=["runbook", "event"]
        )
        for (runbook, event), count in sorted(agent.engine.events.items()):
            events.add_metric([runbook, event], count)
        yield events
        yield CounterMetricFamily(
            "orion_agent_webhook_alerts", "Alerts received from Alertmanager since start", value=agent.inbox.total
        )
        yield GaugeMetricFamily(
            "orion_agent_degraded",
            "1 when an input is degraded or a schedule stalled",
            value=float(health["status"] != "ok"),
        )
        yield GaugeMetricFamily(
            "orion_agent_critical_findings",
            "Findings at critical severity",
            value=report["summary"][Severity.CRITICAL.value],
        )


def agent_registry(agent: Agent) -> CollectorRegistry:
    """A registry of its own, so several agents (tests) never share metrics."""
    registry = CollectorRegistry()
    registry.register(AgentCollector(agent))
    return registry
