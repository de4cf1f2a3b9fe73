"""The router's restart-bgp forced command when two sessions of the agent's key run it at the same moment (the agent
and a retry of it, or two agents): BIRD is restarted once, the other session is refused within the cooldown. Its
lock holds from the cooldown check to the end of the restart; without it both sessions find the cooldown over."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin
from tests.lab.agent_ssh import agent_ssh

pytestmark = pytest.mark.agent_acts

SESSIONS = 2


GATE = "/run/orion-lab/restart-bgp.gate"
# The shell sshd runs the forced command with (the agent's account's login shell, bash) reads /etc/bash.bashrc first
# when sshd runs it (Debian's bash, SSH_SOURCE_BASHRC): there, the test's sessions wait at a gate (a FIFO's open
# returns when a writer opens it), so that their forced commands start at the same moment.
BASHRC_GATE = f"[ -p {GATE} ] && : < {GATE}\n"


def bird_pids(twin: Twin) -> set[str]:
    return set(netns.pids(twin.router_ns, lambda pid: netns.command_name(pid) == "bird"))


def waiting_at_the_gate(twin: Twin) -> int:
    def waiting(pid: str) -> bool:
        try:
            return Path(f"/proc/{pid}/wchan").read_text() == "wait_for_partner"
        except OSError:  # exited meanwhile
            return False

    return len(netns.pids(twin.router_ns, lambda pid: "orion-restart-bgp" in netns.command_line(pid) and waiting(pid)))


def test_two_sessions_at_once_restart_bird_once(twin: Twin) -> None:
    router = twin.router
    agent = twin.router_host.agent
    assert agent is not None
    last = f"{agent.state_dir}/last-restart"
    state = router.path(last)
    saved = state.stat().st_mtime if state.exists() else None
    ssh = ["ip", "netns", "exec", twin.monitor_ns, *agent_ssh(twin, "restart-bgp")]
    bashrc = router.path("/etc/bash.bashrc")
    original = bashrc.read_text() if bashrc.exists() else None
    gate = router.path(GATE)
    gate.parent.mkdir(parents=True, exist_ok=True)
    # The agent would act on BIRD's restart itself: it waits until the test is over.
    twin.stop_agent()
    try:
        # The cooldown over, as an hour after the last restart: the state written by the agent's account, expired.
        expired = int(time.time()) - agent.cooldown_seconds - 60
        router.run("setpriv", "--reuid=orion-agent", "--regid=orion-agent", "--clear-groups", "touch", "-d", f"@{expired}", last)  # fmt: skip
        before = bird_pids(twin)
        assert len(before) == 1
        os.mkfifo(gate, 0o644)
        bashrc.write_text(BASHRC_GATE + (original or ""))
        sessions = [
            subprocess.Popen(ssh, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(SESSIONS)
        ]
        netns.wait_until(
            lambda: waiting_at_the_gate(twin) == SESSIONS, timeout=15, failure="the sessions do not reach the gate"
        )
        started = time.monotonic()
        os.close(os.open(gate, os.O_WRONLY))
        results = [(*session.communicate(timeout=60), session.returncode) for session in sessions]
        took = time.monotonic() - started
        print(f"{SESSIONS} sessions at once: {results} in {took:.2f} s")
        restarted = [result for result in results if result[2] == 0]
        refused = [result for result in results if result[2] == 75]
        assert len(restarted) == 1, results
        assert "bird restarted" in restarted[0][0]
        assert len(refused) == SESSIONS - 1, results
        assert all("refused: BIRD was restarted" in stderr for _, stderr, _ in refused), results
        after = bird_pids(twin)
        assert len(after) == 1
        assert after != before
    finally:
        if original is None:
            bashrc.unlink(missing_ok=True)
        else:
            bashrc.write_text(original)
        gate.unlink(missing_ok=True)
        # As it was: the agent's last restart, if any, and every session back.
        if saved is None:
            state.unlink(missing_ok=True)
        else:
            router.run("touch", "-d", f"@{saved}", last)
        twin.wait_for_primary()
        twin.start_agent()
