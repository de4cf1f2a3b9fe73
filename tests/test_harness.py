"""The recording mock monitor sees what the engine would: types, names, parents, dependencies, secrets."""

from __future__ import annotations

import subprocess
import time

import pulumi
import pulumi_random as random
import pytest

from tests.pulumi_harness import run_program
from tests.tiers import fast_tier_limits


def small_program() -> None:
    class Parent(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("test:index:Parent", name, None, None)
            self.first = random.RandomPassword(
                f"{name}-first",
                length=24,
                keepers={"seed": pulumi.Output.secret("not-for-eyes")},
                opts=pulumi.ResourceOptions(parent=self, protect=True, additional_secret_outputs=["result"]),
            )
            self.register_outputs({})

    parent = Parent("p")
    random.RandomPassword("orphan", length=8, special=False, opts=pulumi.ResourceOptions(depends_on=[parent.first]))
    pulumi.export("plain", "visible")
    pulumi.export("hidden", pulumi.Output.secret("s3cret"))


def test_records_parents_dependencies_and_secrets() -> None:
    run = run_program(small_program, {}, set())
    assert run.error is None
    assert [(r.type, r.name) for r in run.registrations] == [
        ("test:index:Parent", "p"),
        ("random:index/randomPassword:RandomPassword", "p-first"),
        ("random:index/randomPassword:RandomPassword", "orphan"),
    ]
    parent, first, orphan = run.registrations
    assert first.parent == parent.urn
    assert orphan.parent != parent.urn
    assert orphan.dependencies == [first.urn]
    assert first.dependencies == []
    assert first.inputs["length"] == 24
    assert first.secret_inputs == {"keepers"}
    assert first.inputs["keepers"] == {"seed": "not-for-eyes"}
    assert orphan.secret_inputs == frozenset()
    assert (first.protect, orphan.protect) == (True, False)
    assert set(first.additional_secret_outputs) == {"result", "bcryptHash"}  # ours and the SDK's own
    assert (parent.custom, first.custom) == (False, True)
    assert run.outputs == {"plain": "visible", "hidden": "s3cret"}
    assert run.secret_outputs == {"hidden"}


def test_runs_do_not_share_state() -> None:
    first = run_program(small_program, {}, set())
    second = run_program(lambda: pulumi.export("only", 1), {}, set())
    assert len(first.registrations) == 3
    assert second.registrations == []
    assert second.outputs == {"only": 1}


def test_a_failing_program_is_reported_not_raised() -> None:
    def failing() -> None:
        raise pulumi.RunError("no")

    run = run_program(failing, {}, set())
    assert isinstance(run.error, pulumi.RunError)


@pytest.mark.realtime  # it sleeps for real, more than the fast tier allows
def test_the_fast_tier_refuses_a_program_and_real_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    with fast_tier_limits(monkeypatch), pytest.raises(AssertionError, match="runs no program"):
        subprocess.run(["true"], check=False)
    with pytest.raises(AssertionError, match=r"0\.30 s slept"), fast_tier_limits(monkeypatch):
        time.sleep(0.3)
    with fast_tier_limits(monkeypatch):
        time.sleep(0.05)
