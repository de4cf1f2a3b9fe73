"""The checks: pure functions from what the sources answered to findings, each able to say ok, warning or critical.

A check given no data (`None`: its query failed) says `unknown`, never `ok`: missing data is reported, not hidden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from orion_agent import promql
from orion_agent.settings import Router, Thresholds
from orion_agent.sources import BirdScrape, Sample


class Severity(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one subject (a host, a peer, a link, a filesystem)."""

    check: str
    subject: str
    severity: Severity
    summary: str
    value: float | None = None


class BgpState(StrEnum):
    SOME_UP = "some_up"
    ALL_DOWN = "all_down"
    """Positively observed: the exporter answered, BIRD answered it, and every BGP protocol is down."""
    BIRD_UNREACHABLE = "bird_unreachable"
    NO_SESSIONS = "no_sessions"
    UNKNOWN = "unknown"
    """Missing data: the exporter did not answer, or answered something that is not its metrics."""


@dataclass(frozen=True)
class BgpView:
    state: BgpState
    sessions: Mapping[str, bool] = field(default_factory=dict)
    imported_prefixes: float | None = None
    error: str | None = None

    @property
    def sessions_up(self) -> int:
        return sum(self.sessions.values())

    @property
    def no_bgp(self) -> bool:
        """Positively observed: the exporter answered, and either every BGP session is down or BIRD itself is not
        there to answer it (a stopped or crashed BIRD holds no session either)."""
        return self.state in (BgpState.ALL_DOWN, BgpState.BIRD_UNREACHABLE)


def bgp_view(scrape: BirdScrape | None, error: str | None = None) -> BgpView:
    """How BGP looks from one probe; `scrape` is None when the probe failed with `error`."""
    if scrape is None:
        return BgpView(BgpState.UNKNOWN, error=error or "no probe yet")
    prefixes = sum(scrape.imported_prefixes.values()) if scrape.imported_prefixes else None
    if not scrape.bird_reachable:
        return BgpView(BgpState.BIRD_UNREACHABLE, error="the exporter cannot query BIRD's socket")
    if not scrape.sessions:
        return BgpView(BgpState.NO_SESSIONS, imported_prefixes=prefixes)
    state = BgpState.SOME_UP if any(scrape.sessions.values()) else BgpState.ALL_DOWN
    return BgpView(state, dict(scrape.sessions), prefixes)


def check_bgp(view: BgpView) -> list[Finding]:
    if view.state == BgpState.UNKNOWN:
        return [Finding("bgp", "router", Severity.UNKNOWN, f"BGP state unknown: {view.error}")]
    if view.state == BgpState.BIRD_UNREACHABLE:
        return [Finding("bgp", "router", Severity.CRITICAL, "the bird exporter answers but BIRD does not")]
    if view.state == BgpState.NO_SESSIONS:
        return [Finding("bgp", "router", Severity.WARNING, "BIRD reports no BGP protocol at all")]
    findings = [
        Finding(
            "bgp_session",
            name,
            Severity.OK if up else Severity.WARNING,
            f"BGP session {name} is {'up' if up else 'down'}",
            1.0 if up else 0.0,
        )
        for name, up in sorted(view.sessions.items())
    ]
    total = len(view.sessions)
    if view.state == BgpState.ALL_DOWN:
        findings.append(
            Finding("bgp", "router", Severity.CRITICAL, f"all {total} BGP sessions are down", float(view.sessions_up))
        )
    else:
        findings.append(
            Finding("bgp", "router", Severity.OK, f"{view.sessions_up} of {total} BGP sessions up", view.sessions_up)
        )
    return findings


@dataclass(frozen=True)
class Queries:
    """The PromQL of the checks, for one router (shared with the Prometheus rules through `promql`)."""

    router: Router

    cpu_percent = promql.CPU_USAGE_PERCENT
    memory_percent = promql.MEMORY_USAGE_PERCENT
    disk_percent = promql.FILESYSTEM_USED_PERCENT
    disk_available = promql.FILESYSTEM_AVAILABLE_BYTES
    targets_up = "up"

    def link_bits(self, direction: str, devices: Sequence[str]) -> str:
        return promql.link_bits_per_second(direction, self.router.host, "|".join(devices))

    def time_exceeded_rate(self, window: str) -> str:
        # Sent (the router drops looping packets) and received (its own packets loop upstream) alike. Two rates
        # added, not one over a name regex: rate() drops the names, and the two series would then collide.
        host = f'host="{self.router.host}"'
        return " + ".join(
            f"sum(rate(node_netstat_Icmp_{direction}TimeExcds{{{host}}}[{window}]))" for direction in ("Out", "In")
        )


def _finite(samples: Sequence[Sample]) -> list[Sample]:
    return [sample for sample in samples if math.isfinite(sample.value)]


def check_usage(
    check: str, samples: Sequence[Sample] | None, limit: float, subject_labels: Sequence[str]
) -> list[Finding]:
    """Percentages per subject (CPU and memory per host, disk per host and mount point) against `limit`."""
    if samples is None:
        return [Finding(check, "all", Severity.UNKNOWN, f"{check}: no data from Prometheus")]
    usable = _finite(samples)
    if not usable:
        return [Finding(check, "all", Severity.UNKNOWN, f"{check}: Prometheus has no series")]
    findings = []
    for sample in sorted(usable, key=lambda s: [s.labels.get(label, "") for label in subject_labels]):
        subject = ":".join(sample.labels.get(label, "?") for label in subject_labels)
        severity = Severity.WARNING if sample.value > limit else Severity.OK
        findings.append(Finding(check, subject, severity, f"{check} of {subject} at {sample.value:.1f}%", sample.value))
    return findings


def check_link(
    name: str, receive: Sequence[Sample] | None, transmit: Sequence[Sample] | None, capacity_bits: int, fraction: float
) -> list[Finding]:
    """Each direction of a link's devices against `fraction` of its capacity."""
    findings = []
    for direction, samples in (("receive", receive), ("transmit", transmit)):
        check = f"bandwidth_{name}"
        if samples is None:
            findings.append(Finding(check, direction, Severity.UNKNOWN, f"{name} {direction}: no data from Prometheus"))
            continue
        usable = _finite(samples)
        if not usable:
            findings.append(Finding(check, direction, Severity.UNKNOWN, f"{name} {direction}: no series"))
            continue
        for sample in usable:
            used = sample.value / capacity_bits
            subject = f"{sample.labels.get('device', name)} {direction}"
            severity = Severity.WARNING if used > fraction else Severity.OK
            summary = f"{subject} at {sample.value / 1e6:.1f} Mbit/s, {used:.0%} of {capacity_bits / 1e6:g} Mbit/s"
            findings.append(Finding(check, subject, severity, summary, used))
    return findings


def check_routing_loop(recent: Sequence[Sample] | None, hourly: Sequence[Sample] | None, limits: Thresholds) -> Finding:
    """A forwarding loop shows as ICMP time-exceeded far above both a fixed rate and the last hour's average."""
    if recent is None or hourly is None:
        return Finding("routing_loop", "router", Severity.UNKNOWN, "routing loop: no data from Prometheus")
    recent_values = [s.value for s in _finite(recent)]
    if not recent_values:
        return Finding(
            "routing_loop",
            "router",
            Severity.UNKNOWN,
            "routing loop: no ICMP time-exceeded series (the router's netstat collector must export Icmp_*TimeExcds)",
        )
    rate = recent_values[0]
    baseline = next((s.value for s in _finite(hourly)), 0.0)
    suspect = rate > limits.time_exceeded_per_second and rate > limits.time_exceeded_growth * baseline
    summary = f"ICMP time-exceeded at {rate:.1f}/s (hourly average {baseline:.1f}/s)"
    if suspect:
        summary = f"forwarding loop suspected: {summary}"
    return Finding("routing_loop", "router", Severity.CRITICAL if suspect else Severity.OK, summary, rate)


def check_targets(up: Sequence[Sample] | None) -> list[Finding]:
    """Every scrape target Prometheus knows must answer its scrapes."""
    if up is None:
        return [Finding("target", "all", Severity.UNKNOWN, "scrape targets: no data from Prometheus")]
    if not up:
        return [Finding("target", "all", Severity.UNKNOWN, "Prometheus reports no scrape target at all")]
    findings = []
    for sample in sorted(up, key=lambda s: (s.labels.get("job", ""), s.labels.get("host", ""))):
        subject = f"{sample.labels.get('job', '?')}@{sample.labels.get('host', sample.labels.get('instance', '?'))}"
        ok = sample.value == 1
        summary = f"{subject} is {'up' if ok else 'not answering'}"
        findings.append(Finding("target", subject, Severity.OK if ok else Severity.WARNING, summary, sample.value))
    return findings


def worst(findings: Sequence[Finding]) -> Severity:
    order = list(Severity)
    return max((finding.severity for finding in findings), key=order.index, default=Severity.OK)
