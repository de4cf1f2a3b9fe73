"""Verdicts on what the services print: each takes the text a service answered with (birdc's table, Prometheus' JSON,
dig's answer, ...) and says PASS or FAIL with a one-line reason and, on failure, what to do. No I/O: the tests feed
them recorded answers of the real programs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str
    """One line: what was seen."""
    advice: str = ""
    """What to do about it (for FAIL and SKIP)."""


def passed(reason: str) -> Outcome:
    return Outcome(Status.PASS, reason)


def failed(reason: str, advice: str) -> Outcome:
    return Outcome(Status.FAIL, reason, advice)


def skipped(reason: str, advice: str = "") -> Outcome:
    return Outcome(Status.SKIP, reason, advice)


def one_line(text: str, limit: int = 200) -> str:
    """`text` as a single line (a program's last words are often several), cut at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- BGP: `birdc show protocols` on the router ---------------------------------------------------------------------

BIRD_TABLE_HEADER = ("Name", "Proto", "Table", "State", "Since", "Info")


def bgp_sessions(output: str, expected: Mapping[str, str]) -> Outcome:
    """Every session the stack declares (`expected`: BIRD protocol -> peer name) Established, from `birdc show
    protocols`' table."""
    lines = output.splitlines()
    header = next((index for index, line in enumerate(lines) if tuple(line.split()[:6]) == BIRD_TABLE_HEADER), None)
    if header is None:
        return failed(
            f"birdc printed no protocol table: {one_line(output) or 'nothing'}",
            "on the router: `systemctl status bird`, `journalctl -u bird`",
        )
    states: dict[str, str] = {}
    for line in lines[header + 1 :]:
        fields = line.split()
        if len(fields) >= 5 and fields[1] == "BGP":
            # Info is the BGP state, then (when not Established) BIRD's last error.
            states[fields[0]] = " ".join(fields[5:]) or fields[3]
    wrong = []
    for protocol, peer in expected.items():
        state = states.get(protocol)
        if state is None:
            wrong.append(f"{peer} ({protocol}): no such protocol in BIRD")
        elif state != "Established":
            wrong.append(f"{peer} ({protocol}): {state}")
    if wrong:
        return failed(
            f"{len(wrong)} of {len(expected)} BGP sessions not Established: {'; '.join(wrong)}",
            "check the peer's side and the session's password; on the router: `birdc show protocols all <protocol>`",
        )
    return passed(f"{len(expected)} of {len(expected)} BGP sessions Established ({', '.join(expected.values())})")


# -- DNS: dig against the router's resolver -------------------------------------------------------------------------


@dataclass(frozen=True)
class DigAnswer:
    rcode: str
    flags: frozenset[str]
    answers: tuple[str, ...]
    """Answer records as `owner type data`, without class and TTL."""


def parse_dig(output: str) -> DigAnswer | None:
    """dig's answer (its default output), or None when it printed none (no server answered)."""
    rcode = ""
    flags: frozenset[str] = frozenset()
    answers: list[str] = []
    section = ""
    for line in output.splitlines():
        if line.startswith(";; ->>HEADER<<-") and "status:" in line:
            rcode = line.split("status:")[1].split(",")[0].strip()
        elif line.startswith(";; flags:"):
            flags = frozenset(line.split(":")[1].split(";")[0].split())
        elif line.startswith(";; ") and line.rstrip().endswith("SECTION:"):
            section = line.split()[1]
        elif not line.strip():
            section = ""
        elif section == "ANSWER" and not line.startswith(";"):
            owner, _ttl, _class, record_type, *data = line.split()
            answers.append(" ".join([owner, record_type, *data]))
    return DigAnswer(rcode, flags, tuple(answers)) if rcode else None


def dns_answers(local_output: str, root_output: str, name: str, server: str) -> Outcome:
    """The router's resolver gives the local `name` an address, and the root's SOA validated (DNSSEC: the `ad`
    flag), which it can only have fetched through its upstreams."""
    advice = "on the router: `systemctl status orion-unbound`, `journalctl -u orion-unbound`"
    local = parse_dig(local_output)
    if local is None:
        return failed(f"no answer from {server} for {name}: {one_line(local_output) or 'nothing'}", advice)
    addresses = [answer.split()[-1] for answer in local.answers if answer.split()[1] == "A"]
    if local.rcode != "NOERROR" or not addresses:
        return failed(f"{server} answers {name} with {local.rcode} and no address", advice)
    root = parse_dig(root_output)
    if root is None:
        return failed(f"no answer from {server} for the root's SOA: {one_line(root_output) or 'nothing'}", advice)
    if root.rcode != "NOERROR" or not any(answer.split()[1] == "SOA" for answer in root.answers):
        return failed(f"{server} answers the root's SOA with {root.rcode}: the upstreams do not answer", advice)
    if "ad" not in root.flags:
        return failed(
            f"{server} answers the root's SOA unvalidated (flags: {' '.join(sorted(root.flags))})",
            "the resolver must validate (dns.dnssec): check its trust anchor, `journalctl -u orion-unbound`",
        )
    return passed(f"{server} resolves {name} ({', '.join(addresses)}) and validates the root's SOA (DNSSEC)")


# -- HTTP answers fetched on a VM (curl's body, then its status code on a line of its own) --------------------------


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str


def parse_curl(stdout: str) -> HttpAnswer:
    """`curl -sS -w '\\n%{http_code}'`'s output: the body, then the status code (000 when nothing answered)."""
    body, _, code = stdout.rstrip("\n").rpartition("\n")
    return HttpAnswer(int(code) if code.isdigit() else 0, body)


def _json_object(body: str) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def prometheus_targets(body: str, expected: Iterable[str], skip: Iterable[str] = ()) -> Outcome:
    """Every scrape target the stack declares (`expected`: job/host) active and up in Prometheus'
    /api/v1/targets?state=active answer; those in `skip` are left out, by name."""
    advice = "on the monitoring VM: `curl -s 127.0.0.1:9090/api/v1/targets | jq` for each target's lastError"
    answer = _json_object(body)
    if answer is None or answer.get("status") != "success" or not isinstance(answer.get("data"), dict):
        return failed(f"Prometheus answered no target list: {one_line(body) or 'nothing'}", advice)
    health: dict[str, tuple[str, str]] = {}
    for target in answer["data"].get("activeTargets", []):
        labels = target.get("labels", {})
        key = f"{labels.get('job')}/{labels.get('host', labels.get('instance'))}"
        health[key] = (target.get("health", "unknown"), target.get("lastError", ""))
    if not health:
        return failed(
            "Prometheus has no active target",
            "right after a start it has none for a few seconds: run verify again; else check its configuration",
        )
    skipped_ones = set(skip)
    wanted = [key for key in expected if key not in skipped_ones]
    missing = [key for key in wanted if key not in health]
    down = [
        f"{key} {health[key][0]}" + (f" ({one_line(health[key][1], 160)})" if health[key][1] else "")
        for key in wanted
        if key in health and health[key][0] != "up"
    ]
    if missing or down:
        problems = [*down, *(f"{key} not scraped" for key in missing)]
        if all(health[key][0] == "unknown" for key in wanted if key in health and health[key][0] != "up"):
            advice = "not scraped yet (health unknown) or not configured: run verify again after a scrape interval"
        return failed(f"{len(problems)} of {len(wanted)} targets not up: {'; '.join(problems)}", advice)
    left_out = f" ({len(skipped_ones)} skipped: {', '.join(sorted(skipped_ones))})" if skipped_ones else ""
    return passed(f"{len(wanted)} of {len(wanted)} targets up{left_out}")


def alertmanager_healthy(answer: HttpAnswer) -> Outcome:
    """Alertmanager's /-/healthy: 200 and `OK`."""
    if answer.status == 200 and answer.body.strip() == "OK":
        return passed("Alertmanager is healthy")
    return failed(
        f"Alertmanager's /-/healthy answered {answer.status}: {one_line(answer.body) or 'nothing'}",
        "on the monitoring VM: `systemctl status alertmanager`, `journalctl -u alertmanager`",
    )


def agent_health(answer: HttpAnswer) -> Outcome:
    """The agent's /health: status ok and no runbook frozen."""
    advice = "on the monitoring VM: `journalctl -u orion-agent`, `curl -s 127.0.0.1:9110/health`"
    health = _json_object(answer.body)
    if health is None or "status" not in health:
        return failed(f"the agent's /health answered {answer.status}: {one_line(answer.body) or 'nothing'}", advice)
    frozen = health.get("frozen_runbooks") or []
    if frozen:
        return failed(
            f"the agent's runbooks {', '.join(frozen)} are frozen after a failed verification",
            f"read the agent's audit log, then on the monitoring VM: `orion-agent clear {frozen[0]}`",
        )
    if health["status"] == "degraded":
        inputs = health.get("inputs", {})
        degraded = [
            f"{name} ({one_line(str(inputs.get(name, {}).get('error') or 'failing'), 80)})"
            for name in health.get("degraded_inputs", [])
        ]
        return failed(f"the agent is degraded: {'; '.join(degraded) or 'no input named'}", advice)
    if health["status"] != "ok":
        return failed(f"the agent is {health['status']}: {', '.join(health.get('stalled', []))}", advice)
    mode = ", dry run" if health.get("dry_run") else ""
    return passed(f"the agent is ok (BGP {health.get('bgp', '?')}{mode})")


def grafana_health(answer: HttpAnswer, url: str) -> Outcome:
    """Grafana's /api/health: 200 and its database ok."""
    health = _json_object(answer.body)
    if answer.status == 200 and health is not None and health.get("database") == "ok":
        return passed(f"Grafana {health.get('version', '')} answers at {url}, database ok".replace("  ", " "))
    return failed(
        f"Grafana's /api/health at {url} answered {answer.status}: {one_line(answer.body) or 'nothing'}",
        "on the monitoring VM: `systemctl status grafana`, `journalctl -u grafana`",
    )


# -- Proxmox VE API ---------------------------------------------------------------------------------------------------


def proxmox_version(node: str, body: str) -> Outcome:
    """GET /api2/json/version's answer."""
    data = (_json_object(body) or {}).get("data")
    if not isinstance(data, dict) or "version" not in data:
        return failed(
            f"{node}'s API answered no version: {one_line(body) or 'nothing'}",
            "on the node: `systemctl status pveproxy pvedaemon`",
        )
    return passed(f"{node}'s API answers (Proxmox VE {data['version']})")


def vm_states(node: str, body: str, expected: Mapping[int, str]) -> Outcome:
    """Every VM the stack puts on `node` (`expected`: id -> name) running, from GET /api2/json/nodes/NODE/qemu."""
    data = (_json_object(body) or {}).get("data")
    if not isinstance(data, list):
        return failed(f"{node}'s API answered no VM list: {one_line(body) or 'nothing'}", "check the API's logs")
    states = {int(vm["vmid"]): str(vm.get("status", "unknown")) for vm in data if isinstance(vm, dict) and "vmid" in vm}
    wrong = [
        f"{name} ({vm_id}) {states[vm_id]}" if vm_id in states else f"{name} ({vm_id}) does not exist"
        for vm_id, name in sorted(expected.items())
        if states.get(vm_id) != "running"
    ]
    if wrong:
        return failed(
            f"{len(wrong)} of {len(expected)} VMs on {node} not running: {'; '.join(wrong)}",
            f"`qm start <id>` on {node}, or run `pulumi up` again for a VM that does not exist",
        )
    return passed(f"{len(expected)} of {len(expected)} VMs on {node} running ({', '.join(expected.values())})")
