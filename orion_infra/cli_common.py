"""What the `orion` commands share: the stack-file option, and loading it or exiting with its problems."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import click

from orion_infra.cli_options import DEFAULT_STACK_FILE, stack_file_option
from orion_infra.model import OrionStack, StackConfigError, load_stack, read_stack_file

__all__ = [
    "DEFAULT_STACK_FILE",
    "MISSING_OUTPUT",
    "StackCli",
    "cli_reason",
    "load_or_exit",
    "print_problems",
    "stack_file_option",
]


def load_or_exit(stack_file: Path, *, require_secrets: bool = False) -> tuple[OrionStack, list[str]]:
    """The validated stack, or exit 1 after printing one line per problem."""
    try:
        return load_stack(read_stack_file(stack_file), require_secrets=require_secrets)
    except StackConfigError as error:
        print_problems(stack_file, error)
        raise SystemExit(1) from None


def print_problems(stack_file: Path, error: StackConfigError) -> None:
    """One `<file>:<line>: <field.path>: <message>` line per problem on stderr, then how many there are."""
    for problem in error.located:
        click.echo(problem.located(), err=True)
    click.echo(f"{stack_file}: {len(error.located)} problem(s)", err=True)


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
        """The stack's output `name`, None when the stack has no such output (before the `pulumi up` that exports
        it). Raises UsageError, with the CLI's own reason, when the CLI is not installed or fails otherwise (no
        such stack, no passphrase for a secret output, ...)."""
        what = f"the stack's output {name}"
        done = self._run_or_refuse(
            what, "stack", "output", name, "--json", *(["--show-secrets"] if show_secrets else [])
        )
        if done.returncode != 0:
            if MISSING_OUTPUT in done.stderr:
                return None
            raise click.UsageError(f"the Pulumi CLI could not read {what}: {cli_reason(done)}")
        try:
            return json.loads(done.stdout)
        except ValueError:
            # Not quoted: a secret output's value may be in it.
            raise click.UsageError(f"the Pulumi CLI printed no JSON for {what}") from None

    def config_secret(self, key: str) -> str:
        """The value of the stack's secret `key`; raises UsageError with the CLI's own reason when it cannot."""
        what = f"the stack's secret {key}"
        done = self._run_or_refuse(what, "config", "get", key)
        if done.returncode != 0:
            raise click.UsageError(f"the Pulumi CLI could not read {what}: {cli_reason(done)}")
        return done.stdout.rstrip("\n")

    def _run_or_refuse(self, what: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        done = self.run(*arguments)
        if done is None:
            raise click.UsageError(f"{what} needs the Pulumi CLI (`pulumi`), which is not installed (not on PATH)")
        return done


# The Pulumi CLI's words (exit 1) for an output the stack does not have, as before the `pulumi up` that exports it.
MISSING_OUTPUT = "current stack does not have output property"


def cli_reason(done: subprocess.CompletedProcess[str]) -> str:
    """Why the Pulumi CLI failed, in its own words: the last line it wrote to stderr, else its exit status."""
    lines = done.stderr.strip().splitlines()
    return lines[-1].strip() if lines else f"exit {done.returncode}"
