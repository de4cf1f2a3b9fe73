"""What the `orion` commands share: the stack-file option, and loading it or exiting with its problems."""

from __future__ import annotations

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
