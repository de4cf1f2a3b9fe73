"""Every invalid stack file is rejected with exactly the problems its header names, and nothing else."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from orion_infra.model import StackConfigError, load_stack, read_stack_file
from tests.fixtures.invalid_cases import CASES, INVALID_DIR, expected_files

FIXTURES = sorted(INVALID_DIR.glob("*.yaml"))


def expected_lines(path: Path) -> list[str]:
    return [line.removeprefix("# expect: ") for line in path.read_text().splitlines() if line.startswith("# expect: ")]


def test_there_are_at_least_thirty_and_each_has_its_own_reason() -> None:
    assert len(FIXTURES) >= 30
    reasons = [tuple(sorted(expected_lines(path))) for path in FIXTURES]
    assert all(reasons)
    assert len(set(reasons)) == len(reasons)


def test_the_committed_fixtures_are_what_the_cases_generate() -> None:
    """After changing the default stack or a case: uv run python -m tests.fixtures.invalid_cases"""
    assert {path.name: path.read_text() for path in FIXTURES} == expected_files()


@pytest.mark.parametrize("path", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_rejected_with_exactly_the_expected_problems(path: Path, today: datetime.date) -> None:
    with pytest.raises(StackConfigError) as rejected:
        load_stack(read_stack_file(path), today=today)
    assert sorted(rejected.value.problems) == sorted(expected_lines(path))


def test_every_seed_contradiction_has_a_fixture() -> None:
    names = {case.name for case in CASES}
    for number in (1, 2, 3, 4):
        assert any(name.startswith(f"contradiction-{number}-") for name in names)
