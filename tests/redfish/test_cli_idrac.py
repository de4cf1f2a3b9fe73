"""`orion idrac` as an operator runs it: the real command against a plain `sushy-emulator --fake` process,
and against the emulated iDRAC 8 for the rest."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from orion_infra.cli import main
from orion_infra.cli_idrac import current_password
from tests.fake_pulumi import fake_pulumi
from tests.redfish.conftest import FakeClock
from tests.redfish.emulator import RunningService

# The console script the project installs, as an operator runs it.
ORION = [str(Path(sys.executable).parent / "orion")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# `sushy-emulator --fake` as its console script runs it, with sushy's fake power delay (1-11 s, at random) fixed at
# 1 s: a process has no clock to share with the test.
EMULATOR = (
    "import sys; "
    "from sushy_tools.emulator.resources.systems import fakedriver; "
    "fakedriver.random.randint = lambda low, high: 1; "
    "from sushy_tools.emulator.main import main; "
    "sys.exit(main())"
)


@pytest.fixture
def sushy_emulator_process(tmp_path: Path) -> Iterator[str]:
    """`sushy-emulator --fake` with its own command line, a fresh state directory, in a process of its own."""
    port = free_port()
    config = tmp_path / "emulator.conf"
    config.write_text(f"SUSHY_EMULATOR_STATE_DIR = {str(tmp_path / 'state')!r}\n")
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR, "--fake", "--config", str(config), "-i", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def orion(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORION_IDRAC_PASSWORD": "calvin"}
    return subprocess.run([*ORION, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.mark.programs
def test_status_json_and_power_on_against_the_plain_emulator(sushy_emulator_process: str) -> None:
    target = [
        "idrac",
        "--endpoint",
        sushy_emulator_process,
        "--username",
        "root",
        "--insecure",
        "--json",
        "--poll-interval",
        "0.2",
    ]
    status = orion(*target, "status")
    assert status.returncode == 0, status.stderr
    facts = json.loads(status.stdout)
    assert {"power_state", "model", "service_tag", "bios_version", "idrac_firmware", "health"} <= set(facts)
    assert facts["health"] == "OK"
    powered = orion(*target, "power-on")
    assert powered.returncode == 0, powered.stderr
    assert json.loads(powered.stdout) == {"power_state": "On"}
    assert "waiting for On" in powered.stderr
    again = orion(*target, "status")
    assert json.loads(again.stdout)["power_state"] == "On"


def cli(idrac: RunningService, *args: str, password: str = "calvin") -> tuple[int, str, str]:
    """`orion idrac` in-process, on the test's clock (the `clock` fixture)."""
    result = CliRunner(env={"ORION_IDRAC_PASSWORD": password}).invoke(
        main, ["idrac", "--endpoint", idrac.url, "--username", "root", "--insecure", *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_media_and_power_through_the_cli(clock: FakeClock, idrac: RunningService, image_server: str) -> None:
    image = f"{image_server}/proxmox-ve.iso"
    assert cli(idrac, "insert-media", image)[:2] == (0, f"image: {image}\ninserted: yes\n")
    assert cli(idrac, "eject-media")[:2] == (0, "image: none\ninserted: no\n")
    assert cli(idrac, "power-on")[:2] == (0, "power state: On\n")
    assert cli(idrac, "reboot")[:2] == (0, "power state: On\n")
    assert cli(idrac, "power-off")[:2] == (0, "power state: Off\n")
    # Minutes of waiting at the default 5 s poll interval, on the test's clock.
    assert clock.slept
    assert set(clock.slept) == {5.0}


def test_status_reads_as_text_and_as_json(clock: FakeClock, idrac: RunningService) -> None:
    """Not Python reprs (`[{'name': 'PS1', ...}]`): one line per fact, one indented line per supply and sensor."""
    code, out, err = cli(idrac, "status")
    assert code == 0, err
    assert "{" not in out
    assert "'" not in out
    lines = out.splitlines()
    assert lines[:6] == [
        "model: PowerEdge R730",
        "service tag: CQ5QBM2",
        "bios version: 2.17.0",
        "idrac firmware: 2.86.86.86",
        "power state: Off",
        "health: OK",
    ]
    assert "power supplies:" in lines
    assert "  PS1: health OK, state Enabled, capacity watts 750" in lines
    assert "virtual cd: image none, inserted no" in lines
    code, out, _ = cli(idrac, "status", "--json")
    assert code == 0
    assert json.loads(out)["power_supplies"][0] == {
        "name": "PS1",
        "health": "OK",
        "state": "Enabled",
        "capacity_watts": 750,
    }


def test_status_and_media_read_each_resource_once(clock: FakeClock, idrac: RunningService) -> None:
    """An iDRAC 8 takes seconds per GET: status read the system five times, the root and the manager twice, the
    virtual CD twice (16 requests for 9 resources); eject-media read the CD twice before acting."""
    assert idrac.layer is not None
    assert cli(idrac, "status")[0] == 0
    status = [(seen.method, seen.path) for seen in idrac.layer.seen]
    assert len(status) == len(set(status)) == 9, status
    assert cli(idrac, "eject-media")[0] == 0
    eject = [(seen.method, seen.path) for seen in idrac.layer.seen[len(status) :]]
    assert len(eject) == len(set(eject)) == 6, eject


def test_a_failure_exits_1_with_the_reason(clock: FakeClock, idrac: RunningService) -> None:
    code, _, err = cli(idrac, "status", password="wrong")
    assert code == 1
    assert "HTTP 401: Authentication failed. (RAC0178)" in err


def test_usage_errors_exit_2(idrac: RunningService, tmp_path: Path, default_stack_file: Path) -> None:
    runner = CliRunner(env={"ORION_IDRAC_PASSWORD": "calvin"})
    missing = runner.invoke(main, ["idrac", "--stack-file", str(tmp_path / "none.yaml"), "status"])
    assert missing.exit_code == 2
    assert "give --endpoint and --username" in missing.stderr
    both = runner.invoke(
        main, ["idrac", "--endpoint", idrac.url, "--username", "root", "--insecure", "--pin-sha256", "ab", "status"]
    )
    assert both.exit_code == 2
    no_host = runner.invoke(main, ["idrac", "--stack-file", str(default_stack_file), "--host", "nope", "status"])
    assert no_host.exit_code == 2
    assert "no host 'nope'" in no_host.stderr
    no_password = CliRunner(env={"ORION_IDRAC_PASSWORD": None, "PATH": ""}).invoke(
        main, ["idrac", "--endpoint", idrac.url, "--username", "root", "--insecure", "status"]
    )
    assert no_password.exit_code == 2
    assert "set ORION_IDRAC_PASSWORD" in no_password.stderr


FACTORY = {"idracPassword": "calvin"}


@pytest.mark.programs
def test_the_password_comes_from_the_rotation_once_there_was_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORION_IDRAC_PASSWORD", raising=False)
    stack_file = tmp_path / "project" / "Pulumi.orion.yaml"
    rotated = {"idrac_root": {"orion-pve": "Rotated-Pw1"}}
    # The factory password is the stack's secret, rotated away by the first `pulumi up`; the rotated one is in the
    # secret `credentials` output, which only --show-secrets reveals.
    pulumi = fake_pulumi(
        tmp_path, stack_file, outputs={"credentials": rotated}, secret_outputs=["credentials"], config=FACTORY
    )
    monkeypatch.setenv("PATH", pulumi.path)
    assert current_password("idracPassword", "orion-pve", stack_file) == "Rotated-Pw1"
    # Before the first `pulumi up` there is no output yet: the stack's secret is the password in force.
    assert current_password("idracPassword", "orion-pve2", stack_file) == "calvin"
    where = ["--cwd", str(stack_file.parent), "--stack", "orion"]
    assert pulumi.calls() == [
        ["stack", "output", "credentials", "--json", "--show-secrets", *where],
        ["stack", "output", "credentials", "--json", "--show-secrets", *where],
        ["config", "get", "idracPassword", *where],
    ]


@pytest.mark.programs
def test_before_the_first_up_the_password_is_the_stack_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORION_IDRAC_PASSWORD", raising=False)
    stack_file = tmp_path / "Pulumi.orion.yaml"
    monkeypatch.setenv("PATH", fake_pulumi(tmp_path, stack_file, config=FACTORY).path)
    assert current_password("idracPassword", "orion-pve", stack_file) == "calvin"


@pytest.mark.parametrize("cli", ["missing", "failing"])
@pytest.mark.programs
def test_a_cli_that_cannot_answer_is_named_not_taken_for_no_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: str
) -> None:
    """No CLI, or one that fails (no passphrase), is the operator's problem to fix, with its reason: not "no
    rotation yet" (the factory password would then be tried against a rotated iDRAC)."""
    monkeypatch.delenv("ORION_IDRAC_PASSWORD", raising=False)
    stack_file = tmp_path / "Pulumi.orion.yaml"
    reason = "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"
    if cli == "missing":
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    else:
        monkeypatch.setenv("PATH", fake_pulumi(tmp_path, stack_file, config=FACTORY, error=reason).path)
    with pytest.raises(click.ClickException) as refused:
        current_password("idracPassword", "orion-pve", stack_file)
    assert refused.value.exit_code == 2
    both_ways = (
        "the iDRAC's password: set ORION_IDRAC_PASSWORD, or make the Pulumi CLI able to read the stack's outputs "
        "(install it, log in, and set the passphrase if the stack has one): "
    )
    if cli == "missing":
        assert refused.value.message == both_ways + (
            "the stack's output credentials needs the Pulumi CLI (`pulumi`), which is not installed (not on PATH)"
        )
    else:
        assert (
            refused.value.message
            == f"{both_ways}the Pulumi CLI could not read the stack's output credentials: {reason}"
        )
