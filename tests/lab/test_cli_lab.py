"""`orion lab up | status | down` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from orion_infra.cli import main
from orion_infra.lab import netns


def test_up_status_down(default_stack_file: Path) -> None:
    runner = CliRunner()
    stack = ["--stack-file", str(default_stack_file)]
    try:
        up = runner.invoke(main, ["lab", "up", *stack])
        assert up.exit_code == 0, up.output
        assert up.stdout.startswith("lab up in ")
        status = runner.invoke(main, ["lab", "status", *stack])
        assert status.stdout.splitlines() == [
            "bgp he_primary: Established",
            "bgp he_secondary: Established",
            "bgp he_tertiary: Established",
        ]
    finally:
        down = runner.invoke(main, ["lab", "down", *stack])
    assert down.exit_code == 0
    assert netns.namespaces("olab-") == []
    assert runner.invoke(main, ["lab", "status", *stack]).exit_code == 1
