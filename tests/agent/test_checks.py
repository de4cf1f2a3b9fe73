from __future__ import annotations

from orion_agent.checks import (
    BgpState,
    Finding,
    Severity,
    bgp_view,
    check_bgp,
    check_link,
    check_routing_loop,
    check_targets,
    check_usage,
    worst,
)
from orion_agent.settings import Thresholds
from orion_agent.sources import BirdScrape, Sample
from tests.agent.conftest import ALL_DOWN, ONE_UP


def sample(value: float, **labels: str) -> Sample:
    return Sample(labels, value)


def severities(findings: list[Finding]) -> dict[str, Severity]:
    return {finding.subject: finding.severity for finding in findings}


def test_bgp_reports_each_peer_and_the_whole() -> None:
    findings = check_bgp(bgp_view(ONE_UP))
    assert severities(findings) == {"backup": Severity.WARNING, "transit": Severity.OK, "router": Severity.OK}
    assert findings[-1].summary == "1 of 2 BGP sessions up"


def test_all_sessions_down_is_critical() -> None:
    view = bgp_view(ALL_DOWN)
    assert view.state == BgpState.ALL_DOWN
    assert check_bgp(view)[-1].severity == Severity.CRITICAL
    assert check_bgp(view)[-1].summary == "all 2 BGP sessions are down"


def test_bgp_without_data_or_without_bird_is_not_all_down() -> None:
    unknown = bgp_view(None, "no answer within 0.8 s")
    assert (unknown.state, check_bgp(unknown)[0].severity) == (BgpState.UNKNOWN, Severity.UNKNOWN)
    no_bird = bgp_view(BirdScrape(bird_reachable=False))
    assert (no_bird.state, check_bgp(no_bird)[0].severity) == (BgpState.BIRD_UNREACHABLE, Severity.CRITICAL)
    empty = bgp_view(BirdScrape(bird_reachable=True))
    assert (empty.state, check_bgp(empty)[0].severity) == (BgpState.NO_SESSIONS, Severity.WARNING)


def test_usage_above_its_limit_warns_per_subject_and_nan_is_skipped() -> None:
    samples = [
        sample(95.0, host="orion-router", mountpoint="/"),
        sample(40.0, host="orion-monitor", mountpoint="/"),
        sample(float("nan"), host="orion-pve", mountpoint="/"),
    ]
    findings = check_usage("disk", samples, 90, ["host", "mountpoint"])
    assert severities(findings) == {"orion-monitor:/": Severity.OK, "orion-router:/": Severity.WARNING}


def test_usage_without_data_is_unknown_not_ok() -> None:
    assert check_usage("cpu", None, 90, ["host"])[0].severity == Severity.UNKNOWN
    assert check_usage("cpu", [], 90, ["host"])[0].summary == "cpu: Prometheus has no series"


def test_a_link_near_capacity_warns_in_that_direction_only() -> None:
    findings = check_link("wan", [sample(950e6, device="wan")], [sample(100e6, device="wan")], 1_000_000_000, 0.9)
    assert severities(findings) == {"wan receive": Severity.WARNING, "wan transmit": Severity.OK}
    assert findings[0].summary == "wan receive at 950.0 Mbit/s, 95% of 1000 Mbit/s"
    assert {f.severity for f in check_link("wan", None, [], 1, 0.9)} == {Severity.UNKNOWN}


def test_a_routing_loop_needs_both_a_high_rate_and_growth() -> None:
    limits = Thresholds(time_exceeded_per_second=20, time_exceeded_growth=5)
    assert check_routing_loop([sample(500.0)], [sample(10.0)], limits).severity == Severity.CRITICAL
    # High but usual (a busy traceroute service): no loop.
    assert check_routing_loop([sample(500.0)], [sample(400.0)], limits).severity == Severity.OK
    # Growing but tiny: no loop.
    assert check_routing_loop([sample(5.0)], [sample(0.1)], limits).severity == Severity.OK
    missing = check_routing_loop([], [], limits)
    assert missing.severity == Severity.UNKNOWN
    assert "netstat collector" in missing.summary
    assert check_routing_loop(None, [sample(1.0)], limits).severity == Severity.UNKNOWN


def test_every_scrape_target_must_be_up() -> None:
    findings = check_targets([sample(1, job="node", host="orion-router"), sample(0, job="kea", host="orion-router")])
    assert severities(findings) == {"kea@orion-router": Severity.WARNING, "node@orion-router": Severity.OK}
    assert check_targets([])[0].severity == Severity.UNKNOWN
    assert check_targets(None)[0].severity == Severity.UNKNOWN


def test_worst_orders_critical_over_warning_over_unknown() -> None:
    assert worst(check_bgp(bgp_view(ALL_DOWN))) == Severity.CRITICAL
    assert worst(check_targets([])) == Severity.UNKNOWN
    assert worst([]) == Severity.OK
