"""The agent in the twin, with the rendered settings, reaching the router over SSH to its restart-bgp forced command:
it restarts a stopped BIRD and verifies the sessions, holds back within its cooldown, only says what it would do in
dry-run, and degrades without acting when Prometheus dies."""

from __future__ import annotations

import time

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin
from tests.lab.agent_ssh import agent_ssh

pytestmark = pytest.mark.agent_acts

RUNBOOK = "restart-bgp"


def events(twin: Twin, audit_log: str | None = None) -> list[str]:
    return [entry["event"] for entry in twin.audit(audit_log) if entry["runbook"] == RUNBOOK]


def bgp_seen(twin: Twin) -> str:
    health = twin.agent("health")
    return str(health["bgp"]) if health else "no answer"


def restore_bgp(twin: Twin) -> None:
    twin.restart_router_bird()
    twin.wait_for_sessions(timeout=60)
    netns.wait_until(lambda: bgp_seen(twin) == "some_up", timeout=10, failure="the agent does not see BGP up")


def test_in_dry_run_the_agent_only_says_what_it_would_do(twin: Twin) -> None:
    twin.stop_agent()
    # Inside the agent's state directory, the only place its unit may write.
    state = f"/var/lib/orion-agent/dry-run-{time.monotonic_ns()}"
    audit_log = f"{state}/audit.jsonl"
    twin.start_agent(dry_run=True, state_dir=state, audit_log=audit_log)
    try:
        netns.wait_until(lambda: bgp_seen(twin) == "some_up", timeout=10, failure="the agent does not see BGP up")
        twin.stop_router_bird()
        netns.wait_until(lambda: "dry_run" in events(twin, audit_log), timeout=15, failure="no dry-run decision")
        time.sleep(3)
        # It would have acted once and then waited out its cooldown, as the live agent does; it ran nothing.
        assert events(twin, audit_log) in (["dry_run"], ["dry_run", "held_cooldown"])
        assert twin.sessions_or_none() is None
    finally:
        twin.stop_agent()
        twin.restart_router_bird()
        twin.wait_for_sessions(timeout=60)
        twin.start_agent()


def test_a_stopped_bird_is_detected_restarted_and_verified(twin: Twin) -> None:
    netns.wait_until(lambda: bgp_seen(twin) == "some_up", timeout=10, failure="the agent does not see BGP up")
    assert events(twin) == []
    stopped = time.monotonic()
    twin.stop_router_bird()
    detected = netns.wait_until(
        lambda: bgp_seen(twin) in ("all_down", "bird_unreachable"),
        timeout=10,
        failure="the agent does not see BGP gone",
    )
    netns.wait_until(lambda: "verified" in events(twin), timeout=60, failure="no verified restart")
    restored = time.monotonic() - stopped
    twin.wait_for_sessions(timeout=60)
    established = time.monotonic() - stopped
    print(
        f"BIRD stopped: seen by the agent after {detected:.2f} s, restarted and verified after {restored:.2f} s, "
        f"every session Established after {established:.2f} s"
    )
    assert detected < 5
    acted = events(twin)
    assert acted[:2] == ["acting", "command_finished"]
    assert acted[-1] == "verified"
    assert set(acted[2:-1]) <= {"verifying"}  # waiting for a session, if none was up at the first look
    acting = next(entry for entry in twin.audit() if entry["event"] == "acting")
    assert acting["command"][0] == "ssh"  # the rendered settings' SSH to the forced command, nothing lab-made
    assert twin.agent("health")["frozen_runbooks"] == []


def test_bgp_falling_again_within_the_cooldown_is_not_restarted_again(twin: Twin) -> None:
    """What a flapping BIRD meets: the cooldown after the previous test's restart holds the runbook back."""
    acted_before = events(twin).count("acting")
    assert acted_before == 1
    twin.stop_router_bird()
    try:
        netns.wait_until(lambda: "held_cooldown" in events(twin), timeout=15, failure="no cooldown decision")
        time.sleep(3)
        assert events(twin).count("acting") == acted_before
        assert twin.sessions_or_none() is None
    finally:
        restore_bgp(twin)


def test_with_prometheus_dead_the_agent_degrades_and_recovers_without_acting(twin: Twin) -> None:
    acted_before = events(twin).count("acting")
    twin.stop_prometheus()
    try:
        netns.wait_until(
            lambda: "prometheus" in twin.agent("health")["degraded_inputs"],
            timeout=20,
            failure="the agent does not report Prometheus degraded",
        )
        health = twin.agent("health")
        assert health["status"] == "degraded"
        assert health["bgp"] == "some_up"  # its own probe of the router still sees BGP
    finally:
        twin.start_prometheus()
    netns.wait_until(
        lambda: twin.agent("health")["degraded_inputs"] == [], timeout=30, failure="the agent does not recover"
    )
    assert events(twin).count("acting") == acted_before


def test_every_check_has_its_data_in_the_twin(twin: Twin) -> None:
    """CPU, memory, disk, links, targets and the routing-loop signal (ICMP time-exceeded, a netstat field the router's
    node exporter exports for the agent) all come from the live Prometheus: none is unknown."""

    def unknown() -> set[str]:
        report = twin.agent("report?format=json")
        return {finding["check"] for finding in report["findings"] if finding["severity"] == "unknown"}

    netns.wait_until(lambda: not unknown(), timeout=30, failure="some check has no data")
    checks = {finding["check"] for finding in twin.agent("report?format=json")["findings"]}
    assert {"bgp", "cpu", "memory", "disk", "routing_loop", "target"} <= checks


def test_the_router_takes_the_agents_key_only_from_the_monitoring_vm_and_only_once_per_cooldown(twin: Twin) -> None:
    """The router's own guards on the agent's key: `from=` the monitoring VM's address, and its forced command's
    cooldown, which holds whatever the agent decides (here: right after the agent's restart above)."""
    ssh = agent_ssh(twin, "restart-bgp")
    # Not to a router whose host key is another than the one the deploy made for it (here: the monitoring VM's).
    impostor = netns.in_ns(
        twin.monitor_ns, *agent_ssh(twin, "restart-bgp", host_key=twin.host_key(twin.monitor)), check=False
    )
    assert impostor.returncode == 255
    assert "Host key verification failed" in impostor.stderr, impostor.stderr
    # From the management network, where SSH to the router is open, the key is refused.
    elsewhere = netns.in_ns(twin.host_ns, "ssh", *ssh[1:], check=False)
    assert elsewhere.returncode == 255
    assert "Permission denied" in elsewhere.stderr
    # From the monitoring VM, within the cooldown, the forced command refuses and BIRD keeps running.
    pid = netns.pids(twin.router_ns, lambda pid: netns.command_name(pid) == "bird")
    refused = netns.in_ns(twin.monitor_ns, *ssh, check=False)
    assert "refused: BIRD was restarted" in refused.stderr, refused.stderr
    assert refused.returncode == 75
    assert netns.pids(twin.router_ns, lambda pid: netns.command_name(pid) == "bird") == pid
