"""`orion lab up | status | down` as an operator runs them."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from orion_infra.cli import main
from orion_infra.cli_lab import STATE
from orion_infra.lab import netns
from orion_infra.lab.twin import Twin
from orion_infra.model import load_stack, read_stack_file


def test_up_status_down(default_stack_file: Path) -> None:
    runner = CliRunner()
    stack = ["--stack-file", str(default_stack_file)]
    try:
        up = runner.invoke(main, ["lab", "up", *stack])
        assert up.exit_code == 0, up.output
        assert up.stdout.startswith("lab up in ")
        twin = Twin(load_stack(read_stack_file(default_stack_file))[0], STATE)
        client = twin.client("laptop", "lan")
        leased = twin.dhcp_lease(client)
        hardware = netns.in_ns(client, "cat", "/sys/class/net/eth0/address").stdout.strip()
        deadline = time.monotonic() + 20
        while not (status := runner.invoke(main, ["lab", "status", *stack]).stdout.splitlines())[-1].startswith(
            "target "
        ):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status[:4] == [
            "bgp he_primary: Established",
            "bgp he_secondary: Established",
            "bgp he_tertiary: Established",
            f"lease {leased['ip']}: {hardware}",
        ]
        # Scrapes every 15 s here: right after `up`, targets may not have been scraped yet.
        targets = [line.split(": ") for line in status[4:]]
        assert len(targets) == 9
        assert all(line.startswith("target ") and health in ("up", "down", "unknown") for line, health in targets)
    finally:
        down = runner.invoke(main, ["lab", "down", *stack])
    assert down.exit_code == 0
    assert netns.namespaces("olab-") == []
    assert runner.invoke(main, ["lab", "status", *stack]).exit_code == 1


def test_lab_test_runs_the_lab_tests() -> None:
    collected = CliRunner().invoke(main, ["lab", "test", "--collect-only", "-q"])
    # pytest runs in a child process: its output is not captured here, only its exit code.
    assert collected.exit_code == 0
    failing = CliRunner().invoke(main, ["lab", "test", "--collect-only", "-q", "-k", "nosuchtest"])
    assert failing.exit_code == 5  # pytest's "no tests collected"
