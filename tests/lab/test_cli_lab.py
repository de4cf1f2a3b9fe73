"""`orion lab up | status | down | test` as an operator runs them: each twin known by its name, twins of different names
side by side, a twin taken down from what it holds whatever became of the stack file; and a renderer change proven
the way an operator tries one: a fourth upstream added to the stack file is configured on the router, admitted by its
firewall, and establishes."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from orion_infra.cli import main
from orion_infra.cli_lab import NO_TESTS, TEST_GROUPS, _combined
from orion_infra.lab import netns
from orion_infra.lab.site import Site
from orion_infra.lab.twin import Twin
from orion_infra.model import load_stack, read_stack_file
from tests.lab.stacks import lab_stack, new_twin

pytestmark = pytest.mark.own_twins

NAME = "cli"
TERTIARY = "max_prefixes: 10, password: {secret: bgpPasswordHeTertiary}}\n"
FOURTH = (
    "      - {name: he-fremont, address: 206.75.1.49, asn: 6939, role: tertiary, bfd: true,\n"
    "         max_prefixes: 10, password: {secret: bgpPasswordHeFremont}}\n"
)


def test_two_twins_side_by_side_one_down_leaves_the_other_intact() -> None:
    """Two small twins (their networks: namespaces, switch, upstream peers, the internet) of different names."""
    first, second = new_twin(lab_stack(), "sidea"), new_twin(lab_stack(), "sideb")
    try:
        first.up_network()
        held = first.site.namespaces()
        second.up_network()  # `up` replaces a twin of its own name only
        assert first.site.namespaces() == held
        kept = second.site.namespaces()
        speakers = {peer.name: second.speaker_pids(peer) for peer in second.stack.bgp.peers}
        assert len(kept) >= 8
        assert all(speakers.values())
        down = CliRunner().invoke(main, ["lab", "down", "--name", "sidea"])
        assert (down.exit_code, down.output) == (0, "lab sidea down\n")
        assert first.site.namespaces() == []
        assert not first.root.exists()
        assert second.site.namespaces() == kept
        assert {peer.name: second.speaker_pids(peer) for peer in second.stack.bgp.peers} == speakers
        assert "BIRD" in second.birdc(second.stack.bgp.peers[0].name, "show", "status")
    finally:
        first.down()
        second.down()
    assert second.site.namespaces() == []


def test_a_fourth_peer_tried_with_up_and_status_then_down_with_the_stack_file_broken(
    default_stack_file: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    stack_file = tmp_path / "Pulumi.orion.yaml"
    shutil.copyfile(default_stack_file, stack_file)
    text = stack_file.read_text()
    assert text.count(TERTIARY) == 1
    stack_file.write_text(text.replace(TERTIARY, TERTIARY + FOURTH))
    place = Site.named(NAME)
    try:
        up = runner.invoke(main, ["lab", "up", "--stack-file", str(stack_file), "--name", NAME])
        assert up.exit_code == 0, up.output
        assert up.stdout.startswith(f"lab {NAME} up in ")
        assert len(place.namespaces()) >= 9
        cli_twin = Twin.named(load_stack(read_stack_file(stack_file))[0], NAME)
        client = cli_twin.client("laptop", "lan")
        leased = cli_twin.dhcp_lease(client)
        hardware = netns.in_ns(client, "cat", "/sys/class/net/eth0/address").stdout.strip()
        status_command = ["lab", "status", "--name", NAME]
        deadline = time.monotonic() + 20
        while not (status := runner.invoke(main, status_command).stdout.splitlines())[-1].startswith("target "):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status[:5] == [
            "bgp he_primary: Established",
            "bgp he_secondary: Established",
            "bgp he_tertiary: Established",
            "bgp he_fremont: Established",
            f"lease {leased['ip']}: {hardware}",
        ]
        fourth = cli_twin.stack.bgp.peers[-1]
        assert fourth.name == "he-fremont"
        assert cli_twin.runs_frr(fourth)  # the last peer runs FRR: the new one talks to a second implementation
        assert cli_twin.peer_received(fourth) == {"2602:f674::/48"}
        assert "206.75.1.49" in netns.in_ns(cli_twin.router_ns, "nft", "list", "ruleset").stdout
        # Scrapes every 15 s here: right after `up`, targets may not have been scraped yet.
        targets = [line.split(": ", 1) for line in status[5:]]
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
    gone = runner.invoke(main, ["lab", "status", "--name", NAME])
    assert gone.exit_code == 1
    assert gone.stderr.startswith(f"Error: no twin named {NAME} is up (twins here: ")
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


def test_lab_test_runs_the_groups_at_once_each_on_its_own_twin() -> None:
    """Each test in exactly one group (the one its markers say), each group's pytest told its twin's name."""
    collected = CliRunner().invoke(
        main, ["lab", "test", "--collect-only", "-q", "-k", "guest_lease or leaking or dry_run or fourth_peer"]
    )
    assert collected.exit_code == 0, collected.output
    groups = collected.output.split("== ")[1:]
    headers = sorted(group.splitlines()[0].split(" after ")[0] for group in groups[:-1])
    assert headers == sorted(f"{name} tests (twin {twin}): pytest exit 0" for name, twin, _ in TEST_GROUPS)
    told = {group.splitlines()[0].split(" tests")[0]: group.splitlines()[1] for group in groups[:-1]}
    assert told == {name: f"shared lab twin: {twin}" for name, twin, _ in TEST_GROUPS}
    found = {
        group.splitlines()[0].split(" tests")[0]: [line for line in group.splitlines() if "::" in line]
        for group in groups[:-1]
    }
    assert found == {
        "observing": ["tests/lab/test_lan.py::test_a_guest_client_gets_a_guest_lease"],
        "breaking": ["tests/lab/test_router_policy.py::test_a_peer_leaking_routes_past_its_limit_loses_its_session"],
        "agent": ["tests/lab/test_agent.py::test_in_dry_run_the_agent_only_says_what_it_would_do"],
        "own twins": [
            "tests/lab/test_cli_lab.py::test_a_fourth_peer_tried_with_up_and_status_then_down_with_the_stack_file_broken"
        ],
    }


def test_one_exit_code_for_the_groups() -> None:
    assert _combined([0, NO_TESTS, 0, NO_TESTS]) == 0
    assert _combined([NO_TESTS] * 4) == NO_TESTS  # `-k nosuchtest`
    assert _combined([0, 1, NO_TESTS, 2]) == 1
    refused = CliRunner().invoke(main, ["lab", "test", "-m", "own_twins"])
    assert refused.exit_code == 2
    assert refused.stderr == "Error: -m: `orion lab test` selects its groups by marker; use -k to choose tests\n"
