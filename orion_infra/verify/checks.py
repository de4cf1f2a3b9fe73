"""The checks of `orion verify`, each reaching its service as the operator can: SSH to the router and the monitoring VM
as the admin user, their host keys pinned to the ones the deploy made (StrictHostKeyChecking=yes, no other known_hosts
file); Grafana over the network; the Proxmox API over HTTPS verified as the deploy verifies it. They run
concurrently, each within its time, so a dead host costs seconds."""

from __future__ import annotations

import shlex
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from orion_infra.model import ports
from orion_infra.model.ports import ScrapeJob
from orion_infra.verify import verdicts
from orion_infra.verify.site import ProxmoxNode, Site
from orion_infra.verify.verdicts import Outcome, Status, failed, one_line, passed, skipped

CHECKS = (
    "proxmox-api",
    "vm-states",
    "router-ssh",
    "bgp",
    "dns",
    "monitor-ssh",
    "prometheus-targets",
    "alertmanager",
    "grafana",
    "agent",
    "lan-internet",
)
"""Every check, in the order they are reported."""

# curl on the monitoring VM: the body, then the status code on a line of its own (000 when nothing answered).
CURL = "curl -sS --max-time {seconds} -w '\\n%{{http_code}}' {url}"
# The systemd unit of each monitoring service on the VM (nix/modules), for the advice.
UNIT = {"prometheus": "prometheus", "alertmanager": "alertmanager", "agent": "orion-agent"}
# Between the two dig answers of the DNS check, which share one SSH connection.
DIG_SEPARATOR = "--- orion verify ---"


@dataclass(frozen=True)
class Result:
    name: str
    status: Status
    reason: str
    advice: str
    seconds: float


@dataclass(frozen=True)
class ApiToken:
    """A Proxmox API token, USER@REALM!NAME=SECRET."""

    value: str


@dataclass(frozen=True)
class RootPassword:
    """root@pam's password (the stack's `credentials` output, for a node ORION installed)."""

    value: str


Credential = ApiToken | RootPassword
CredentialSource = Callable[[str], tuple[Credential | None, str]]
"""A node's API credential, or None and why there is none."""


class Budget:
    """The time a check has left: every call it makes gets what remains, so the check as a whole keeps its time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._deadline = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.5, self._deadline - time.monotonic())


@dataclass(frozen=True)
class Ssh:
    """SSH as the operator: the admin user, the operator's key (`identity`, else ssh's own choice: its agent and
    config), the host key checked against the deploy's alone."""

    user: str
    known_hosts: Path
    identity: Path | None

    def run(self, address: str, command: str, budget: Budget) -> subprocess.CompletedProcess[str]:
        seconds = budget.left()
        identity = ["-i", str(self.identity), "-o", "IdentitiesOnly=yes"] if self.identity else []
        # ConnectTimeout a second short of the check's time: a hung host is then named in SSH's own words.
        argv = [
            "ssh", *identity,
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", f"ConnectTimeout={max(1, int(seconds) - 1)}", "-o", "LogLevel=ERROR",
            f"{self.user}@{address}", command,
        ]  # fmt: skip
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds, check=False, stdin=subprocess.DEVNULL
        )


def ssh_refused(done: subprocess.CompletedProcess[str], who: str) -> Outcome | None:
    """SSH's own failure (exit 255: no connection, a host key that is not the pinned one, a key refused), or None
    when the command ran."""
    if done.returncode != 255:
        return None
    said = done.stderr.strip().splitlines()
    reason = said[-1] if said else "exit 255"
    if "Host key verification failed" in done.stderr or "IDENTIFICATION HAS CHANGED" in done.stderr:
        advice = (
            "it does not hold the host key the deploy made for it: do not log in; if the VM was rebuilt, run "
            "`pulumi up` (which records its key) and verify again"
        )
    elif "Permission denied" in done.stderr:
        advice = "log in needs a key of access.authorized_keys: --identity FILE, or load it into ssh-agent"
    else:
        advice = "is the VM running (vm-states)? is this machine on the management network?"
    return failed(f"SSH to {who}: {one_line(reason)}", advice)


def _command_failed(done: subprocess.CompletedProcess[str], what: str, advice: str) -> Outcome:
    said = one_line(done.stderr) or one_line(done.stdout) or f"exit {done.returncode}"
    return failed(f"{what}: {said}", advice)


class Verifier:
    """The checks of one site. `ssh` reaches the VMs; `credentials` gives each Proxmox node's API credential."""

    def __init__(self, site: Site, ssh: Ssh, credentials: CredentialSource, skip_targets: Iterable[str] = ()) -> None:
        self.site = site
        self.ssh = ssh
        self.credentials = credentials
        self.skip_targets = tuple(skip_targets)
        """Scrape targets (job/host) left out of prometheus-targets."""

    def check(self, name: str) -> Callable[[Budget], Outcome]:
        methods: dict[str, Callable[[Budget], Outcome]] = {
            "proxmox-api": self.proxmox_api,
            "vm-states": self.vm_states,
            "router-ssh": self.router_ssh,
            "bgp": self.bgp,
            "dns": self.dns,
            "monitor-ssh": self.monitor_ssh,
            "prometheus-targets": self.prometheus_targets,
            "alertmanager": self.alertmanager,
            "grafana": self.grafana,
            "agent": self.agent,
            "lan-internet": self.lan_internet,
        }
        return methods[name]

    # -- over SSH -------------------------------------------------------------------------------------------------

    def _where(self, role: str) -> tuple[str, str | None]:
        if role == "router":
            return self.site.router_name, self.site.router
        return self.site.monitor_name, self.site.monitor

    def _on(self, role: str, command: str, budget: Budget) -> subprocess.CompletedProcess[str] | Outcome:
        """`command` run on the router or the monitoring VM; or, when it could not run there (no pinned key, SSH
        refused), the outcome that says so."""
        name, address = self._where(role)
        if address is None:
            return failed(
                f"the stack's trust output pins no SSH host key for {name}",
                "run `pulumi up`: it records the host keys the deploy made",
            )
        done = self.ssh.run(address, command, budget)
        return ssh_refused(done, f"{name} ({address})") or done

    def _reached(self, role: str, budget: Budget) -> Outcome:
        done = self._on(role, "true", budget)
        if isinstance(done, Outcome):
            return done
        name, address = self._where(role)
        if done.returncode != 0:
            return _command_failed(done, f"{name} ({address}) logged in but `true` failed", "check the admin account")
        return passed(f"{name} answers SSH at {address} with the host key the deploy made")

    def router_ssh(self, budget: Budget) -> Outcome:
        return self._reached("router", budget)

    def monitor_ssh(self, budget: Budget) -> Outcome:
        return self._reached("monitor", budget)

    def bgp(self, budget: Budget) -> Outcome:
        # As the deploy's health check reads it (router-health.sh): the admin user is in wheel, without a password.
        done = self._on("router", "sudo -n birdc show protocols", budget)
        if isinstance(done, Outcome):
            return done
        if done.returncode != 0:
            return _command_failed(
                done, "birdc on the router", "on the router: `systemctl status bird`, `journalctl -u bird`"
            )
        return verdicts.bgp_sessions(done.stdout, self.site.peers)

    def dns(self, budget: Budget) -> Outcome:
        server = shlex.quote(self.site.resolver)
        # A second try for the root: a cold resolver's first fetch through the TLS upstreams can outlast dig's wait.
        command = (
            f"dig +time=2 +tries=1 @{server} {shlex.quote(self.site.local_name)} A; echo {DIG_SEPARATOR!r}; "
            f"dig +dnssec +time=3 +tries=2 @{server} . SOA"
        )
        done = self._on("router", command, budget)
        if isinstance(done, Outcome):
            return done
        if done.returncode != 0 and not done.stdout.strip():
            # Not dig's answers (which it prints whatever it got) but the shell's: no dig on the router, say.
            return _command_failed(done, "dig on the router", "on the router: is dig (bind's tools) installed?")
        local, _, root = done.stdout.partition(DIG_SEPARATOR)
        return verdicts.dns_answers(local, root, self.site.local_name, self.site.resolver)

    def _monitor_http(self, service: ScrapeJob, path: str, budget: Budget) -> verdicts.HttpAnswer | Outcome:
        """GET `path` of a service on the monitoring VM's loopback, with curl on the VM."""
        port = ports.MONITOR_SERVICES[service]
        url = f"http://{ports.MONITOR_LOCAL_ADDRESS}:{port}{path}"
        done = self._on("monitor", CURL.format(seconds=max(1, int(budget.left()) - 1), url=shlex.quote(url)), budget)
        if isinstance(done, Outcome):
            return done
        if done.returncode != 0:
            return _command_failed(
                done,
                f"{service} does not answer on {self.site.monitor_name}'s {ports.MONITOR_LOCAL_ADDRESS}:{port}",
                f"on {self.site.monitor_name}: `systemctl status {UNIT[service]}`, `journalctl -u {UNIT[service]}`",
            )
        return verdicts.parse_curl(done.stdout)

    def prometheus_targets(self, budget: Budget) -> Outcome:
        answer = self._monitor_http("prometheus", "/api/v1/targets?state=active", budget)
        if isinstance(answer, Outcome):
            return answer
        return verdicts.prometheus_targets(answer.body, self.site.targets, self.skip_targets)

    def alertmanager(self, budget: Budget) -> Outcome:
        answer = self._monitor_http("alertmanager", "/-/healthy", budget)
        return answer if isinstance(answer, Outcome) else verdicts.alertmanager_healthy(answer)

    def agent(self, budget: Budget) -> Outcome:
        answer = self._monitor_http("agent", "/health", budget)
        return answer if isinstance(answer, Outcome) else verdicts.agent_health(answer)

    def lan_internet(self, budget: Budget) -> Outcome:
        """From the monitoring VM, which sits on the LAN: a TCP connection to an internet address the stack names
        (bash's /dev/tcp: nothing to install on the VM)."""
        address, port = self.site.internet
        seconds = max(1, int(budget.left()) - 2)
        probe = shlex.quote(f"exec 3<>/dev/tcp/{address}/{port}")
        done = self._on("monitor", f"timeout {seconds} bash -c {probe}", budget)
        if isinstance(done, Outcome):
            return done
        where = f"the LAN ({self.site.monitor_name}) to {address}:{port} (the first DNS upstream)"
        advice = "is the WAN up and NAT loaded? on the router: `nft list ruleset`, `ip route show default`"
        if done.returncode == 124:
            return failed(f"no connection from {where} within {seconds} s", advice)
        if done.returncode != 0:
            return _command_failed(done, f"no connection from {where}", advice)
        return passed(f"a connection from {where} opens: the LAN reaches the internet")

    # -- over the network -----------------------------------------------------------------------------------------

    def grafana(self, budget: Budget) -> Outcome:
        url = f"{self.site.grafana.rstrip('/')}/api/health"
        try:
            response = requests.get(url, timeout=budget.left(), allow_redirects=False)
        except requests.RequestException as error:
            return failed(
                f"Grafana does not answer at {url}: {one_line(str(error), 160)}",
                f"on {self.site.monitor_name}: `systemctl status grafana`",
            )
        return verdicts.grafana_health(verdicts.HttpAnswer(response.status_code, response.text), url)

    def proxmox_api(self, budget: Budget) -> Outcome:
        return self._each_node("/version", verdicts.proxmox_version, budget)

    def vm_states(self, budget: Budget) -> Outcome:
        return self._each_node(
            "/nodes/{node}/qemu", lambda node, body: verdicts.vm_states(node, body, self._node(node).vms), budget
        )

    def _node(self, name: str) -> ProxmoxNode:
        return next(node for node in self.site.nodes if node.node == name)

    def _each_node(self, path: str, verdict: Callable[[str, str], Outcome], budget: Budget) -> Outcome:
        outcomes = []
        for node in self.site.nodes:
            body = self._proxmox_get(node, path.format(node=node.node), budget)
            outcomes.append(body if isinstance(body, Outcome) else verdict(node.node, body))
        return _together(outcomes)

    def _usable(self, node: ProxmoxNode) -> Credential | Outcome:
        """The node's credential, once it is sure the API's certificate is checked; else why not."""
        if node.verify == "insecure":
            return skipped(
                f"{node.node}'s API certificate is not verified (tls.verify: insecure): no credential is sent to it",
                "set hosts[].proxmox.tls.verify: node_ca",
            )
        if node.verify == "node_ca" and node.anchor is None:
            return failed(
                f"no trust anchor for {node.node}'s API (not in the trust output, no {node.node}.pem in .orion/trust)",
                "run `orion trust` after `pulumi up`",
            )
        credential, why_not = self.credentials(node.node)
        if credential is None:
            return skipped(
                f"no credential for {node.node}'s API: {why_not}",
                "export ORION_PROXMOX_TOKEN=USER@REALM!NAME=SECRET (a token with PVEAuditor on /)",
            )
        return credential

    def _proxmox_get(self, node: ProxmoxNode, path: str, budget: Budget) -> str | Outcome:
        """GET the API's `path` with the node's credential, once its certificate verified; nothing is sent to an
        API whose certificate is not checked."""
        credential = self._usable(node)
        if isinstance(credential, Outcome):
            return credential
        base = node.api.rstrip("/") + "/api2/json"
        with tempfile.TemporaryDirectory(prefix="orion-verify-") as scratch, requests.Session() as session:
            # Given with each request: a session's own `verify` loses to REQUESTS_CA_BUNDLE (requests' merging).
            verify: str | bool = _system_anchors()
            if node.anchor is not None and node.verify == "node_ca":
                anchor = Path(scratch) / f"{node.node}.pem"
                anchor.write_text(node.anchor)
                verify = str(anchor)
            try:
                if isinstance(credential, ApiToken):
                    session.headers["Authorization"] = f"PVEAPIToken={credential.value}"
                else:
                    ticket = session.post(
                        f"{base}/access/ticket",
                        data={"username": "root@pam", "password": credential.value},
                        timeout=budget.left(),
                        allow_redirects=False,
                        verify=verify,
                    )
                    if ticket.status_code != 200:
                        return _refused(node, ticket.status_code)
                    session.cookies.set("PVEAuthCookie", ticket.json()["data"]["ticket"])
                response = session.get(f"{base}{path}", timeout=budget.left(), allow_redirects=False, verify=verify)
            except requests.exceptions.SSLError as error:
                return failed(
                    f"{node.node}'s API certificate does not verify against "
                    f"{node.anchor_source or 'the system CAs'} ({_tls_reason(error)}): nothing was sent",
                    "if the node was reinstalled, `pulumi up` records its new anchor; otherwise find out who answers",
                )
            except (requests.RequestException, ValueError, KeyError) as error:
                return failed(
                    f"{node.node}'s API at {node.api} does not answer: {one_line(str(error), 160)}",
                    f"on {node.node}: `systemctl status pveproxy`; is this machine on the management network?",
                )
        if response.status_code != 200:
            return _refused(node, response.status_code)
        return response.text


def _system_anchors() -> str | bool:
    """The system's CAs as OpenSSL finds them (SSL_CERT_FILE, SSL_CERT_DIR, else its defaults), as the deploy's Go
    client finds them; not the CA bundle shipped with requests."""
    paths = ssl.get_default_verify_paths()
    return paths.cafile or paths.capath or True


def _tls_reason(error: requests.exceptions.SSLError) -> str:
    """OpenSSL's words, out of the layers requests and urllib3 wrap them in."""
    text = str(error)
    for words in ("certificate verify failed", "hostname mismatch", "wrong version number"):
        if words in text:
            return one_line(text[text.index(words) :].split(" (_ssl", maxsplit=1)[0].rstrip("')\""), 120)
    return one_line(text, 120)


def _refused(node: ProxmoxNode, status: int) -> Outcome:
    if status == 401:
        return failed(
            f"{node.node}'s API refused the credential (401)",
            "check ORION_PROXMOX_TOKEN, or the stack's credentials output for root@pam",
        )
    return failed(f"{node.node}'s API answered {status}", "the token needs PVEAuditor (VM.Audit, Sys.Audit) on /")


def _together(outcomes: list[Outcome]) -> Outcome:
    """One outcome of several nodes': the worst, with every node's reason."""
    for status in (Status.FAIL, Status.SKIP, Status.PASS):
        matching = [outcome for outcome in outcomes if outcome.status == status]
        if matching:
            advice = next((outcome.advice for outcome in matching if outcome.advice), "")
            return Outcome(status, "; ".join(outcome.reason for outcome in matching), advice)
    return skipped("the stack has no Proxmox node")


def run(verifier: Verifier, names: Iterable[str], skip: dict[str, str], timeout: float) -> list[Result]:
    """Runs the checks `names` (those in `skip` reported skipped, with the reason given) concurrently, each within
    `timeout` seconds; results in the order of CHECKS."""

    def timed(name: str) -> Result:
        started = time.monotonic()
        try:
            outcome = verifier.check(name)(Budget(timeout))
        except subprocess.TimeoutExpired:
            outcome = failed(f"no answer within {timeout:g} s", "is the VM running (vm-states)? is its network up?")
        except OSError as error:  # ssh itself missing or not runnable
            outcome = failed(f"could not run the check: {error}", "install OpenSSH's client (ssh)")
        except Exception as error:  # noqa: BLE001 - one check's fault must not hide the other checks' results
            outcome = failed(f"the check itself failed: {type(error).__name__}: {one_line(str(error))}", "report it")
        return Result(name, outcome.status, outcome.reason, outcome.advice, round(time.monotonic() - started, 2))

    asked = set(names)
    wanted = [name for name in CHECKS if name in asked]
    to_run = [name for name in wanted if name not in skip]
    with ThreadPoolExecutor(max_workers=max(1, len(to_run))) as pool:
        running = {name: pool.submit(timed, name) for name in to_run}
        done = {name: future.result() for name, future in running.items()}
    return [done[name] if name in done else Result(name, Status.SKIP, skip[name], "", 0.0) for name in wanted]
