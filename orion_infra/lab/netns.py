"""Network namespace primitives for the lab, as thin wrappers over iproute2."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

NETNS_ETC = Path("/etc/netns")


class LabError(Exception):
    """The lab could not do what was asked; the message says what and why."""


def missing_programs(programs: Sequence[str]) -> list[str]:
    return [program for program in programs if shutil.which(program) is None]


def run(
    command: Sequence[str], *, check: bool = True, timeout: float = 30.0, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd)
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def in_ns(namespace: str, *command: str, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return run(["ip", "netns", "exec", namespace, *command], check=check, timeout=timeout)


def start_daemon(namespace: str, *command: str, log: Path) -> None:
    """Starts a daemon in `namespace` in a session of its own, so no signal meant for us reaches it; what it
    prints goes to `log`."""
    with log.open("ab") as output:
        # setsid --fork returns at once, leaving the daemon to init: nothing of ours waits on it.
        subprocess.run(
            ["ip", "netns", "exec", namespace, "setsid", "--fork", *command],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=10,
        )


def namespaces(prefix: str) -> list[str]:
    listing = run(["ip", "netns", "list"]).stdout.split("\n")
    return [line.split()[0] for line in listing if line.strip() and line.split()[0].startswith(prefix)]


def destroy(namespace: str) -> None:
    """Kills what runs in `namespace` (only what `ip netns pids` lists there) and deletes it."""
    for pid in run(["ip", "netns", "pids", namespace], check=False).stdout.split():
        run(["kill", "-9", pid], check=False)
    run(["ip", "netns", "delete", namespace], check=False)
    shutil.rmtree(NETNS_ETC / namespace, ignore_errors=True)


def set_resolver(namespace: str, address: str) -> None:
    """The resolver programs in `namespace` use (`ip netns exec` mounts this file over /etc/resolv.conf), so none
    of them asks the machine's own resolver."""
    directory = NETNS_ETC / namespace
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "resolv.conf").write_text(f"nameserver {address}\n")


def veth_to_switch(namespace: str, interface: str, switch: str, bridge: str, port: str) -> None:
    """Plugs `namespace`'s `interface` into `bridge` of the switch namespace."""
    run(["ip", "-n", namespace, "link", "add", interface, "type", "veth", "peer", "name", port, "netns", switch])
    run(["ip", "-n", switch, "link", "set", port, "master", bridge])
    run(["ip", "-n", switch, "link", "set", port, "up"])
    run(["ip", "-n", namespace, "link", "set", interface, "up"])
