"""`orion lab up | status | down` as an operator runs them: each twin known by its name, beside twins of other names
(here the lab's own test twin), and taken down from what it holds, whatever became of the stack file."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from click.testing import CliRunner

from orion_infra.cli import main
from orion_infra.lab import netns
from orion_infra.lab.site import Site
from orion_infra.lab.twin import Twin
from orion_infra.model import load_stack, read_stack_file

NAME = "cli"


def test_up_status_and_down_with_a_broken_stack_file_beside_another_twin(
    twin: Twin, default_stack_file: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    stack_file = tmp_path / "Pulumi.orion.yaml"
    shutil.copyfile(default_stack_file, stack_file)
    place = Site.named(NAME)
    beside = twin.site.namespaces()
    try:
        up = runner.invoke(main, ["lab", "up", "--stack-file", str(stack_file), "--name", NAME])
        assert up.exit_code == 0, up.output
        assert up.stdout.startswith(f"lab {NAME} up in ")
        assert len(place.namespaces()) >= 8
        assert twin.site.namespaces() == beside
        cli_twin = Twin.named(load_stack(read_stack_file(stack_file))[0], NAME)
        client = cli_twin.client("laptop", "lan")
        leased = cli_twin.dhcp_lease(client)
        hardware = netns.in_ns(client, "cat", "/sys/class/net/eth0/address").stdout.strip()
        status_command = ["lab", "status", "--name", NAME]
        deadline = time.monotonic() + 20
        while not (status := runner.invoke(main, status_command).stdout.splitlines())[-1].startswith("target "):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status[:4] == [
            "bgp he_primary: Established",
            "bgp he_secondary: Established",
            "bgp he_tertiary: Established",
            f"lease {leased['ip']}: {hardware}",
        ]
        # Scrapes every 15 s here: right after `up`, targets may not have been scraped yet.
        targets = [line.split(": ", 1) for line in status[4:]]
        assert len(targets) == 9
        assert all(
            line.startswith("target ") and health.split()[0] in ("up", "down", "unknown") for line, health in targets
        )
        unbound = next(health for line, health in targets if line == "target unbound/orion-router")
        assert "(not run in the lab: " in unbound
        # What an operator may have done since `up`: the stack file no longer parses. `down` does not read it.
        stack_file.write_text("config:\n  orion:bgp: [never closed\n")
    finally:
        down = runner.invoke(main, ["lab", "down", "--name", NAME])
    assert (down.exit_code, down.output) == (0, f"lab {NAME} down\n")
    assert place.namespaces() == []
    assert not place.root.exists()
    # The twin of another name is as it was.
    assert twin.site.namespaces() == beside
    assert set(twin.sessions().values()) == {"Established"}
    gone = runner.invoke(main, ["lab", "status", "--name", NAME])
    assert gone.exit_code == 1
    assert gone.stderr.startswith(f"error: no twin named {NAME} is up (twins here: ")
    again = runner.invoke(main, ["lab", "down", "--name", NAME])
    assert (again.exit_code, again.output) == (0, f"lab {NAME}: nothing to remove\n")


def test_a_name_that_could_reach_another_twins_namespaces_is_refused() -> None:
    """A hyphen would let twin "a" take "a-b"'s namespaces (olab-a-b-*) for its own."""
    for command in ("up", "down", "status"):
        refused = CliRunner().invoke(main, ["lab", command, "--name", "test-b"])
        assert refused.exit_code == 2, refused.output
        assert (
            "Invalid value for '--name': expected a lowercase letter, then up to 11 lowercase letters or digits, got 'test-b'"
            in refused.stderr
        )


def test_lab_test_runs_the_lab_tests() -> None:
    collected = CliRunner().invoke(main, ["lab", "test", "--collect-only", "-q"])
    # pytest runs in a child process: its output is not captured here, only its exit code.
    assert collected.exit_code == 0
    failing = CliRunner().invoke(main, ["lab", "test", "--collect-only", "-q", "-k", "nosuchtest"])
    assert failing.exit_code == 5  # pytest's "no tests collected"
