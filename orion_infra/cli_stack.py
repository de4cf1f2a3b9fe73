"""`orion validate` and `orion schema`: the stack file, checked and described."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orion_infra.cli_common import print_problems, stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.model import StackConfigError, load_stack, read_stack_file
from orion_infra.model.loading import located_warnings
from orion_infra.model.problems import StackProblem
from orion_infra.schema import stack_file_schema


@click.command(context_settings=HELP_CONTEXT)
@stack_file_option
@click.option("--require-secrets", is_flag=True, help="also fail when a referenced secret is not set yet")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="print {file, valid, problems, warnings}, each problem and warning as {path, line, column, message}, on "
    "stdout; the exit status is the same",
)
def validate(stack_file: Path, require_secrets: bool, as_json: bool) -> None:
    """Check a stack file; print one line per problem, with its file and line. Each reads
    `<file>:<line>: <field.path>: <message>`; the exit status is 1 when there is any problem (YAML syntax
    included), 2 for a usage error such as a stack file that does not exist."""
    try:
        raw = read_stack_file(stack_file)
        stack, warnings = load_stack(raw, require_secrets=require_secrets)
    except StackConfigError as error:
        if as_json:
            _print_json(stack_file, error.located, [])
        else:
            print_problems(stack_file, error)
        raise SystemExit(1) from None
    notes = located_warnings(raw, warnings)
    if as_json:
        _print_json(stack_file, [], notes)
        return
    for note in notes:
        click.echo(f"warning: {note.located()}", err=True)
    summary = f"{len(stack.hosts)} host(s), {len(stack.vms)} VMs, {len(stack.bgp.peers)} BGP peers"
    click.echo(f"{stack_file}: valid ({summary})")


def _print_json(stack_file: Path, problems: list[StackProblem], warnings: list[StackProblem]) -> None:
    report = {
        "file": str(stack_file),
        "valid": not problems,
        "problems": [problem.as_json() for problem in problems],
        "warnings": [warning.as_json() for warning in warnings],
    }
    click.echo(json.dumps(report, indent=2))


@click.command(context_settings=HELP_CONTEXT)
def schema() -> None:
    """Print the JSON Schema of the stack file, for editors."""
    click.echo(json.dumps(stack_file_schema(), indent=2))
