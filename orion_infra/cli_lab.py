"""`orion lab ...`: the twin of the network in namespaces on this machine (needs root)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from orion_infra.cli_common import load_or_exit, stack_file_option
from orion_infra.lab.netns import LabError
from orion_infra.lab.twin import Twin

STATE = Path("/run/orion-lab")


def _twin(stack_file: Path) -> Twin:
    stack, _ = load_or_exit(stack_file)
    return Twin(stack, STATE)


@click.group()
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
        converged = twin.wait_for_sessions(timeout=60)
    except LabError as error:
        twin.down()
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"lab up in {time.monotonic() - started:.1f} s; BGP converged {converged:.1f} s after the router started"
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
    """BGP sessions of the twin's router, at a glance."""
    twin = _twin(stack_file)
    try:
        sessions = twin.sessions()
    except LabError as error:
        click.echo(f"the lab is not up: {error}", err=True)
        raise SystemExit(1) from None
    for name, state in sessions.items():
        click.echo(f"bgp {name}: {state}")
