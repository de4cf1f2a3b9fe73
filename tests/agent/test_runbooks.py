from __future__ import annotations

import json
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from orion_agent.audit import AuditLog
from orion_agent.checks import bgp_view
from orion_agent.runbooks import CommandResult, RestartBgp, RunbookEngine, Situation, StateStore, SubprocessRunner
from orion_agent.settings import Remediation
from orion_agent.sources import BirdScrape
from tests.agent.conftest import ALL_DOWN, ONE_UP, FakeClock, RecordingRunner

ARGV = ["restart-bgp-for-test"]


class Harness:
    """A restart-bgp engine on a fake clock; `escalations` holds what humans were told."""

    def __init__(self, tmp_path: Path, runner: Any = None, argv: Sequence[str] = ARGV, **guard: Any) -> None:
        self.tmp_path = tmp_path
        self.argv = argv
        self.clock = FakeClock()
        self.runner = runner or RecordingRunner()
        self.escalations: list[tuple[str, str]] = []
        values = {"dry_run": False, "cooldown_seconds": 600, "budget_per_hour": 2, "verify_timeout_seconds": 120}
        self.guard = Remediation(**(values | guard))
        self.audit = AuditLog(tmp_path / "audit.jsonl", self.clock)
        self.engine = self.build()

    def build(self) -> RunbookEngine:
        return RunbookEngine(
            [RestartBgp(self.argv, confirm_probes=3)],
            guard=self.guard,
            runner=self.runner,
            audit=self.audit,
            escalate=lambda name, summary: self.escalations.append((name, summary)),
            store=StateStore(self.tmp_path / "runbooks.json"),
            clock=self.clock,
        )

    def probe(self, scrape: BirdScrape | None, streak: int = 3, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.engine.evaluate(Situation(bgp_view(scrape, "timeout"), streak))

    def events(self) -> list[str]:
        return [entry["event"] for entry in self.audit.read()]


def test_no_action_while_the_precondition_does_not_hold(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    harness.probe(ONE_UP, streak=0)
    harness.probe(ALL_DOWN, streak=2)  # not yet confirmed
    harness.probe(None, streak=0)  # missing data is never a reason to act
    harness.probe(BirdScrape(bird_reachable=False), streak=0)
    assert harness.runner.calls == []
    assert harness.events() == []


def test_a_confirmed_all_down_acts_then_verifies(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    harness.probe(ALL_DOWN)
    assert harness.runner.calls == [ARGV]
    harness.probe(ALL_DOWN)
    harness.probe(ONE_UP, streak=0)
    assert harness.events() == ["acting", "command_finished", "verifying", "verified"]
    acting = harness.audit.read()[0]
    assert acting["command"] == ARGV
    assert acting["reason"] == "all 2 BGP sessions (backup, transit) down for 3 probes"
    assert acting["dry_run"] is False
    assert harness.escalations == []


def test_the_cooldown_holds_a_second_action(tmp_path: Path) -> None:
    harness = Harness(tmp_path, cooldown_seconds=600)
    harness.probe(ALL_DOWN)
    harness.probe(ONE_UP, streak=0)
    harness.probe(ALL_DOWN, seconds=300)
    harness.probe(ALL_DOWN)  # still held: audited once, not every probe
    assert len(harness.runner.calls) == 1
    assert harness.events()[-1] == "held_cooldown"
    assert harness.events().count("held_cooldown") == 1
    harness.probe(ALL_DOWN, seconds=300)
    assert len(harness.runner.calls) == 2


def test_the_hourly_budget_holds_and_escalates_once(tmp_path: Path) -> None:
    harness = Harness(tmp_path, cooldown_seconds=0, budget_per_hour=2)
    for _ in range(2):
        harness.probe(ALL_DOWN)
        harness.probe(ONE_UP, streak=0)
    harness.probe(ALL_DOWN)
    harness.probe(ALL_DOWN)
    assert len(harness.runner.calls) == 2
    assert harness.events().count("held_budget") == 1
    assert harness.escalations == [
        ("restart-bgp", "restart-bgp: hourly budget of 2 spent; all 2 BGP sessions (backup, transit) down for 3 probes")
    ]
    harness.probe(ALL_DOWN, seconds=3600)
    assert len(harness.runner.calls) == 3


def test_a_failed_verification_freezes_escalates_and_does_not_repeat(tmp_path: Path) -> None:
    harness = Harness(tmp_path, cooldown_seconds=0, verify_timeout_seconds=120)
    harness.probe(ALL_DOWN)
    harness.probe(None, streak=0, seconds=60)  # missing data during verification proves nothing
    harness.probe(ALL_DOWN, seconds=61)
    assert harness.engine.status()["restart-bgp"]["frozen"] == "not verified within 120 s of acting"
    assert harness.escalations == [
        ("restart-bgp", "restart-bgp frozen until a human clears it: not verified within 120 s of acting")
    ]
    for _ in range(5):
        harness.probe(ALL_DOWN, seconds=3600)
    assert harness.runner.calls == [ARGV]
    assert harness.events() == ["acting", "command_finished", "verifying", "frozen", "escalated", "held_frozen"]


def test_a_failing_command_freezes_at_once(tmp_path: Path) -> None:
    harness = Harness(tmp_path, runner=RecordingRunner(CommandResult(255, "Permission denied (publickey).")))
    harness.probe(ALL_DOWN)
    harness.probe(ALL_DOWN, seconds=3600)
    assert len(harness.runner.calls) == 1
    assert harness.engine.status()["restart-bgp"]["frozen"] == "the command failed (exit status 255)"
    finished = harness.audit.read()[1]
    assert (finished["returncode"], finished["output"]) == (255, "Permission denied (publickey).")


def test_clearing_unfreezes_and_the_next_all_down_acts_again(tmp_path: Path) -> None:
    harness = Harness(tmp_path, cooldown_seconds=0, budget_per_hour=5, verify_timeout_seconds=10)
    harness.probe(ALL_DOWN)
    harness.probe(ALL_DOWN, seconds=11)
    assert harness.engine.status()["restart-bgp"]["frozen"]
    assert harness.engine.clear("restart-bgp", by="alice") is True
    assert harness.audit.read()[-1] | {"time": None} == {
        "time": None,
        "runbook": "restart-bgp",
        "event": "cleared",
        "by": "alice",
        "was_frozen": "not verified within 10 s of acting",
    }
    harness.probe(ALL_DOWN)
    assert len(harness.runner.calls) == 2
    assert harness.engine.clear("restart-bgp", by="alice") is False
    with pytest.raises(KeyError):
        harness.engine.clear("reboot-everything", by="mallory")


def test_a_freeze_survives_a_restart_of_the_agent(tmp_path: Path) -> None:
    harness = Harness(tmp_path, verify_timeout_seconds=10)
    harness.probe(ALL_DOWN)
    harness.probe(ALL_DOWN, seconds=11)
    restarted = harness.build()
    assert restarted.status()["restart-bgp"]["frozen"] == "not verified within 10 s of acting"
    assert restarted.status()["restart-bgp"]["actions_last_hour"] == 1


def test_an_unreadable_state_file_starts_frozen(tmp_path: Path) -> None:
    (tmp_path / "runbooks.json").write_text("{truncated")
    harness = Harness(tmp_path)
    harness.probe(ALL_DOWN)
    assert harness.runner.calls == []
    assert harness.engine.status()["restart-bgp"]["frozen"] == "runbook state file unreadable"


def recorder_script(tmp_path: Path) -> tuple[list[str], Path]:
    """A stand-in for the router's forced command: it appends its arguments to a file."""
    record = tmp_path / "calls.txt"
    script = tmp_path / "restart-bgp"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(record)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return [str(script), "router; rm -rf /"], record


def test_dry_run_never_runs_the_command_but_audits_what_it_would_have_done(tmp_path: Path) -> None:
    argv, record = recorder_script(tmp_path)
    harness = Harness(tmp_path, runner=SubprocessRunner(), argv=argv, dry_run=True)
    harness.probe(ALL_DOWN)
    harness.probe(ALL_DOWN)
    assert not record.exists()
    assert harness.events() == ["dry_run", "held_cooldown"]
    assert harness.audit.read()[0]["command"] == argv


@pytest.mark.programs
def test_the_real_runner_passes_the_argv_without_a_shell(tmp_path: Path) -> None:
    argv, record = recorder_script(tmp_path)
    result = SubprocessRunner().run(argv, timeout=10)
    assert result.returncode == 0
    assert record.read_text() == "router; rm -rf /\n"


@pytest.mark.programs
def test_the_real_runner_reports_a_missing_program_and_a_hang(tmp_path: Path) -> None:
    missing = SubprocessRunner().run([str(tmp_path / "absent")], timeout=1)
    assert missing.returncode is None
    assert "could not start" in missing.output
    hang = SubprocessRunner().run([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.2)
    assert (hang.returncode, hang.output) == (None, "did not finish within 0.2 s")


def test_audit_lines_are_json_with_time_runbook_and_event(tmp_path: Path) -> None:
    harness = Harness(tmp_path)
    harness.probe(ALL_DOWN)
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert list(first)[:3] == ["time", "runbook", "event"]
    assert first["time"] == "2023-11-14T22:13:21.000+00:00"
    assert all(json.loads(line)["runbook"] == "restart-bgp" for line in lines)
