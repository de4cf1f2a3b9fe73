"""`orion verify` without a site: each verdict on the real programs' recorded answers (tests/fixtures/verify/, taken
from the lab's twin) and on broken ones; the command through click and as a process, against a strict fake ssh
(which refuses a call that does not pin the host key) and a local HTTPS Proxmox API. Nothing here leaves the machine:
Grafana and Proxmox are reached on 127.0.0.1 or skipped, the process runs in an empty network namespace."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from orion_infra.cli_common import StackCli
from orion_infra.cli_verify import credential_source, verify
from orion_infra.model import load_stack, read_stack_file
from orion_infra.model.stack import OrionStack
from orion_infra.render.host_keys import SEED_BYTES, host_key, known_hosts_line
from orion_infra.verify import verdicts
from orion_infra.verify.checks import ApiToken, Budget, Credential, RootPassword, Ssh, Verifier, run
from orion_infra.verify.site import ProxmoxNode, Site, SiteError, site
from orion_infra.verify.verdicts import HttpAnswer, Status
from tests.fake_pulumi import fake_pulumi
from tests.fixtures.invalid_cases import DEFAULT_STACK
from tests.redfish.emulator import self_signed_certificate
from tests.sealing import seal
from tests.verify_fakes import RECORDED, FakeProxmox, FakeSsh, fake_proxmox, fake_ssh

PEERS = {"he_primary": "he-primary", "he_secondary": "he-secondary", "he_tertiary": "he-tertiary"}
TARGETS = [
    "node/orion-router", "bird/orion-router", "kea/orion-router", "unbound/orion-router", "node/orion-monitor",
    "prometheus/orion-monitor", "alertmanager/orion-monitor", "agent/orion-monitor", "node/orion-pve",
]  # fmt: skip
# The lab's twin has no Unbound exporter: its recorded target list has that one down.
NOT_SCRAPED = "unbound/orion-router"
# The checks no unit test may run for real: they would reach the stack's addresses.
OFF_THE_MACHINE = ["--skip=grafana", "--skip=proxmox-api", "--skip=vm-states"]


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def key_line(address: str, name: str) -> str:
    return known_hosts_line(address, host_key(base64.b64encode(name.encode().ljust(SEED_BYTES)).decode(), name))


TRUST = {
    "proxmox_api_ca": {},
    "ssh_known_hosts": [
        key_line("192.168.1.1", "orion-router").strip(),
        key_line("192.168.100.20", "orion-monitor").strip(),
    ],
}


@pytest.fixture(scope="module")
def stack() -> OrionStack:
    loaded, _ = load_stack(read_stack_file(DEFAULT_STACK))
    return loaded


# -- BGP ----------------------------------------------------------------------------------------------------------


def test_bgp_passes_when_every_declared_session_is_established() -> None:
    outcome = verdicts.bgp_sessions(recorded("birdc-healthy.txt"), PEERS)
    assert outcome == verdicts.passed("3 of 3 BGP sessions Established (he-primary, he-secondary, he-tertiary)")


def test_bgp_names_the_session_that_is_down_with_birds_reason() -> None:
    outcome = verdicts.bgp_sessions(recorded("birdc-peer-down.txt"), PEERS)
    assert outcome.status == Status.FAIL
    assert outcome.reason == (
        "1 of 3 BGP sessions not Established: he-primary (he_primary): Active Socket: Connection closed"
    )
    assert "birdc show protocols all" in outcome.advice


def test_bgp_fails_for_a_declared_session_bird_does_not_have() -> None:
    table = "".join(
        line for line in recorded("birdc-healthy.txt").splitlines(keepends=True) if "he_tertiary" not in line
    )
    outcome = verdicts.bgp_sessions(table, PEERS)
    assert outcome.reason == "1 of 3 BGP sessions not Established: he-tertiary (he_tertiary): no such protocol in BIRD"


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("", "birdc printed no protocol table: nothing"),
        (
            recorded("birdc-no-bird.stderr"),
            "birdc printed no protocol table: Unable to connect to server control socket (/run/bird/bird.ctl): "
            "No such file or directory",
        ),
        ("<html>502 Bad Gateway</html>", "birdc printed no protocol table: <html>502 Bad Gateway</html>"),
    ],
)
def test_bgp_fails_on_what_is_not_birds_table(output: str, reason: str) -> None:
    assert verdicts.bgp_sessions(output, PEERS).reason == reason


# -- DNS ----------------------------------------------------------------------------------------------------------

NAME, SERVER = "orion-router.orion.home.arpa", "192.168.100.1"


def test_dns_passes_with_the_local_name_and_the_roots_validated_soa() -> None:
    """The recorded root query timed out once before its answer (dig's second try): dig's output as it comes."""
    outcome = verdicts.dns_answers(recorded("dig-name.txt"), recorded("dig-root.txt"), NAME, SERVER)
    assert outcome == verdicts.passed(f"{SERVER} resolves {NAME} (192.168.100.1) and validates the root's SOA (DNSSEC)")


def test_dig_is_parsed_into_rcode_flags_and_records() -> None:
    assert verdicts.parse_dig(recorded("dig-name.txt")) == verdicts.DigAnswer(
        "NOERROR", frozenset({"qr", "aa", "rd", "ra"}), (f"{NAME}. A 192.168.100.1",)
    )
    root = verdicts.parse_dig(recorded("dig-root.txt"))
    assert root is not None
    assert [answer.split()[1] for answer in root.answers] == ["SOA", "RRSIG"]
    assert verdicts.parse_dig(recorded("dig-root-timeout.txt")) is None


@pytest.mark.parametrize(
    ("local", "root", "reason"),
    [
        ("dig-nx.txt", "dig-root.txt", f"{SERVER} answers {NAME} with NXDOMAIN and no address"),
        ("dig-name.txt", "dig-root-timeout.txt", f"no answer from {SERVER} for the root's SOA: ;; communications"),
        ("dig-root-timeout.txt", "dig-root.txt", f"no answer from {SERVER} for {NAME}: ;; communications error"),
        ("dig-name.txt", "dig-nx.txt", f"{SERVER} answers the root's SOA with NXDOMAIN: the upstreams do not answer"),
    ],
)
def test_dns_fails_on_each_wrong_answer(local: str, root: str, reason: str) -> None:
    outcome = verdicts.dns_answers(recorded(local), recorded(root), NAME, SERVER)
    assert outcome.status == Status.FAIL
    assert outcome.reason.startswith(reason)


def test_dns_fails_on_an_unvalidated_answer() -> None:
    unvalidated = recorded("dig-root.txt").replace("flags: qr rd ra ad;", "flags: qr rd ra;")
    outcome = verdicts.dns_answers(recorded("dig-name.txt"), unvalidated, NAME, SERVER)
    assert outcome.reason == f"{SERVER} answers the root's SOA unvalidated (flags: qr ra rd)"


def test_dns_fails_on_nothing_at_all() -> None:
    assert verdicts.dns_answers("", "", NAME, SERVER).reason == f"no answer from {SERVER} for {NAME}: nothing"


# -- Prometheus, Alertmanager, the agent, Grafana -----------------------------------------------------------------


def test_targets_pass_when_every_declared_one_is_up_but_the_skipped() -> None:
    outcome = verdicts.prometheus_targets(recorded("targets.json"), TARGETS, [NOT_SCRAPED])
    assert outcome == verdicts.passed(f"8 of 8 targets up (1 skipped: {NOT_SCRAPED})")


def test_targets_name_each_one_down_with_prometheus_reason() -> None:
    outcome = verdicts.prometheus_targets(recorded("targets.json"), TARGETS)
    assert outcome.reason == (
        f'1 of 9 targets not up: {NOT_SCRAPED} down (Get "http://192.168.100.1:9167/metrics": dial tcp '
        "192.168.100.1:9167: connect: connection refused)"
    )
    agent_down = verdicts.prometheus_targets(recorded("targets-agent-down.json"), TARGETS, [NOT_SCRAPED])
    assert agent_down.reason.startswith("1 of 8 targets not up: agent/orion-monitor down (Get")


def test_targets_fail_for_a_declared_target_prometheus_does_not_scrape() -> None:
    outcome = verdicts.prometheus_targets(recorded("targets.json"), [*TARGETS, "node/orion-nas"], [NOT_SCRAPED])
    assert outcome.reason == "1 of 9 targets not up: node/orion-nas not scraped"


def test_targets_not_scraped_yet_say_to_run_again() -> None:
    document = json.loads(recorded("targets.json"))
    for target in document["data"]["activeTargets"]:
        if target["labels"]["job"] == "kea":
            target.update(health="unknown", lastError="")
    outcome = verdicts.prometheus_targets(json.dumps(document), TARGETS, [NOT_SCRAPED])
    assert outcome.reason == "1 of 8 targets not up: kea/orion-router unknown"
    assert "run verify again" in outcome.advice


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "Prometheus answered no target list: nothing"),
        ("404 page not found", "Prometheus answered no target list: 404 page not found"),
        ('{"status":"error","errorType":"bad_data","error":"x"}', "Prometheus answered no target list: "),
        ('{"status":"success","data":{"activeTargets":[],"droppedTargets":[]}}', "Prometheus has no active target"),
    ],
)
def test_targets_fail_on_what_is_not_a_target_list(body: str, reason: str) -> None:
    outcome = verdicts.prometheus_targets(body, TARGETS)
    assert outcome.status == Status.FAIL
    assert outcome.reason.startswith(reason)


def test_curls_output_is_the_body_then_the_status() -> None:
    assert verdicts.parse_curl(recorded("alertmanager.curl")) == HttpAnswer(200, "OK")
    assert verdicts.parse_curl("000") == HttpAnswer(0, "")


def test_alertmanager_healthy_and_not() -> None:
    assert verdicts.alertmanager_healthy(verdicts.parse_curl(recorded("alertmanager.curl"))).status == Status.PASS
    assert (
        verdicts.alertmanager_healthy(HttpAnswer(503, "")).reason == "Alertmanager's /-/healthy answered 503: nothing"
    )
    assert verdicts.alertmanager_healthy(HttpAnswer(200, "<html>")).status == Status.FAIL


def test_the_agent_ok_degraded_frozen_or_mute() -> None:
    assert verdicts.agent_health(verdicts.parse_curl(recorded("agent-ok.curl"))) == verdicts.passed(
        "the agent is ok (BGP some_up)"
    )
    degraded = verdicts.agent_health(verdicts.parse_curl(recorded("agent-degraded.curl")))
    assert degraded.reason == "the agent is degraded: prometheus (unreachable (ConnectionError))"
    frozen = json.loads(verdicts.parse_curl(recorded("agent-ok.curl")).body) | {"frozen_runbooks": ["restart-bgp"]}
    outcome = verdicts.agent_health(HttpAnswer(200, json.dumps(frozen)))
    assert outcome.reason == "the agent's runbooks restart-bgp are frozen after a failed verification"
    assert "orion-agent clear restart-bgp" in outcome.advice
    stalled = frozen | {"frozen_runbooks": [], "status": "stalled", "stalled": ["probe"]}
    assert verdicts.agent_health(HttpAnswer(503, json.dumps(stalled))).reason == "the agent is stalled: probe"
    assert (
        verdicts.agent_health(HttpAnswer(502, "Bad Gateway")).reason == "the agent's /health answered 502: Bad Gateway"
    )


def test_grafana_health() -> None:
    url = "http://192.168.100.20:3000/api/health"
    # Grafana's /api/health as its HTTP API documents it.
    healthy = HttpAnswer(200, '{"commit": "087143285", "database": "ok", "version": "11.3.0"}')
    assert verdicts.grafana_health(healthy, url) == verdicts.passed(f"Grafana 11.3.0 answers at {url}, database ok")
    failing = HttpAnswer(503, '{"commit": "087143285", "database": "failing", "version": "11.3.0"}')
    assert verdicts.grafana_health(failing, url).status == Status.FAIL
    assert verdicts.grafana_health(HttpAnswer(200, "<html>login</html>"), url).status == Status.FAIL


# -- Proxmox's answers ------------------------------------------------------------------------------------------------

VMS = {100: "hack-sequoia-01", 200: "orion-router", 300: "orion-monitor"}


def qemu(**states: str) -> list[dict[str, object]]:
    """GET /nodes/NODE/qemu's list as Proxmox VE answers it (vmid, name, status, among other fields)."""
    names = {name: vm_id for vm_id, name in VMS.items()}
    return [{"vmid": names[name], "name": name, "status": status, "cpus": 2} for name, status in states.items()]


def test_vm_states_name_each_vm_not_running() -> None:
    body = json.dumps({"data": qemu(**{"orion-router": "running", "orion-monitor": "stopped"})})
    outcome = verdicts.vm_states("orion-pve", body, VMS)
    assert outcome.reason == (
        "2 of 3 VMs on orion-pve not running: hack-sequoia-01 (100) does not exist; orion-monitor (300) stopped"
    )
    running = json.dumps({"data": qemu(**dict.fromkeys(VMS.values(), "running"))})
    assert verdicts.vm_states("orion-pve", running, VMS).status == Status.PASS
    assert verdicts.vm_states("orion-pve", '{"data": null}', VMS).status == Status.FAIL
    assert verdicts.proxmox_version("orion-pve", "<html>").status == Status.FAIL


# -- the site -------------------------------------------------------------------------------------------------------


def test_the_site_reaches_each_vm_where_the_deploy_pinned_its_key(stack: OrionStack, tmp_path: Path) -> None:
    where = site(stack, TRUST, tmp_path)
    assert (where.router, where.monitor, where.admin_user) == ("192.168.1.1", "192.168.100.20", "orion")
    assert where.peers == PEERS
    assert where.targets == TARGETS
    assert where.internet == ("1.1.1.1", 853)
    assert (where.resolver, where.local_name, where.grafana) == (SERVER, NAME, "http://192.168.100.20:3000")
    assert where.nodes == [
        ProxmoxNode("orion-pve", "https://192.168.1.10:8006/", "node_ca", None, "", VMS | {}),
    ]
    unpinned = site(stack, {"ssh_known_hosts": [], "proxmox_api_ca": {}}, tmp_path)
    assert (unpinned.router, unpinned.monitor) == (None, None)


def test_the_anchor_comes_from_the_trust_output_else_from_orion_trust(stack: OrionStack, tmp_path: Path) -> None:
    (tmp_path / ".orion" / "trust").mkdir(parents=True)
    (tmp_path / ".orion" / "trust" / "orion-pve.pem").write_text("SAVED")
    assert site(stack, TRUST, tmp_path).nodes[0].anchor == "SAVED"
    recorded_one = {**TRUST, "proxmox_api_ca": {"orion-pve": "RECORDED"}}
    node = site(stack, recorded_one, tmp_path).nodes[0]
    assert (node.anchor, node.anchor_source) == ("RECORDED", "the stack's trust output")


@pytest.mark.parametrize(
    ("trust", "message"),
    [
        ("[secret]", "the stack's trust output: expected an object, got str"),
        ({"ssh_known_hosts": "192.168.1.1 ssh-ed25519 AAAA"}, "ssh_known_hosts must be a list of known_hosts lines"),
        ({"ssh_known_hosts": [], "proxmox_api_ca": ["pem"]}, "proxmox_api_ca must map each node to a PEM"),
    ],
)
def test_a_trust_output_of_another_shape_is_refused(stack: OrionStack, trust: object, message: str) -> None:
    with pytest.raises(SiteError, match=message):
        site(stack, trust, Path("/nonexistent"))


# -- the command ------------------------------------------------------------------------------------------------------


@pytest.fixture
def ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSsh:
    fake = fake_ssh(tmp_path)
    monkeypatch.setenv("PATH", f"{fake.directory}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("ORION_PROXMOX_TOKEN", raising=False)
    return fake


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"trust": TRUST}))
    return path


def run_verify(outputs: Path, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        verify, ["--stack-file", str(DEFAULT_STACK), "--outputs", str(outputs), *arguments], catch_exceptions=False
    )
    return result.exit_code, result.output


def checks_of(output: str) -> dict[str, str]:
    return {check["name"]: check["status"] for check in json.loads(output)["checks"]}


@pytest.mark.programs
def test_green_exits_0_and_every_ssh_call_pins_the_deploys_host_keys(ssh: FakeSsh, outputs: Path) -> None:
    code, output = run_verify(outputs, *OFF_THE_MACHINE, f"--skip-target={NOT_SCRAPED}", "--json")
    assert code == 0, output
    statuses = checks_of(output)
    assert {name for name, status in statuses.items() if status == "PASS"} == {
        "router-ssh", "bgp", "dns", "monitor-ssh", "prometheus-targets", "alertmanager", "agent", "lan-internet",
    }  # fmt: skip
    calls = ssh.calls()
    assert len(calls) == 8
    for call in calls:
        assert call["known_hosts"] == "".join(f"{line}\n" for line in TRUST["ssh_known_hosts"])
        assert call["args"][-2] in ("orion@192.168.1.1", "orion@192.168.100.20")  # type: ignore[index]


@pytest.mark.programs
def test_a_failure_exits_1_naming_the_check_with_what_to_do(ssh: FakeSsh, outputs: Path) -> None:
    ssh.set({"orion@192.168.1.1": "peer-down"})
    code, output = run_verify(outputs, *OFF_THE_MACHINE, f"--skip-target={NOT_SCRAPED}")
    assert code == 1
    lines = output.splitlines()
    bgp = next(index for index, line in enumerate(lines) if line.startswith("FAIL  bgp"))
    assert lines[bgp].endswith(
        "1 of 3 BGP sessions not Established: he-primary (he_primary): Active Socket: Connection closed"
    )
    assert lines[bgp + 1].strip().startswith("-> check the peer's side")
    assert lines[-1].startswith("7 passed, 1 failed, 3 skipped in ")
    assert "SKIP  grafana             skipped on request (--skip grafana)" in lines


@pytest.mark.programs
def test_a_killed_prometheus_fails_its_check_with_curls_reason(ssh: FakeSsh, outputs: Path) -> None:
    ssh.set({"orion@192.168.100.20": "prometheus-down"})
    code, output = run_verify(outputs, *OFF_THE_MACHINE, f"--skip-target={NOT_SCRAPED}", "--json")
    assert code == 1
    check = next(check for check in json.loads(output)["checks"] if check["name"] == "prometheus-targets")
    assert check["reason"] == (
        "prometheus does not answer on orion-monitor's 127.0.0.1:9090: curl: (7) Failed to connect to 127.0.0.1 "
        "port 9090 after 0 ms: Couldn't connect to server"
    )
    assert check["advice"] == "on orion-monitor: `systemctl status prometheus`, `journalctl -u prometheus`"


@pytest.mark.programs
@pytest.mark.parametrize(
    ("target", "mode", "check", "reason"),
    [
        (
            "orion@192.168.100.20",
            "no-internet",
            "lan-internet",
            "no connection from the LAN (orion-monitor) to 1.1.1.1:853 (the first DNS upstream) within ",
        ),
        ("orion@192.168.1.1", "no-dig", "dns", "dig on the router: bash: line 1: dig: command not found"),
    ],
)
def test_a_command_failing_on_a_vm_fails_its_check_with_the_reason(  # noqa: PLR0917 - pytest passes each
    ssh: FakeSsh, outputs: Path, target: str, mode: str, check: str, reason: str
) -> None:
    ssh.set({target: mode})
    code, output = run_verify(outputs, *OFF_THE_MACHINE, f"--skip-target={NOT_SCRAPED}", "--json")
    assert code == 1
    (failed,) = [found for found in json.loads(output)["checks"] if found["status"] == "FAIL"]
    assert failed["name"] == check
    assert failed["reason"].startswith(reason), failed


@pytest.mark.programs
def test_a_silent_host_costs_the_timeout_once_not_per_check(ssh: FakeSsh, outputs: Path) -> None:
    ssh.set({"*": "silent"})
    started = time.monotonic()
    code, output = run_verify(outputs, *OFF_THE_MACHINE, "--timeout=1", "--json")
    elapsed = time.monotonic() - started
    assert code == 1
    document = json.loads(output)
    over_ssh = [check for check in document["checks"] if check["status"] != "SKIP"]
    assert len(over_ssh) == 8
    assert {check["reason"] for check in over_ssh} == {"no answer within 1 s"}
    assert elapsed < 4, f"8 silent checks took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("mode", "reason", "advice"),
    [
        ("stranger", "SSH to orion-router (192.168.1.1): Host key verification failed.", "do not log in"),
        (
            "refused",
            "SSH to orion-router (192.168.1.1): ssh: connect to host 192.168.1.1 port 22: Connection refused",
            "is the VM running",
        ),
    ],
)
@pytest.mark.programs
def test_ssh_refusals_fail_every_check_on_that_host(
    ssh: FakeSsh, outputs: Path, mode: str, reason: str, advice: str
) -> None:
    ssh.set({"orion@192.168.1.1": mode})
    code, output = run_verify(outputs, *OFF_THE_MACHINE, f"--skip-target={NOT_SCRAPED}", "--json")
    assert code == 1
    failed = {check["name"]: check for check in json.loads(output)["checks"] if check["status"] == "FAIL"}
    assert set(failed) == {"router-ssh", "bgp", "dns"}
    assert {check["reason"] for check in failed.values()} == {reason}
    assert all(advice in check["advice"] for check in failed.values())


def test_no_pinned_key_fails_without_connecting(ssh: FakeSsh, tmp_path: Path) -> None:
    outputs = tmp_path / "unpinned.json"
    outputs.write_text(json.dumps({"trust": {"ssh_known_hosts": [], "proxmox_api_ca": {}}}))
    code, output = run_verify(outputs, *OFF_THE_MACHINE, "--json")
    assert code == 1
    reasons = {check["reason"] for check in json.loads(output)["checks"] if check["status"] == "FAIL"}
    assert reasons == {
        "the stack's trust output pins no SSH host key for orion-router",
        "the stack's trust output pins no SSH host key for orion-monitor",
    }
    assert ssh.calls() == []


@pytest.mark.programs
def test_proxmox_without_an_anchor_fails_before_any_connection(ssh: FakeSsh, outputs: Path) -> None:
    code, output = run_verify(outputs, "--skip=grafana", f"--skip-target={NOT_SCRAPED}", "--json")
    assert code == 1
    failed = {check["name"]: check["reason"] for check in json.loads(output)["checks"] if check["status"] == "FAIL"}
    assert failed == dict.fromkeys(
        ("proxmox-api", "vm-states"),
        "no trust anchor for orion-pve's API (not in the trust output, no orion-pve.pem in .orion/trust)",
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--skip=bogus"], "Invalid value for '--skip': 'bogus' is not a check (checks: proxmox-api, vm-states,"),
        (["--skip-target=node/nas"], "Invalid value for --skip-target: node/nas: not a scrape target of the stack"),
        (["--timeout=0"], "Invalid value for '--timeout': 0.0 is not in the range 1<=x<=300."),
    ],
)
def test_usage_errors_exit_2_naming_the_option(ssh: FakeSsh, outputs: Path, arguments: list[str], message: str) -> None:
    code, output = run_verify(outputs, *arguments)
    assert code == 2
    assert message in output
    assert ssh.calls() == []


def test_outputs_that_are_not_the_stacks_exit_2_naming_the_file(ssh: FakeSsh, tmp_path: Path) -> None:
    broken = tmp_path / "outputs.json"
    broken.write_text("{not json")
    code, output = run_verify(broken)
    assert code == 2
    assert f"{broken}: expected the JSON of `pulumi stack output --json`" in output
    broken.write_text('{"endpoints": {}}')
    assert f"{broken}: expected an object with the stack's `trust` output" in run_verify(broken)[1]
    broken.write_text('{"trust": "[secret]"}')
    assert "the stack's trust output: expected an object, got str" in run_verify(broken)[1]


def test_a_malformed_token_is_a_usage_error_that_never_shows_it(
    ssh: FakeSsh, outputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORION_PROXMOX_TOKEN", "hunter2-not-a-token")
    code, output = run_verify(outputs)
    assert code == 2
    assert "ORION_PROXMOX_TOKEN: expected USER@REALM!TOKENID=SECRET (the value is not shown)" in output
    assert "hunter2" not in output


@pytest.mark.programs
def test_it_runs_as_a_process_and_reaches_nothing_it_is_not_meant_to(ssh: FakeSsh, outputs: Path) -> None:
    """`python -c 'from orion_infra.cli_verify import verify; verify()'` in an empty network namespace (seal():
    unshare --net): Grafana, not skipped, finds no route; everything else answers through the fake ssh."""
    done = subprocess.run(
        [
            *seal(), sys.executable, "-c", "from orion_infra.cli_verify import verify; verify()",
            "--stack-file", str(DEFAULT_STACK), "--outputs", str(outputs), "--skip=proxmox-api", "--skip=vm-states",
            f"--skip-target={NOT_SCRAPED}", "--timeout=2",
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    grafana = next(line for line in lines if line.startswith("FAIL  grafana"))
    assert "Grafana does not answer at http://192.168.100.20:3000/api/health" in grafana
    assert lines[-1].startswith("8 passed, 1 failed, 2 skipped in ")


# -- Proxmox over HTTPS ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = self_signed_certificate(directory, "orion-pve")
    other, _ = self_signed_certificate(directory, "another-ca")
    return cert, key, other


@pytest.fixture
def api(certificates: tuple[Path, Path, Path]) -> Iterator[FakeProxmox]:
    cert, key, _ = certificates
    with fake_proxmox(cert, key, qemu(**dict.fromkeys(VMS.values(), "running"))) as running:
        yield running


def proxmox_verifier(
    stack: OrionStack, api: FakeProxmox, anchor: str | None, credential: Credential | None, verify_mode: str = "node_ca"
) -> Verifier:
    node = ProxmoxNode("orion-pve", api.url, verify_mode, anchor, "the stack's trust output" if anchor else "", VMS)
    where: Site = dataclasses.replace(site(stack, TRUST, Path("/nonexistent")), nodes=[node])
    return Verifier(where, Ssh("orion", Path("/dev/null"), None), lambda _node: (credential, "none given"))


def test_the_api_verified_against_the_nodes_anchor_gets_the_token(
    stack: OrionStack, api: FakeProxmox, certificates: tuple[Path, Path, Path]
) -> None:
    verifier = proxmox_verifier(stack, api, certificates[0].read_text(), ApiToken(api.token))
    assert verifier.proxmox_api(Budget(5)) == verdicts.passed("orion-pve's API answers (Proxmox VE 9.0.3)")
    assert verifier.vm_states(Budget(5)).status == Status.PASS
    assert api.seen == [
        ("GET", "/api2/json/version", f"PVEAPIToken={api.token}"),
        ("GET", "/api2/json/nodes/orion-pve/qemu", f"PVEAPIToken={api.token}"),
    ]


def test_root_password_logs_in_for_a_ticket(
    stack: OrionStack, api: FakeProxmox, certificates: tuple[Path, Path, Path]
) -> None:
    verifier = proxmox_verifier(stack, api, certificates[0].read_text(), RootPassword(api.root_password))
    assert verifier.vm_states(Budget(5)).status == Status.PASS
    assert [seen[:2] for seen in api.seen] == [
        ("POST", "/api2/json/access/ticket"),
        ("GET", "/api2/json/nodes/orion-pve/qemu"),
    ]
    wrong = proxmox_verifier(stack, api, certificates[0].read_text(), RootPassword("guess"))
    assert wrong.proxmox_api(Budget(5)).reason == "orion-pve's API refused the credential (401)"


def test_another_certificate_gets_nothing(
    stack: OrionStack, api: FakeProxmox, certificates: tuple[Path, Path, Path]
) -> None:
    """Verified against another anchor: the handshake fails, no request (and no credential) is ever written."""
    for credential in (ApiToken(api.token), RootPassword(api.root_password)):
        outcome = proxmox_verifier(stack, api, certificates[2].read_text(), credential).proxmox_api(Budget(5))
        assert outcome.status == Status.FAIL
        assert outcome.reason.startswith(
            "orion-pve's API certificate does not verify against the stack's trust output ("
        )
        assert outcome.reason.endswith("): nothing was sent")
    system = proxmox_verifier(stack, api, None, ApiToken(api.token), "system").proxmox_api(Budget(5))
    assert "does not verify against the system CAs" in system.reason
    assert api.seen == []


def test_insecure_or_no_credential_skips_without_connecting(stack: OrionStack, api: FakeProxmox) -> None:
    insecure = proxmox_verifier(stack, api, None, ApiToken(api.token), "insecure").proxmox_api(Budget(5))
    assert insecure.status == Status.SKIP
    assert "no credential is sent to it" in insecure.reason
    none = proxmox_verifier(stack, api, "PEM", None).vm_states(Budget(5))
    assert none == verdicts.skipped(
        "no credential for orion-pve's API: none given",
        "export ORION_PROXMOX_TOKEN=USER@REALM!NAME=SECRET (a token with PVEAuditor on /)",
    )
    assert api.seen == []


def test_a_dead_api_fails_within_the_budget(stack: OrionStack, certificates: tuple[Path, Path, Path]) -> None:
    dead = FakeProxmox(url="https://127.0.0.1:9/")
    outcome = proxmox_verifier(stack, dead, certificates[0].read_text(), ApiToken(dead.token)).proxmox_api(Budget(2))
    assert outcome.reason.startswith("orion-pve's API at https://127.0.0.1:9/ does not answer: ")


# -- through the Pulumi CLI -------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the default stack file in a project directory of its own."""
    stack_file = tmp_path / "project" / "Pulumi.orion.yaml"
    stack_file.parent.mkdir()
    stack_file.write_text(DEFAULT_STACK.read_text())
    return stack_file


@pytest.mark.programs
def test_without_outputs_the_trust_output_comes_through_the_pulumi_cli(
    ssh: FakeSsh, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulumi = fake_pulumi(tmp_path, project, outputs={"trust": TRUST})
    monkeypatch.setenv("PATH", f"{pulumi.path}{os.pathsep}{os.environ['PATH']}")
    arguments = ["--stack-file", str(project), *OFF_THE_MACHINE, f"--skip-target={NOT_SCRAPED}"]
    result = CliRunner().invoke(verify, arguments, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    where = ["--cwd", str(project.parent), "--stack", "orion"]
    # The Proxmox checks skipped: no secret is read.
    assert pulumi.calls() == [["stack", "output", "trust", "--json", *where]]
    assert len(ssh.calls()) == 8


@pytest.mark.programs
def test_before_the_first_pulumi_up_it_says_so(
    ssh: FakeSsh, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{fake_pulumi(tmp_path, project).path}{os.pathsep}{os.environ['PATH']}")
    result = CliRunner().invoke(verify, ["--stack-file", str(project)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output == "Error: the stack has no `trust` output yet: run `pulumi up` first\n"
    assert ssh.calls() == []


@pytest.mark.programs
def test_the_api_credential_is_the_token_else_roots_password_read_once(project: Path, tmp_path: Path) -> None:
    credentials = {"proxmox_root": {"orion-pve": "generated-root"}, "idrac_root": {}, "grafana_admin": "g"}
    pulumi = fake_pulumi(tmp_path, project, outputs={"credentials": credentials}, secret_outputs=["credentials"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{pulumi.path}{os.pathsep}{os.environ['PATH']}")
        token = credential_source("orion@pve!audit=x", StackCli(project))
        assert token("orion-pve") == (ApiToken("orion@pve!audit=x"), "")
        assert pulumi.calls() == []
        from_stack = credential_source(None, StackCli(project))
        assert from_stack("orion-pve") == (RootPassword("generated-root"), "")
        assert from_stack("orion-pve") == (RootPassword("generated-root"), "")
        assert from_stack("orion-pve2") == (
            None,
            "ORION_PROXMOX_TOKEN is not set and the stack holds no root password for orion-pve2",
        )
        assert [call[:5] for call in pulumi.calls()] == [["stack", "output", "credentials", "--json", "--show-secrets"]]
        assert credential_source(None, None)("orion-pve") == (
            None,
            "ORION_PROXMOX_TOKEN is not set (and --outputs gives no secret)",
        )


@pytest.mark.programs
def test_a_pulumi_cli_that_cannot_read_the_secret_gives_its_reason(project: Path, tmp_path: Path) -> None:
    reason = "error: getting stack configuration: passphrase must be set with PULUMI_CONFIG_PASSPHRASE"
    pulumi = fake_pulumi(tmp_path, project, error=reason)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{pulumi.path}{os.pathsep}{os.environ['PATH']}")
        credential, why = credential_source(None, StackCli(project))("orion-pve")
    assert credential is None
    assert why == f"the Pulumi CLI could not read the stack's output credentials: {reason}"


@pytest.mark.programs
def test_one_checks_fault_does_not_hide_the_others(ssh: FakeSsh, stack: OrionStack, tmp_path: Path) -> None:
    def broken(_node: str) -> tuple[Credential | None, str]:
        raise RuntimeError("credential store exploded")

    node = ProxmoxNode("orion-pve", "https://127.0.0.1:9/", "system", None, "", VMS)
    where = dataclasses.replace(site(stack, TRUST, tmp_path), nodes=[node])
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(where.known_hosts)
    results = run(Verifier(where, Ssh("orion", known_hosts, None), broken), ["proxmox-api", "router-ssh"], {}, 2)
    assert [(result.name, result.status, result.reason) for result in results] == [
        ("proxmox-api", Status.FAIL, "the check itself failed: RuntimeError: credential store exploded"),
        ("router-ssh", Status.PASS, "orion-router answers SSH at 192.168.1.1 with the host key the deploy made"),
    ]
