"""SSH to the router as the monitoring VM's agent connects: the agent's key, as its account, the router's host key
pinned (the one the deploy made for it, as the agent's known_hosts lists it: orion_agent/settings.py)."""

from __future__ import annotations

import hashlib

from orion_infra.lab.twin import Twin
from orion_infra.render.host_keys import HostKey, known_hosts_line


def agent_ssh(twin: Twin, *command: str, host_key: HostKey | None = None) -> list[str]:
    """The ssh argv (run it in a namespace: ip netns exec) for `command` on the router as the agent; `host_key`
    pins another key than the router's (to show a wrong one refused)."""
    address = twin.agent_settings["router"]["address"]
    line = known_hosts_line(address, host_key or twin.host_key(twin.router))
    known_hosts = twin.root / "keys" / f"known-hosts-{hashlib.sha256(line.encode()).hexdigest()[:12]}"
    known_hosts.write_text(line)
    return [
        "ssh", "-i", str(twin.key("agent")), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=3", "-o", "LogLevel=ERROR",
        f"orion-agent@{address}", *command,
    ]  # fmt: skip
