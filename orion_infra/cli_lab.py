"""`orion lab up | test | status | down`: the twin of the network in namespaces on this machine (needs root)."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from pathlib import Path

import click

from orion_infra.cli_common import load_or_exit, stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.lab.netns import LabError
from orion_infra.lab.twin import Twin

STATE = Path("/run/orion-lab")


def _twin(stack_file: Path) -> Twin:
    stack, _ = load_or_exit(stack_file)
    return Twin(stack, STATE)


@click.group(context_settings=HELP_CONTEXT)
def lab() -> None:
    """The ORION twin: the rendered configuration running with the real daemons in network namespaces."""


@lab.command()
@stack_file_option
def up(stack_file: Path) -> None:
    """Build the twin (replacing any previous one) and wait until BGP converges."""
    twin = _twin(stack_file)
    started = time.monotonic()
    try:
        twin.up()
    except LabError as error:
        twin.down()
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"lab up in {time.monotonic() - started:.1f} s; "
        f"BGP converged {twin.convergence_seconds:.1f} s after the router started"
    )


@lab.command()
@stack_file_option
def down(stack_file: Path) -> None:
    """Remove the twin: its namespaces, processes and files."""
    _twin(stack_file).down()
    click.echo("lab down")


@lab.command()
@stack_file_option
def status(stack_file: Path) -> None:
    """The twin at a glance: BGP sessions, DHCP leases, scrape targets."""
    twin = _twin(stack_file)
    try:
        sessions = twin.sessions()
    except LabError as error:
        click.echo(f"the lab is not up: {error}", err=True)
        raise SystemExit(1) from None
    for name, state in sessions.items():
        click.echo(f"bgp {name}: {state}")
    for address, hardware in sorted(twin.leases().items(), key=lambda lease: ipaddress.ip_address(lease[0])):
        click.echo(f"lease {address}: {hardware}")
    try:
        targets = twin.targets()
    except LabError as error:
        click.echo(f"targets: {error}")
    else:
        if not targets:
            click.echo("targets: none yet (Prometheus loads them within seconds of starting)")
        for target, health in sorted(targets.items()):
            click.echo(f"target {target}: {health}")


@lab.command(name="test", context_settings={"ignore_unknown_options": True})
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test_command(pytest_args: tuple[str, ...]) -> None:
    """Run the lab's tests (each builds its own twin, beside any `lab up` one); arguments go to pytest."""
    tests = Path(__file__).resolve().parents[1] / "tests" / "lab"
    if not tests.is_dir():
        click.echo(f"error: the lab's tests are not at {tests}: run this from a clone of the repository", err=True)
        raise SystemExit(2)
    done = subprocess.run([sys.executable, "-m", "pytest", str(tests), *pytest_args], cwd=tests.parents[1], check=False)
    raise SystemExit(done.returncode)
