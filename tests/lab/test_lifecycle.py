"""`down` leaves nothing behind, also when `up` fails half-way: no namespace, no process, no file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orion_infra.lab import netns
from orion_infra.lab.netns import LabError
from tests.lab.stacks import lab_stack, new_twin

pytestmark = pytest.mark.own_twins


def processes_mentioning(text: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", text], capture_output=True, text=True, check=False).stdout.split()
    return [pid for pid in found if Path(f"/proc/{pid}").exists()]


def test_a_failed_up_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    twin = new_twin(lab_stack(), "failed")
    root = twin.root
    started: list[str] = []

    def resolver_fails() -> None:
        # By now the namespaces exist and the peers and the router's daemons run.
        started.extend(netns.namespaces("olab-failed-"))
        started.extend(processes_mentioning(str(root)))
        raise LabError("the resolver did not start")

    monkeypatch.setattr(twin, "_resolver", resolver_fails)
    with pytest.raises(LabError, match="the resolver did not start"):
        twin.up()
    assert len([name for name in started if name.startswith("olab-failed-")]) >= 6
    assert any(not name.startswith("olab-failed-") for name in started)  # some daemon was running
    assert netns.namespaces("olab-failed-") == []
    assert processes_mentioning(str(root)) == []
    assert not root.exists()
    assert not any(Path("/etc/netns").glob("olab-failed-*"))
