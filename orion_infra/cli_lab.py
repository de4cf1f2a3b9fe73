"""`orion lab up | test | status | down`: the twin of the network in namespaces on this machine (needs root)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from orion_infra.cli_common import load_or_exit, stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.lab import site
from orion_infra.lab.netns import LabError
from orion_infra.lab.site import DEFAULT_NAME, Site
from orion_infra.lab.twin import NOT_RUN, Twin


def _checked_name(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    try:
        return site.check_name(value)
    except ValueError as error:
        raise click.BadParameter(f"expected {site.NAME_RULE}, got {value!r}") from error


name_option = click.option(
    "--name",
    default=DEFAULT_NAME,
    show_default=True,
    callback=_checked_name,
    help="the twin's name: its namespaces are olab-NAME-*, its state /run/orion-lab/NAME; twins of other names "
    "run beside it untouched",
)


@click.group(context_settings=HELP_CONTEXT)
def lab() -> None:
    """The ORION twin: the rendered configuration running with the real daemons in network namespaces."""


@lab.command()
@stack_file_option
@name_option
def up(stack_file: Path, name: str) -> None:
    """Build the twin of this name (replacing any previous one of that name) and wait until BGP converges."""
    stack, _ = load_or_exit(stack_file)
    twin = Twin.named(stack, name)
    started = time.monotonic()
    try:
        twin.up()
    except LabError as error:
        twin.down()
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"lab {name} up in {time.monotonic() - started:.1f} s; "
        f"BGP converged {twin.convergence_seconds:.1f} s after the router started"
    )


@lab.command()
@name_option
def down(name: str) -> None:
    """Remove the twin of this name: its namespaces, processes and files (the stack file is not read)."""
    place = Site.named(name)
    if not place.exists():
        click.echo(f"lab {name}: nothing to remove")
        return
    place.remove()
    click.echo(f"lab {name} down")


@lab.command()
@name_option
def status(name: str) -> None:
    """The twin of this name at a glance: BGP sessions, DHCP leases, scrape targets (the stack file is not read)."""
    place = Site.named(name)
    if not place.exists():
        others = ", ".join(site.names()) or "none"
        click.echo(f"Error: no twin named {name} is up (twins here: {others})", err=True)
        raise SystemExit(1)
    try:
        sessions = place.sessions()
    except LabError as error:
        click.echo(f"Error: the lab {name} is not up: {error}", err=True)
        raise SystemExit(1) from None
    for session, state in sessions.items():
        click.echo(f"bgp {session}: {state}")
    for address, hardware in sorted(place.leases().items(), key=lambda lease: ipaddress.ip_address(lease[0])):
        click.echo(f"lease {address}: {hardware}")
    try:
        targets = place.targets()
    except LabError as error:
        click.echo(f"targets: {error}")
    else:
        if not targets:
            click.echo("targets: none yet (Prometheus loads them within seconds of starting)")
        for target, health in sorted(targets.items()):
            reason = NOT_RUN.get(target.split("/")[0])
            click.echo(f"target {target}: {health}" + (f" (not run in the lab: {reason})" if reason else ""))


# `orion lab test` runs the lab's tests as groups at once, each in a pytest of its own whose shared twin has its own
# name (tests/lab/conftest.py reads it from TEST_TWIN_VARIABLE): the tests that only observe a twin share one; those
# that break a twin (and restore it) get a fresh one; those that build twins of their own run beside both. A group
# mostly waits (timers, scrapes, BGP): together they take as long as the longest.
TEST_TWIN_VARIABLE = "ORION_LAB_TEST_TWIN"
TEST_GROUPS = (
    ("observing", "test", "not breaks_twin and not agent_acts and not own_twins"),
    ("breaking", "testb", "breaks_twin"),
    ("agent", "testc", "agent_acts"),
    ("own twins", "testd", "own_twins"),
)
# The groups' builds start together and are CPU-bound; the three shared twins hold up every other test of theirs,
# while the own-twins group has time to spare: it yields the CPU to them.
LOW_PRIORITY = {"own twins": 10}
# pytest's exit code when it collected nothing: a group that `-k` leaves empty.
NO_TESTS = 5


def _combined(codes: list[int]) -> int:
    """One exit code for the groups: the first failure's, else 0, or NO_TESTS when no group collected a test."""
    failures = [code for code in codes if code not in (0, NO_TESTS)]
    if failures:
        return failures[0]
    return NO_TESTS if all(code == NO_TESTS for code in codes) else 0


@lab.command(name="test", context_settings={"ignore_unknown_options": True})
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test_command(pytest_args: tuple[str, ...]) -> None:
    """Run the lab's tests, on twins of their own names (test, testb, ...) beside any `lab up` one, in groups at once
    (each group's output as it ends); arguments go to each group's pytest (not -m: the groups are markers)."""
    tests = Path(__file__).resolve().parents[1] / "tests" / "lab"
    if not tests.is_dir():
        click.echo(f"Error: the lab's tests are not at {tests}: run this from a clone of the repository", err=True)
        raise SystemExit(2)
    if any(argument.startswith("-m") for argument in pytest_args):
        click.echo("Error: -m: `orion lab test` selects its groups by marker; use -k to choose tests", err=True)
        raise SystemExit(2)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="orion-lab-test-") as outputs:
        running = []
        for group, twin_name, markers in TEST_GROUPS:
            output = (Path(outputs) / twin_name).open("w+")
            command = [sys.executable, "-m", "pytest", str(tests), "-m", markers, *pytest_args]
            environment = {**os.environ, TEST_TWIN_VARIABLE: twin_name}
            if group in LOW_PRIORITY:
                command = ["nice", "-n", str(LOW_PRIORITY[group]), *command]
            process = subprocess.Popen(
                command, cwd=tests.parents[1], env=environment, stdout=output, stderr=subprocess.STDOUT
            )
            running.append((group, twin_name, process, output))
        codes = []
        # Each group's output as soon as it ends, with how long it took.
        while running:
            for entry in [entry for entry in running if entry[2].poll() is not None]:
                group, twin_name, process, output = entry
                running.remove(entry)
                codes.append(process.returncode)
                output.seek(0)
                took = time.monotonic() - started
                click.echo(f"== {group} tests (twin {twin_name}): pytest exit {process.returncode} after {took:.1f} s")
                click.echo(output.read(), nl=False)
                output.close()
            time.sleep(0.1)
    click.echo(f"== lab tests: {len(TEST_GROUPS)} groups in {time.monotonic() - started:.1f} s")
    raise SystemExit(_combined(codes))
