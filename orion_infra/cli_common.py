"""What the `orion` commands share: the stack-file option, and loading it or exiting with its problems."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import click

from orion_infra.model import OrionStack, StackConfigError, load_stack, read_stack_file

stack_file_option = click.option(
    "--stack-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("Pulumi.orion.yaml"),
    show_default=True,
    help="the Pulumi stack file",
)


def load_or_exit(stack_file: Path, *, require_secrets: bool = False) -> tuple[OrionStack, list[str]]:
    """The validated stack, or exit 1 after printing one line per problem."""
    try:
        return load_stack(read_stack_file(stack_file), require_secrets=require_secrets)
    except StackConfigError as error:
        for line in error.problems:
            click.echo(line, err=True)
        click.echo(f"{stack_file}: {len(error.problems)} problem(s)", err=True)
        raise SystemExit(1) from None


def stack_output(name: str, stack: str | None = None) -> object:
    """The output `name` of `stack` (the selected one by default) as the Pulumi CLI reports it, run in the project
    directory; None when there is no CLI, no stack or no such output."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    selected = ["--stack", stack] if stack else []
    done = subprocess.run(
        [pulumi, "stack", "output", name, "--json", *selected], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None
