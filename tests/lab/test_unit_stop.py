"""Stopping a unit ends when its main process has exited, as systemd (its parent) sees it: not when init, here up
to ~2 s later, reaps the zombie. Every restart in the twin (Unbound at each `up`, BIRD in the agent's tests) paid
that wait."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from orion_infra.lab import units
from orion_infra.lab.machine import Machine


def test_a_unit_whose_process_has_exited_is_stopped_without_waiting_for_init(tmp_path: Path) -> None:
    machine = Machine("", tmp_path, inside=True)
    unit = units.UNITS["orion-unbound"]
    pid_file = machine.path(f"{units.PIDS}/{unit.name}.pid")
    pid_file.parent.mkdir(parents=True)
    # The main process exits at once and stays a zombie: its parent (exec'd into a sleep) never reaps it.
    parent = subprocess.Popen(["sh", "-c", f"sleep 0.1 & echo $! > {pid_file}; exec sleep 20"])
    try:
        time.sleep(0.5)
        pid = pid_file.read_text().strip()
        assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
        started = time.monotonic()
        units.stop(machine, unit)
        assert time.monotonic() - started < 1
        assert not pid_file.exists()
    finally:
        parent.kill()
        parent.wait()
