"""The GitHub Actions workflows (preview on pull requests, nightly drift check) pass actionlint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = str(Path(sys.executable).parent / "actionlint")


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ACTIONLINT, "-no-color", str(path)], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[path.name for path in WORKFLOWS])
def test_workflow_passes_actionlint(workflow: Path) -> None:
    result = actionlint(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflows_preview_on_pull_requests_and_check_drift() -> None:
    steps = {path.stem: yaml.safe_load(path.read_text())["jobs"] for path in WORKFLOWS}
    preview = next(
        step for step in steps["preview"]["preview"]["steps"] if str(step.get("uses", "")).startswith("pulumi/actions")
    )
    drift = next(
        step for step in steps["drift"]["drift"]["steps"] if str(step.get("uses", "")).startswith("pulumi/actions")
    )
    assert preview["with"] == {"command": "preview", "stack-name": "orion", "comment-on-pr": True, "diff": True}
    assert drift["with"] == {"command": "preview", "stack-name": "orion", "refresh": True, "expect-no-changes": True}


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        WORKFLOWS[0]
        .read_text()
        .replace("${{ github.event.pull_request.number }}", "${{ github.event.pull_request.numbr }}")
        .replace("runs-on:", "runs_on:")
    )
    result = actionlint(broken)
    assert result.returncode != 0
    assert "runs_on" in result.stdout or "runs-on" in result.stdout
