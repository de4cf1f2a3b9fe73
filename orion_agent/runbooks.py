"""Remediation with guard rails: an allow-list of runbooks, each acting only when its precondition is positively
observed, outside its cooldown, within its hourly budget, and verified afterwards. A runbook whose action failed or
could not be verified freezes and escalates to humans instead of trying again, until someone clears it.

Decisions are audited when they change (the first time a runbook is held by its cooldown, not once a second while
it stays held); actions and their outcomes always are.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from orion_agent.audit import AuditLog
from orion_agent.checks import BgpState, BgpView
from orion_agent.files import replaced_on_success
from orion_agent.settings import Remediation

log = logging.getLogger(__name__)
HOUR = 3600.0
OUTPUT_LIMIT = 2000
# The allow-list: the only actions the agent may ever take.
RUNBOOKS = ("restart-bgp",)


@dataclass(frozen=True)
class Situation:
    """What the runbooks decide on: the latest BGP view and how long its all-down has been seen without a gap."""

    bgp: BgpView
    all_down_probes: int
    """Consecutive probes that positively observed every session down; a failed probe resets it to 0."""


class Runbook(Protocol):
    @property
    def name(self) -> str: ...

    def precondition(self, situation: Situation) -> str | None:
        """Why acting is warranted now, or None when it is not."""
        ...

    def verified(self, situation: Situation) -> bool:
        """Whether the action has had its effect (positively observed, like the precondition)."""
        ...

    def command(self) -> list[str]: ...


@dataclass(frozen=True)
class RestartBgp:
    """Restart BGP on the router when every session has been seen down for `confirm_probes` probes in a row.

    Only a positively observed absence of BGP counts: every session down, or BIRD not answering the exporter that
    does answer (BIRD stopped or crashed: no session can be up). A Prometheus outage, an exporter timeout or garbage
    is missing data. Should the exporter merely have lost BIRD's socket, the restart costs one reconnection and the
    verification then fails, which freezes the runbook for a human instead of repeating it. Verified when at least
    one session is up again: connectivity is back, and a peer that stays down is the ISP's to fix (the checks say so).
    """

    argv: Sequence[str]
    confirm_probes: int
    name: str = "restart-bgp"

    def precondition(self, situation: Situation) -> str | None:
        if not situation.bgp.no_bgp or situation.all_down_probes < self.confirm_probes:
            return None
        if situation.bgp.state == BgpState.BIRD_UNREACHABLE:
            return f"BIRD has not answered its exporter for {situation.all_down_probes} probes"
        peers = ", ".join(sorted(situation.bgp.sessions))
        return f"all {len(situation.bgp.sessions)} BGP sessions ({peers}) down for {situation.all_down_probes} probes"

    def verified(self, situation: Situation) -> bool:
        return situation.bgp.state == BgpState.SOME_UP

    def command(self) -> list[str]:
        return list(self.argv)


@dataclass(frozen=True)
class CommandResult:
    returncode: int | None
    """None when the command could not be started or did not finish in time."""
    output: str


class CommandRunner(Protocol):
    def run(self, argv: Sequence[str], timeout: float) -> CommandResult: ...


class SubprocessRunner:
    """Runs an argv without a shell, stdin closed, output captured and truncated for the audit log."""

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult:
        try:
            completed = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return CommandResult(None, f"did not finish within {timeout:g} s")
        except OSError as error:
            return CommandResult(None, f"could not start {argv[0]!r}: {error.strerror}")
        return CommandResult(completed.returncode, (completed.stdout + completed.stderr)[-OUTPUT_LIMIT:])


Escalate = Callable[[str, str], None]
"""Tells humans (runbook name, summary): the agent stops acting and asks instead."""


@dataclass
class RunbookState:
    frozen: str | None = None
    """Why the runbook stopped acting; only a human clears it."""
    frozen_at: float | None = None
    actions: list[float] = field(default_factory=list)
    """When it acted (or would have, in dry-run) within the last hour: the budget."""
    acted_at: float | None = None
    verifying_until: float | None = None


class StateStore:
    """The runbooks' state in the state directory, so a restart of the agent neither unfreezes nor resets budgets."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, RunbookState] | None:
        """The saved states (empty when there are none yet), or None when the file is unreadable."""
        if not self.path.exists():
            return {}
        try:
            document = json.loads(self.path.read_text())
            return {name: RunbookState(**values) for name, values in document.items()}
        except (OSError, ValueError, TypeError, AttributeError) as error:
            log.error("runbook state unreadable", extra={"fields": {"path": str(self.path), "error": str(error)}})
            return None

    def save(self, states: dict[str, RunbookState]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with replaced_on_success(self.path, temporary=self.path.with_suffix(".tmp")) as file:
            file.write(json.dumps({name: asdict(state) for name, state in states.items()}, indent=2))


class RunbookEngine:
    """Decides, for each runbook of the allow-list, whether to act, and keeps the guard rails' state."""

    def __init__(
        self,
        runbooks: Sequence[Runbook],
        *,
        guard: Remediation,
        runner: CommandRunner,
        audit: AuditLog,
        escalate: Escalate,
        store: StateStore,
        clock: Callable[[], float],
    ) -> None:
        self.runbooks = {runbook.name: runbook for runbook in runbooks}
        self._guard = guard
        self._runner = runner
        self._audit = audit
        self._escalate = escalate
        self._store = store
        self._clock = clock
        self._last_decision: dict[str, str] = {}
        self.events: Counter[tuple[str, str]] = Counter()
        loaded = store.load()
        if loaded is None:
            # Not knowing whether a runbook was frozen, assume it was: a human looks before it acts again.
            self.states = {name: RunbookState(frozen="runbook state file unreadable") for name in self.runbooks}
        else:
            self.states = {name: loaded.get(name, RunbookState()) for name in self.runbooks}

    def evaluate(self, situation: Situation) -> None:
        for name, runbook in self.runbooks.items():
            self._evaluate(name, runbook, situation)

    def _evaluate(self, name: str, runbook: Runbook, situation: Situation) -> None:
        now = self._clock()
        state = self.states[name]
        state.actions = [time for time in state.actions if now - time < HOUR]
        if state.verifying_until is not None:
            if runbook.verified(situation):
                state.verifying_until = None
                self._save()
                self._record(name, "verified", bgp=situation.bgp.state.value, sessions_up=situation.bgp.sessions_up)
            elif now >= state.verifying_until:
                state.verifying_until = None
                self._freeze(name, f"not verified within {self._guard.verify_timeout_seconds:g} s of acting")
            else:
                self._decide(name, "verifying")
            return
        reason = runbook.precondition(situation)
        if reason is None:
            self._last_decision.pop(name, None)
            return
        if state.frozen is not None:
            self._decide(name, "held_frozen", reason=reason, frozen=state.frozen)
        elif state.acted_at is not None and now - state.acted_at < self._guard.cooldown_seconds:
            remaining = self._guard.cooldown_seconds - (now - state.acted_at)
            self._decide(name, "held_cooldown", reason=reason, cooldown_remaining_seconds=round(remaining, 1))
        elif len(state.actions) >= self._guard.budget_per_hour:
            if self._decide(name, "held_budget", reason=reason, actions_last_hour=len(state.actions)):
                self._escalate(name, f"{name}: hourly budget of {self._guard.budget_per_hour} spent; {reason}")
        else:
            self._act(name, runbook, reason)

    def _act(self, name: str, runbook: Runbook, reason: str) -> None:
        state = self.states[name]
        argv = runbook.command()
        now = self._clock()
        state.actions.append(now)
        state.acted_at = now
        self._save()
        if self._guard.dry_run:
            self._decide(name, "dry_run", reason=reason, command=argv)
            return
        # Recorded before running, so an agent killed mid-action still leaves a trace of it.
        self._decide(name, "acting", reason=reason, command=argv)
        result = self._runner.run(argv, self._guard.command_timeout_seconds)
        self._record(name, "command_finished", returncode=result.returncode, output=result.output)
        if result.returncode != 0:
            self._freeze(name, f"the command failed ({_outcome(result)})")
            return
        state.verifying_until = self._clock() + self._guard.verify_timeout_seconds
        self._save()

    def _freeze(self, name: str, why: str) -> None:
        state = self.states[name]
        state.frozen = why
        state.frozen_at = self._clock()
        self._save()
        self._record(name, "frozen", reason=why)
        self._escalate(name, f"{name} frozen until a human clears it: {why}")
        self._record(name, "escalated", reason=why)

    def clear(self, name: str, by: str) -> bool:
        """Unfreezes `name`; False if it was not frozen. The hourly budget still counts its past actions."""
        if name not in self.runbooks:
            raise KeyError(name)
        state = self.states[name]
        was = state.frozen
        state.frozen = None
        state.frozen_at = None
        self._save()
        self._last_decision.pop(name, None)
        self._record(name, "cleared", by=by, was_frozen=was)
        return was is not None

    def status(self) -> dict[str, dict[str, Any]]:
        return {
            name: {
                "frozen": state.frozen,
                "frozen_at": state.frozen_at,
                "actions_last_hour": len([t for t in state.actions if self._clock() - t < HOUR]),
                "acted_at": state.acted_at,
                "verifying": state.verifying_until is not None,
                "dry_run": self._guard.dry_run,
            }
            for name, state in self.states.items()
        }

    def _decide(self, name: str, decision: str, **details: Any) -> bool:
        """Audits `decision` unless it is the one already audited for `name`; True if it was audited."""
        if self._last_decision.get(name) == decision:
            return False
        self._last_decision[name] = decision
        self._record(name, decision, dry_run=self._guard.dry_run, **details)
        return True

    def _record(self, name: str, event: str, **details: Any) -> None:
        self.events[name, event] += 1
        entry = self._audit.record(name, event, **details)
        log.warning("runbook %s: %s", name, event, extra={"fields": entry})

    def _save(self) -> None:
        try:
            self._store.save(self.states)
        except OSError as error:
            log.error("cannot save runbook state", extra={"fields": {"error": str(error)}})


def _outcome(result: CommandResult) -> str:
    return result.output.strip()[-200:] if result.returncode is None else f"exit status {result.returncode}"
