"""orion-trial's refusals, without a machine: what it says and does when it must not switch. (Its switches,
switch-backs and commits run for real in tests/deploy.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orion_infra.lab.shell_application import install

ROOT = Path(__file__).resolve().parents[2]


def trial(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    script = install(tmp_path / "bin" / "orion-trial", (ROOT / "nix" / "scripts" / "orion-trial").read_text())
    return subprocess.run(
        [str(script), *arguments],
        capture_output=True,
        text=True,
        env={"ORION_TRIAL_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def a_system(tmp_path: Path) -> Path:
    system = tmp_path / "system"
    switch = system / "bin" / "switch-to-configuration"
    switch.parent.mkdir(parents=True)
    switch.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "switched"}\n')
    switch.chmod(0o755)
    return system


@pytest.mark.programs
def test_after_a_failed_switch_back_nothing_starts_until_cleared(tmp_path: Path) -> None:
    system = a_system(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "state").write_text("rollback-failed /nix/store/x-system\n")
    refused = trial(tmp_path, "start", "5", str(system))
    assert refused.returncode == 1
    assert "switching back from /nix/store/x-system failed" in refused.stderr
    assert not (tmp_path / "switched").exists()
    assert trial(tmp_path, "clear").returncode == 0
    assert trial(tmp_path, "status").stdout.strip() == "idle"


@pytest.mark.programs
def test_what_is_not_a_system_or_a_number_is_refused(tmp_path: Path) -> None:
    system = a_system(tmp_path)
    assert "TIMEOUT must be a number" in trial(tmp_path, "start", "soon", str(system)).stderr
    assert "is not a NixOS system" in trial(tmp_path, "start", "5", str(tmp_path)).stderr
    assert "holds no flake.nix" in trial(tmp_path, "start", "5", str(system), str(tmp_path)).stderr
    assert not (tmp_path / "switched").exists()


@pytest.mark.programs
def test_nothing_to_confirm_when_nothing_runs(tmp_path: Path) -> None:
    refused = trial(tmp_path, "confirm", "/nix/store/x-system")
    assert refused.returncode == 1
    assert "nothing to confirm (state: idle)" in refused.stderr
