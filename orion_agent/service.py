"""The agent: probes, checks, forecasts and reports on their own schedules, with the sources and clock injected."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from orion_agent import checks
from orion_agent.alerts import Alert, AlertBook, WebhookInbox
from orion_agent.anomalies import AnomalyWatch
from orion_agent.audit import AuditLog, iso
from orion_agent.checks import BgpState, Finding, Queries, Severity, bgp_view
from orion_agent.forecast import time_to_reach
from orion_agent.reports import write_report
from orion_agent.runbooks import CommandRunner, RestartBgp, RunbookEngine, Situation, StateStore
from orion_agent.settings import Settings
from orion_agent.sources import BirdScrape, Sample, Series, SourceError

log = logging.getLogger(__name__)
INPUTS = ("bird_exporter", "prometheus", "alertmanager")
# A schedule that has not run for this many of its intervals means the loop is stuck, not merely degraded.
STALL_INTERVALS = 5
DETECTOR_STATE_FILE = "detectors.json"


class PrometheusApi(Protocol):
    def query(self, expr: str) -> list[Sample]: ...

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]: ...


class BirdProbe(Protocol):
    def scrape(self) -> BirdScrape: ...


@dataclass
class InputHealth:
    ok: bool = False
    error: str | None = "not polled yet"
    since: float | None = None
    last_success: float | None = None


@dataclass(frozen=True)
class Forecast:
    forecast: str
    subject: str
    seconds: float | None


class Agent:
    """Everything the agent knows and does; the HTTP server and the CLI only call its public methods."""

    def __init__(
        self,
        settings: Settings,
        *,
        prometheus: PrometheusApi,
        bird: BirdProbe,
        post_alerts: Callable[[list[dict[str, Any]]], None],
        runner: CommandRunner,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self._prometheus = prometheus
        self._bird = bird
        self._clock = clock
        self._lock = threading.RLock()
        self._engine_lock = threading.Lock()
        self.started = clock()
        self.inputs = {name: InputHealth() for name in INPUTS}
        self.bgp = bgp_view(None)
        self.all_down_probes = 0
        self.findings: dict[str, list[Finding]] = {}
        self.forecasts: list[Forecast] = []
        self.last_run: dict[str, float] = {}
        self.anomalies = AnomalyWatch(settings.thresholds.anomaly_score, settings.state_dir / DETECTOR_STATE_FILE)
        self.anomalies.load(self.started)
        self.alerts = AlertBook(post_alerts, clock)
        self.inbox = WebhookInbox(clock)
        self.audit = AuditLog(settings.audit_log, clock)
        restart_bgp = RestartBgp(settings.restart_bgp_command, settings.remediation.confirm_probes)
        self.engine = RunbookEngine(
            [restart_bgp],
            guard=settings.remediation,
            runner=runner,
            audit=self.audit,
            escalate=self.alerts.escalate,
            store=StateStore(settings.state_dir / "runbooks.json"),
            clock=clock,
        )
        self._queries = Queries(settings.router)

    # Inputs

    def _input(self, name: str, error: str | None) -> None:
        health = self.inputs[name]
        now = self._clock()
        if (error is None) != health.ok or health.since is None:
            health.since = now
            if error is None:
                log.info("input %s recovered", name, extra={"fields": {"input": name}})
            else:
                log.warning("input %s degraded: %s", name, error, extra={"fields": {"input": name, "error": error}})
        health.ok = error is None
        health.error = error
        if error is None:
            health.last_success = now

    # The schedules

    def probe(self) -> None:
        """One direct scrape of the bird exporter, and the runbooks' decision on it."""
        try:
            scrape: BirdScrape | None = self._bird.scrape()
            error = None
        except SourceError as problem:
            scrape, error = None, problem.problem
        view = bgp_view(scrape, error)
        with self._lock:
            self._input("bird_exporter", error)
            self.bgp = view
            self.all_down_probes = self.all_down_probes + 1 if view.no_bgp else 0
            self.findings["bgp"] = checks.check_bgp(view)
            self.last_run["probe"] = self._clock()
            situation = Situation(view, self.all_down_probes)
        with self._engine_lock:
            self.engine.evaluate(situation)

    def check(self) -> None:
        """The Prometheus checks, the anomaly scores, and the agent's own alerts."""
        fetch = _Fetcher(self._prometheus)
        queries = self._queries
        router, limits = self.settings.router, self.settings.thresholds
        cpu = fetch.query(queries.cpu_percent)
        memory = fetch.query(queries.memory_percent)
        found: dict[str, list[Finding]] = {
            "cpu": checks.check_usage("cpu", cpu, limits.cpu_percent, ["host"]),
            "memory": checks.check_usage("memory", memory, limits.memory_percent, ["host"]),
            "disk": checks.check_usage(
                "disk", fetch.query(queries.disk_percent), limits.disk_percent, ["host", "mountpoint"]
            ),
            "targets": checks.check_targets(fetch.query(queries.targets_up)),
        }
        wan_receive = fetch.query(queries.link_bits("receive", [router.wan_device]))
        wan_transmit = fetch.query(queries.link_bits("transmit", [router.wan_device]))
        found["bandwidth_wan"] = checks.check_link(
            "wan", wan_receive, wan_transmit, router.wan_capacity_bits, limits.bandwidth_fraction
        )
        if router.lan_devices and router.lan_capacity_bits is not None:
            found["bandwidth_lan"] = checks.check_link(
                "lan",
                fetch.query(queries.link_bits("receive", router.lan_devices)),
                fetch.query(queries.link_bits("transmit", router.lan_devices)),
                router.lan_capacity_bits,
                limits.bandwidth_fraction,
            )
        found["routing_loop"] = [
            checks.check_routing_loop(
                fetch.query(queries.time_exceeded_rate("2m")), fetch.query(queries.time_exceeded_rate("1h")), limits
            )
        ]
        now = self._clock()
        with self._lock:
            bgp_prefixes = self.bgp.imported_prefixes if self.bgp.state == BgpState.SOME_UP else None
        series = {
            "wan_receive_bits": _total(wan_receive),
            "wan_transmit_bits": _total(wan_transmit),
            "router_cpu_percent": _of_host(cpu, router.host),
            "router_memory_percent": _of_host(memory, router.host),
            "bgp_imported_prefixes": bgp_prefixes,
        }
        found["anomaly"] = [self.anomalies.observe(now, name, value) for name, value in series.items()]
        with self._lock:
            self._input("prometheus", fetch.error)
            self.findings.update(found)
            self.last_run["check"] = now
        self._send_alerts()

    def forecast(self) -> None:
        """Time to disk full per filesystem and to WAN saturation per direction, from robust trends."""
        fetch = _Fetcher(self._prometheus)
        limits, router = self.settings.thresholds, self.settings.router
        now = self._clock()
        window = limits.forecast_window_hours * 3600
        step = max(window / 240, self.settings.check_interval_seconds)
        forecasts = []
        findings = []
        for series in fetch.query_range(self._queries.disk_available, now - window, now, step) or []:
            subject = f"{series.labels.get('host', '?')}:{series.labels.get('mountpoint', '?')}"
            seconds = time_to_reach(series.points, 0.0, now, rising=False)
            forecasts.append(Forecast("disk_full", subject, seconds))
            findings.append(_forecast_finding("disk_full", subject, seconds, limits.disk_full_horizon_hours))
        for direction in ("receive", "transmit"):
            expr = self._queries.link_bits(direction, [router.wan_device])
            for series in fetch.query_range(expr, now - window, now, step) or []:
                subject = f"wan {direction}"
                seconds = time_to_reach(series.points, float(router.wan_capacity_bits), now, rising=True)
                forecasts.append(Forecast("wan_saturation", subject, seconds))
                horizon = limits.wan_saturation_horizon_hours
                findings.append(_forecast_finding("wan_saturation", subject, seconds, horizon))
        with self._lock:
            self._input("prometheus", fetch.error)
            if fetch.error is None:
                self.forecasts = forecasts
                self.findings["forecast"] = findings
            self.last_run["forecast"] = now

    def save_detector_state(self) -> None:
        self.anomalies.save(self._clock())
        with self._lock:
            self.last_run["detector_state"] = self._clock()

    def write_hourly_report(self) -> None:
        report = self.report()
        path = write_report(report, self.settings.state_dir / "reports", self._clock())
        with self._lock:
            self.last_run["report"] = self._clock()
        log.info("status report written", extra={"fields": {"path": str(path), "status": report["status"]}})

    def _send_alerts(self) -> None:
        alerts = self._current_alerts()
        try:
            self.alerts.send(alerts)
            error = None
        except SourceError as problem:
            error = problem.problem
        with self._lock:
            self._input("alertmanager", error)

    def _current_alerts(self) -> list[Alert]:
        with self._lock:
            findings = [finding for group in self.findings.values() for finding in group]
            inputs = {name: health.error for name, health in self.inputs.items() if not health.ok}
        alerts = []
        for finding in findings:
            if finding.severity not in (Severity.WARNING, Severity.CRITICAL):
                continue
            # Prometheus already alerts on the rest; the agent adds only what it alone sees.
            if finding.check in ("routing_loop", "anomaly", "forecast"):
                name = {"routing_loop": "OrionAgentRoutingLoop", "anomaly": "OrionAgentAnomaly"}.get(
                    finding.check, "OrionAgentForecast"
                )
                alerts.append(Alert(name, finding.severity.value, finding.summary, {"subject": finding.subject}))
        for name, error in inputs.items():
            if name != "alertmanager":
                alerts.append(Alert("OrionAgentInputDegraded", "warning", f"{name}: {error}", {"input": name}))
        for name, state in self.engine.status().items():
            if state["frozen"]:
                summary = f"runbook {name} frozen: {state['frozen']}"
                alerts.append(Alert("OrionAgentRunbookFrozen", "critical", summary, {"runbook": name}))
        return alerts

    # What the server and the CLI ask

    def clear(self, runbook: str, by: str) -> bool:
        with self._engine_lock:
            return self.engine.clear(runbook, by)

    def health(self) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            intervals = {
                "probe": self.settings.probe_interval_seconds,
                "check": self.settings.check_interval_seconds,
            }
            stalled = [
                name
                for name, interval in intervals.items()
                if now - self.last_run.get(name, self.started) > STALL_INTERVALS * interval + 10
            ]
            degraded = [name for name, health in self.inputs.items() if not health.ok]
            frozen = [name for name, state in self.engine.status().items() if state["frozen"]]
            status = "stalled" if stalled else ("degraded" if degraded else "ok")
            return {
                "status": status,
                "degraded_inputs": degraded,
                "stalled": stalled,
                "frozen_runbooks": frozen,
                "inputs": self._inputs_document(),
                "bgp": self.bgp.state.value,
                "dry_run": self.settings.remediation.dry_run,
            }

    def _inputs_document(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "ok": health.ok,
                "error": health.error,
                "since": iso(health.since) if health.since is not None else None,
                "last_success": iso(health.last_success) if health.last_success is not None else None,
            }
            for name, health in self.inputs.items()
        }

    def report(self) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            findings = [finding for group in self.findings.values() for finding in group]
            order = [Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN, Severity.OK]
            findings.sort(key=lambda finding: (order.index(finding.severity), finding.check, finding.subject))
            recent = [entry for entry in self.audit.recent if entry["time"] >= iso(now - 3600)]
            received = [alert for alert in self.inbox.received if alert["received"] >= iso(now - 3600)]
            return {
                "generated_at": iso(now),
                "status": self.health()["status"],
                "summary": {level.value: sum(f.severity == level for f in findings) for level in Severity},
                "inputs": self._inputs_document(),
                "bgp": {
                    "state": self.bgp.state.value,
                    "sessions": dict(self.bgp.sessions),
                    "imported_prefixes": self.bgp.imported_prefixes,
                },
                "findings": [
                    {
                        "check": f.check,
                        "subject": f.subject,
                        "severity": f.severity.value,
                        "summary": f.summary,
                        "value": f.value,
                    }
                    for f in findings
                ],
                "forecasts": [
                    {"forecast": f.forecast, "subject": f.subject, "seconds": f.seconds} for f in self.forecasts
                ],
                "anomaly_scores": dict(self.anomalies.scores),
                "runbooks": self.engine.status(),
                "recent_audit": recent[-50:],
                "alerts_received": received[-50:],
            }

    # The loop

    def schedules(self) -> list[tuple[str, float, Callable[[], None]]]:
        settings = self.settings
        return [
            ("probe", settings.probe_interval_seconds, self.probe),
            ("check", settings.check_interval_seconds, self.check),
            ("forecast", settings.forecast_interval_seconds, self.forecast),
            ("report", settings.report_interval_seconds, self.write_hourly_report),
            ("detector_state", settings.detector_state_interval_seconds, self.save_detector_state),
        ]

    def run(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> None:
        """Runs every schedule when due until `stop` is set; a failing round is logged, never fatal."""
        wait = wait or stop.wait
        schedules = self.schedules()
        now = self._clock()
        # The report and the state wait a full interval: at start there is nothing new to report or save yet.
        due = {
            name: now + (interval if name in ("report", "detector_state") else 0.0) for name, interval, _ in schedules
        }
        while not stop.is_set():
            for name, interval, task in schedules:
                if self._clock() >= due[name]:
                    _run_guarded(name, task)
                    # Due times step from the schedule, not from when the round ended, so rounds do not drift.
                    due[name] = max(due[name] + interval, self._clock())
            wait(max(min(due.values()) - self._clock(), 0.0))
        # What was learnt since the last periodic save survives the stop (SIGTERM at shutdown or upgrade).
        _run_guarded("detector_state", self.save_detector_state)


def _run_guarded(name: str, task: Callable[[], None]) -> None:
    try:
        task()
    # A bug in one round must not end the agent; the next round may succeed.
    except Exception:
        log.exception("%s round failed", name, extra={"fields": {"schedule": name}})


class _Fetcher:
    """Runs queries until Prometheus fails once, then answers None: one unreachable round costs one timeout."""

    def __init__(self, prometheus: PrometheusApi) -> None:
        self._prometheus = prometheus
        self.error: str | None = None

    def query(self, expr: str) -> list[Sample] | None:
        if self.error is not None:
            return None
        try:
            return self._prometheus.query(expr)
        except SourceError as problem:
            self.error = problem.problem
            return None

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series] | None:
        if self.error is not None:
            return None
        try:
            return self._prometheus.query_range(expr, start, end, step)
        except SourceError as problem:
            self.error = problem.problem
            return None


def _total(samples: Sequence[Sample] | None) -> float | None:
    return sum(sample.value for sample in samples) if samples else None


def _of_host(samples: Sequence[Sample] | None, host: str) -> float | None:
    return next((sample.value for sample in samples or [] if sample.labels.get("host") == host), None)


def _forecast_finding(kind: str, subject: str, seconds: float | None, horizon_hours: float) -> Finding:
    if seconds is None:
        return Finding("forecast", f"{kind} {subject}", Severity.OK, f"{kind} of {subject}: no trend towards it")
    severity = Severity.WARNING if seconds <= horizon_hours * 3600 else Severity.OK
    return Finding("forecast", f"{kind} {subject}", severity, f"{kind} of {subject} in {seconds / 3600:.1f} h", seconds)
