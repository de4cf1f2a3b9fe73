"""The options the `orion` commands share, in a module light enough for `orion --help` to import."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_STACK_FILE = Path("Pulumi.orion.yaml")

HELP_CONTEXT = {"help_option_names": ["-h", "--help"]}
"""Every command's context settings: `-h` as well as `--help`. Each command sets it itself, not only `orion`: click
keeps a command's help option from its first use, so a command first run on its own (as its tests run it) would
otherwise lose `-h` under `orion` too."""
STACK_FILE_HELP = "the Pulumi stack file"


def stack_file_default() -> Path:
    """`orion --stack-file F validate` as well as `orion validate --stack-file F`: the command's own option falls
    back on the one given before the command, then on the default."""
    given = click.get_current_context().find_root().params.get("stack_file")
    return given if isinstance(given, Path) else DEFAULT_STACK_FILE


stack_file_option = click.option(
    "--stack-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=stack_file_default,
    # click would print a computed default as "(dynamic)"; this is what it comes to.
    help=f"{STACK_FILE_HELP}  [default: orion's own --stack-file, else {DEFAULT_STACK_FILE}]",
)
"""The stack file option of a command."""

root_stack_file_option = click.option(
    "--stack-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=f"{STACK_FILE_HELP}, for the command that follows  [default: {DEFAULT_STACK_FILE}]",
)
"""The same option given to `orion` itself, before the command."""
