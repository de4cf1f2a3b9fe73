"""What the `orion` commands share: the stack-file option, and loading it or exiting with its problems."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click

from orion_infra.model import OrionStack, StackConfigError, load_stack, read_stack_file

DEFAULT_STACK_FILE = Path("Pulumi.orion.yaml")
stack_file_option = click.option(
    "--stack-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_STACK_FILE,
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


@dataclass(frozen=True)
class StackCli:
    """The Pulumi CLI, run for the stack whose file is `stack_file`: in that file's directory and, for a file named
    Pulumi.<stack>.yaml, on that stack, whatever the current directory and the selected stack are."""

    stack_file: Path

    def run(self, *arguments: str) -> subprocess.CompletedProcess[str] | None:
        """`pulumi ARGUMENTS`; None when the CLI is not installed."""
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            return None
        name = self.stack_file.name
        stack = ["--stack", name[len("Pulumi.") : -len(".yaml")]] if name.startswith("Pulumi.") else []
        where = ["--cwd", str(self.stack_file.resolve().parent)]
        return subprocess.run([pulumi, *arguments, *where, *stack], capture_output=True, text=True, check=False)

    def output(self, name: str, *, show_secrets: bool = False) -> object:
        """The stack's output `name`; None when there is no CLI, no stack or no such output."""
        done = self.run("stack", "output", name, "--json", *(["--show-secrets"] if show_secrets else []))
        if done is None or done.returncode != 0:
            return None
        try:
            return json.loads(done.stdout)
        except ValueError:
            return None

    def config_secret(self, key: str) -> str:
        """The value of the stack's secret `key`; raises UsageError with the CLI's own reason when it cannot."""
        done = self.run("config", "get", key)
        if done is None:
            raise click.UsageError(f"the stack's secret {key} needs the Pulumi CLI, which is not installed")
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise click.UsageError(f"the Pulumi CLI could not read the stack's secret {key}: {reason}")
        return done.stdout.rstrip("\n")
