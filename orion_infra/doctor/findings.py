"""What a check finds: a verdict, the reason in one line, and what the operator does about it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    """`pulumi up` may still work, or needs something the doctor cannot see; read the reason."""
    FAIL = "fail"
    """`pulumi up` would stop on it (or fail half-way)."""
    SKIP = "skip"
    """Not applicable to this stack, or what it needs failed in another check."""


@dataclass(frozen=True)
class Finding:
    """One check's result."""

    name: str
    """What was checked, e.g. `tool nix`, `idrac orion-pve`."""
    verdict: Verdict
    reason: str
    """One line: what was found."""
    action: str = ""
    """What to do about it; empty when there is nothing to do."""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "verdict": str(self.verdict), "reason": self.reason, "action": self.action}


def ok(name: str, reason: str) -> Finding:
    return Finding(name, Verdict.OK, reason)


def warn(name: str, reason: str, action: str) -> Finding:
    return Finding(name, Verdict.WARN, reason, action)


def fail(name: str, reason: str, action: str) -> Finding:
    return Finding(name, Verdict.FAIL, reason, action)


def skip(name: str, reason: str) -> Finding:
    return Finding(name, Verdict.SKIP, reason)


Probe = Callable[[], Iterable[Finding]]
"""A unit of work run on its own thread: one or more findings, in a fixed order."""
