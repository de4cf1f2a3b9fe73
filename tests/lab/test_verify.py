"""`orion verify` against the twin exactly as against production: run as a process on an operator's machine on the
management network, from the stack file and the stack's outputs (the host keys the deploy made, pinned), logging in
as the admin user with the deploy's key. Green on a healthy twin; red, naming the check, for a crashed upstream and
for a killed Prometheus (each put back afterwards: the twin is shared)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import NOT_RUN, Twin
from orion_infra.model import load_stack, ports, read_stack_file
from orion_infra.outputs import endpoints, vm_facts
from orion_infra.render.host_keys import SEED_BYTES, host_key, known_hosts_line
from orion_infra.verify.site import site
from tests.fixtures.invalid_cases import DEFAULT_STACK

OPERATOR = "192.168.1.51"  # a machine of the operator's on the management network
# What the twin does not have, as verify is told about it: each reported SKIP with this reason (ADR 0042).
NOT_IN_THE_TWIN = {
    "proxmox-api": "the twin has no Proxmox VE API (the host runs only its exporter and listener stand-ins)",
    "vm-states": "the twin's VMs are machines in namespaces, not Proxmox VMs",
    "grafana": "no build of Grafana for Debian 12: the twin runs none",
}
# The exporters the twin cannot run (twin.NOT_RUN, with the reason), as verify is told about them.
(NOT_SCRAPED_IN_THE_TWIN,) = (f"{job}/orion-router" for job in NOT_RUN)


@dataclass(frozen=True)
class Operator:
    namespace: str
    outputs: Path


def healthy(twin: Twin) -> None:
    """The twin settled (the tests before may have left it recovering): every session back with the primary
    routing, every target scraped (Prometheus hands targets to its scrapers seconds after it starts), the agent ok."""
    twin.wait_for_primary()
    netns.wait_until(
        lambda: (health := twin.targets()) and "unknown" not in health.values(),
        timeout=30,
        failure="not every target scraped",
    )
    netns.wait_until(
        lambda: (twin.agent("health") or {}).get("status") == "ok", timeout=30, failure="the agent is not ok"
    )


@pytest.fixture(scope="module")
def operator(twin: Twin) -> Iterator[Operator]:
    """The operator's machine, and the stack's outputs as `pulumi stack output --json` would print them for the twin
    (the host keys the deploy made for the router and the monitoring VM, at the addresses it reaches them)."""
    namespace = twin.client("verify-op", "management")
    netns.run(["ip", "-n", namespace, "addr", "add", f"{OPERATOR}/24", "dev", "eth0"])
    netns.run(["ip", "-n", namespace, "route", "add", "default", "via", str(twin.stack.networks.management.gateway)])
    management = twin.stack.networks.management.subnet
    router = next(address for address in vm_facts(twin.stack)["router"]["ipv4"] if ip_address(address) in management)
    trust = {
        "proxmox_api_ca": {},
        "ssh_known_hosts": [
            known_hosts_line(router, twin.host_key(twin.router)).strip(),
            known_hosts_line(twin.monitor_address, twin.host_key(twin.monitor)).strip(),
        ],
    }
    outputs = twin.root / "verify-outputs.json"
    outputs.write_text(json.dumps({"endpoints": endpoints(twin.stack), "trust": trust}))
    try:
        yield Operator(namespace, outputs)
    finally:
        netns.destroy(namespace)


def verify(twin: Twin, operator: Operator, *extra: str, outputs: Path | None = None) -> tuple[int, dict[str, Any]]:
    """`orion verify --json` on the operator's machine, told what the twin lacks; its exit status and report."""
    skips = [f"--skip={name}={why}" for name, why in NOT_IN_THE_TWIN.items()]
    environment = {key: value for key, value in os.environ.items() if key != "ORION_PROXMOX_TOKEN"}
    done = subprocess.run(
        [
            "ip", "netns", "exec", operator.namespace,
            sys.executable, "-c", "from orion_infra.cli_verify import verify; verify()",
            "--stack-file", str(DEFAULT_STACK), "--outputs", str(outputs or operator.outputs),
            "--identity", str(twin.key("deploy")), "--skip-target", NOT_SCRAPED_IN_THE_TWIN,
            *skips, "--json", *extra,
        ],
        capture_output=True, text=True, timeout=90, check=False, env=environment,
    )  # fmt: skip
    assert done.stderr == ""
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def reasons(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["reason"] for check in report["checks"]}


def failing(report: dict[str, Any]) -> set[str]:
    return {name for name, status in statuses(report).items() if status == "FAIL"}


def test_the_stack_file_verify_reads_describes_the_twin(twin: Twin, operator: Operator) -> None:
    """verify reads the operator's stack file; the twin runs a faster clock of it: the same site to check."""
    trust = json.loads(operator.outputs.read_text())["trust"]
    default, _ = load_stack(read_stack_file(DEFAULT_STACK))
    assert site(default, trust, DEFAULT_STACK.parent) == site(twin.stack, trust, DEFAULT_STACK.parent)


def test_verify_is_green_on_a_healthy_twin(twin: Twin, operator: Operator) -> None:
    healthy(twin)
    returncode, report = verify(twin, operator)
    print(f"verify on a healthy twin: {report['seconds']} s")
    expected = {name: "SKIP" if name in NOT_IN_THE_TWIN else "PASS" for name in statuses(report)}
    assert statuses(report) == expected, {name: reasons(report)[name] for name in failing(report)}
    assert returncode == 0
    assert report["passed"] is True
    said = reasons(report)
    assert said["grafana"] == f"skipped: {NOT_IN_THE_TWIN['grafana']}"
    assert said["bgp"] == "3 of 3 BGP sessions Established (he-primary, he-secondary, he-tertiary)"
    assert said["prometheus-targets"] == f"8 of 8 targets up (1 skipped: {NOT_SCRAPED_IN_THE_TWIN})"
    assert said["router-ssh"] == "orion-router answers SSH at 192.168.1.1 with the host key the deploy made"
    assert "validates the root's SOA" in said["dns"]
    assert report["seconds"] < 10


@pytest.mark.breaks_twin  # and puts it back: `orion lab test` runs it on the twin others break
def test_a_crashed_upstream_turns_bgp_red_naming_it(twin: Twin, operator: Operator) -> None:
    healthy(twin)
    primary = twin.stack.bgp.peers[0]
    protocol = twin.protocol(primary)
    twin.stop_peer(primary)
    try:
        netns.wait_until(
            lambda: twin.sessions()[protocol] != "Established", timeout=10, failure=f"{protocol} stays Established"
        )
        returncode, report = verify(twin, operator)
    finally:
        twin.start_peer(primary)
    assert returncode == 1
    assert report["passed"] is False
    assert failing(report) == {"bgp"}
    assert reasons(report)["bgp"].startswith(f"1 of 3 BGP sessions not Established: {primary.name} ({protocol}): ")
    healthy(twin)
    assert verify(twin, operator)[0] == 0


@pytest.mark.breaks_twin  # and puts it back: `orion lab test` runs it on the twin others break
def test_a_killed_prometheus_turns_prometheus_targets_red(twin: Twin, operator: Operator) -> None:
    healthy(twin)
    twin.stop_prometheus()
    try:
        returncode, report = verify(twin, operator)
    finally:
        twin.start_prometheus()
    assert returncode == 1
    # The agent, which reads Prometheus, may or may not have noticed yet; nothing else fails.
    assert "prometheus-targets" in failing(report) <= {"prometheus-targets", "agent"}
    port = ports.MONITOR_SERVICES["prometheus"]
    assert reasons(report)["prometheus-targets"].startswith(
        f"prometheus does not answer on orion-monitor's 127.0.0.1:{port}: curl: (7) Failed to connect"
    )
    netns.wait_until(lambda: verify(twin, operator)[0] == 0, timeout=60, interval=2, failure="verify not green again")


def test_a_host_key_other_than_the_deploys_is_refused_before_logging_in(twin: Twin, operator: Operator) -> None:
    """The router answering with a key the deploy did not make: no login, the checks on it fail saying so."""
    document = json.loads(operator.outputs.read_text())
    stranger = host_key(base64.b64encode(b"\x01" * SEED_BYTES).decode(), "stranger")
    document["trust"]["ssh_known_hosts"][0] = known_hosts_line("192.168.1.1", stranger).strip()
    outputs = twin.root / "verify-outputs-stranger.json"
    outputs.write_text(json.dumps(document))
    started = time.monotonic()
    returncode, report = verify(twin, operator, outputs=outputs)
    assert returncode == 1
    assert failing(report) == {"router-ssh", "bgp", "dns"}
    for name in ("router-ssh", "bgp", "dns"):
        assert reasons(report)[name] == "SSH to orion-router (192.168.1.1): Host key verification failed."
    assert time.monotonic() - started < 10


@pytest.mark.breaks_twin  # and puts it back: `orion lab test` runs it on the twin others break
def test_a_hung_vm_costs_the_timeout_once(twin: Twin, operator: Operator) -> None:
    """The monitoring VM's sshd frozen (SIGSTOP: connections accepted by the kernel, never answered): its five checks
    fail within the timeout, together; the router's pass meanwhile."""
    healthy(twin)
    frozen = netns.pids(twin.monitor_ns, lambda pid: netns.command_name(pid) == "sshd")
    assert frozen
    for pid in frozen:
        netns.run(["kill", "-STOP", pid])
    try:
        started = time.monotonic()
        returncode, report = verify(twin, operator, "--timeout=3")
        elapsed = time.monotonic() - started
    finally:
        for pid in frozen:
            netns.run(["kill", "-CONT", pid], check=False)
    on_the_monitor = {"monitor-ssh", "prometheus-targets", "alertmanager", "agent", "lan-internet"}
    assert returncode == 1
    assert failing(report) == on_the_monitor
    for name in on_the_monitor:
        assert (
            reasons(report)[name]
            == "SSH to orion-monitor (192.168.100.20): Connection timed out during banner exchange"
        )
    print(f"verify with the monitoring VM hung, --timeout 3: {elapsed:.1f} s")
    assert elapsed < 6
