"""orion-trial, the router's safe activation, run for real: in a pair of network namespaces with nftables, a
ruleset that cuts the management channel is rolled back by itself within the bound; a confirmed one stays."""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orion_infra.lab import netns
from tests.render.checkers import require

TRIAL = Path(__file__).resolve().parents[2] / "nix" / "scripts" / "orion-trial"
ROUTER_ADDRESS = "10.99.0.1"
MANAGEMENT_PORT = 8022
TIMEOUT_SECONDS = 3

RULESET = """flush ruleset
table inet management {{
  chain input {{
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iifname "lo" accept
{allow}
  }}
}}
"""


@dataclass(frozen=True)
class Lab:
    router: str
    operator: str
    state: Path
    files: Path

    def on_router(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = ["env", f"ORION_TRIAL_DIR={self.state}"]
        return subprocess.run(
            ["ip", "netns", "exec", self.router, *env, *command],
            capture_output=True,
            text=True,
            check=check,
            timeout=30,
        )

    def management_answers(self) -> bool:
        probe = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.operator,
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "--max-time",
                "0.5",
                f"http://{ROUTER_ADDRESS}:{MANAGEMENT_PORT}/",
            ],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    def ruleset(self, name: str, *ports: int) -> Path:
        path = self.files / f"{name}.nft"
        allow = "\n".join(f"    tcp dport {port} accept" for port in ports)
        path.write_text(RULESET.format(allow=allow))
        return path

    def trial(self, apply: str, rollback: str, commit: str) -> subprocess.CompletedProcess[str]:
        return self.on_router("sh", str(TRIAL), "start", str(TIMEOUT_SECONDS), apply, rollback, commit, check=False)

    def status(self) -> str:
        return self.on_router("sh", str(TRIAL), "status").stdout.strip()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """Two namespaces joined by a veth pair, nothing else: no link to the host's network, no route out."""
    for program in ("ip", "nft", "curl", "flock", "setsid"):
        require(program)
    suffix = secrets.token_hex(3)
    router, operator = f"orion-trial-r-{suffix}", f"orion-trial-o-{suffix}"
    setup = [
        ["ip", "netns", "add", router],
        ["ip", "netns", "add", operator],
        ["ip", "-n", router, "link", "add", "mgmt", "type", "veth", "peer", "name", "uplink", "netns", operator],
        ["ip", "-n", router, "addr", "add", f"{ROUTER_ADDRESS}/24", "dev", "mgmt"],
        ["ip", "-n", operator, "addr", "add", "10.99.0.2/24", "dev", "uplink"],
        ["ip", "-n", router, "link", "set", "mgmt", "up"],
        ["ip", "-n", operator, "link", "set", "uplink", "up"],
        ["ip", "-n", router, "link", "set", "lo", "up"],
    ]
    for command in setup:
        subprocess.run(command, check=True, capture_output=True)
    files = tmp_path / "files"
    files.mkdir()
    lab = Lab(router, operator, tmp_path / "state", files)
    # The management channel: anything that answers on the port the operator confirms through.
    server = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            router,
            "python3",
            "-m",
            "http.server",
            str(MANAGEMENT_PORT),
            "--bind",
            ROUTER_ADDRESS,
            "--directory",
            str(files),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lab.on_router("nft", "-f", str(lab.ruleset("before", MANAGEMENT_PORT)))
    deadline = time.monotonic() + 10
    while not lab.management_answers() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield lab
    finally:
        server.terminate()
        server.wait(timeout=5)
        for namespace in (router, operator):
            netns.destroy(namespace)


def test_a_ruleset_that_cuts_management_is_rolled_back_within_the_bound(lab: Lab) -> None:
    assert lab.management_answers()
    before = lab.files / "before.nft"
    cut = lab.ruleset("cut")  # no management port: the operator can no longer confirm
    started = time.monotonic()
    applied = lab.trial(f"nft -f {cut}", f"nft -f {before}", "touch committed")
    assert applied.returncode == 0, applied.stderr
    assert not lab.management_answers()
    assert lab.status() == "trial"
    while not lab.management_answers():
        assert time.monotonic() - started < TIMEOUT_SECONDS + 3, "the cut ruleset was not rolled back in time"
        time.sleep(0.1)
    recovered = time.monotonic() - started
    assert TIMEOUT_SECONDS - 0.5 <= recovered <= TIMEOUT_SECONDS + 3
    # The watchdog records the rollback once it has finished it, a moment after the ruleset is back.
    deadline = time.monotonic() + 2
    while lab.status() != "rolled-back" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lab.status() == "rolled-back"
    assert not (lab.files / "committed").exists()


def test_a_confirmed_change_stays(lab: Lab) -> None:
    before = lab.files / "before.nft"
    wider = lab.ruleset("wider", MANAGEMENT_PORT, 9000)
    assert lab.trial(f"nft -f {wider}", f"nft -f {before}", f"touch {lab.files / 'committed'}").returncode == 0
    # The confirmation comes over the management channel, which still answers.
    assert lab.management_answers()
    assert lab.on_router("sh", str(TRIAL), "confirm").returncode == 0
    time.sleep(TIMEOUT_SECONDS + 1)
    assert lab.status() == "confirmed"
    assert (lab.files / "committed").exists()
    assert "dport 9000" in lab.on_router("nft", "list", "ruleset").stdout


def test_a_change_that_fails_to_apply_is_rolled_back_at_once(lab: Lab) -> None:
    before = lab.files / "before.nft"
    failed = lab.trial("nft -f /nonexistent.nft", f"nft -f {before}", "true")
    assert failed.returncode == 1
    assert "rolling back now" in failed.stderr
    assert lab.status() == "rolled-back"
    assert lab.management_answers()


def test_nothing_to_confirm_after_a_rollback(lab: Lab) -> None:
    before = lab.files / "before.nft"
    cut = lab.ruleset("cut")
    lab.trial(f"nft -f {cut}", f"nft -f {before}", "true")
    time.sleep(TIMEOUT_SECONDS + 1)
    late = lab.on_router("sh", str(TRIAL), "confirm", check=False)
    assert late.returncode == 1
    assert "nothing to confirm (state: rolled-back)" in late.stderr
