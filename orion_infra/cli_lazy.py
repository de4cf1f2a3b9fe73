"""A click group whose subcommands are imported only when one is run (click's "LazyGroup" pattern).

Each command brings its own imports (Pulumi, requests, Jinja, the agent): loading all of them to print `--help` or
to validate a file cost most of a second. The group's help lists each command's summary from the registry instead,
so `orion --help` imports no command at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives and what `orion --help` says of it."""

    target: str
    """`package.module:attribute`, imported when the command runs."""
    summary: str
    """The command's short help, as click derives it from its docstring (a test keeps the two equal)."""

    def load(self) -> click.Command:
        module_name, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A group whose commands are a registry of `LazyCommand`s, each imported on first use."""

    def __init__(self, name: str | None = None, *, registry: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.registry = dict(registry)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.registry})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.registry and cmd_name not in self.commands:
            self.add_command(self.registry[cmd_name].load(), name=cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # A stand-in with the registered summary as its help shortens exactly as the real command's help would.
        rows = [
            (name, self.commands.get(name) or click.Command(name, help=self.registry[name].summary))
            for name in self.list_commands(ctx)
        ]
        visible = [(name, command) for name, command in rows if not command.hidden]
        if not visible:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in visible)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in visible])
