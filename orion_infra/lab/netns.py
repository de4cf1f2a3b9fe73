"""Network namespace primitives for the lab, as thin wrappers over iproute2."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

NETNS_ETC = Path("/etc/netns")


class LabError(Exception):
    """The lab could not do what was asked; the message says what and why."""


def missing_programs(programs: Sequence[str]) -> list[str]:
    return [program for program in programs if shutil.which(program) is None]


def run(
    command: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 30.0,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(command), input=stdin, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd
    )
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
        with contextlib.suppress(ProcessLookupError):  # exited meanwhile
            os.kill(int(pid), signal.SIGKILL)
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


def wait_until(
    ready: Callable[[], object], *, timeout: float, failure: str, log: Path | None = None, interval: float = 0.05
) -> float:
    """Polls `ready` until it holds and returns the seconds that took; after `timeout` seconds, LabError saying
    `failure` with the end of `log`."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            output = log.read_text().strip()[-2000:] if log is not None and log.exists() else ""
            raise LabError(f"{failure} after {timeout:g} s: {output or 'no output'}")
        time.sleep(interval)
    return time.monotonic() - started


def command_line(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:  # exited meanwhile
        return ""


def command_name(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # exited meanwhile
        return ""


def pids(namespace: str, matches: Callable[[str], bool]) -> list[str]:
    """The processes in `namespace` (only what `ip netns pids` lists there) for which `matches(pid)` holds."""
    return [pid for pid in run(["ip", "netns", "pids", namespace]).stdout.split() if matches(pid)]


def stop(namespace: str, matches: Callable[[str], bool], signal: str = "-KILL", timeout: float = 10) -> None:
    """Signals the processes of `namespace` that `matches` and waits until none is left."""
    for pid in pids(namespace, matches):
        run(["kill", signal, pid], check=False)
    wait_until(lambda: not pids(namespace, matches), timeout=timeout, failure=f"processes in {namespace} do not stop")
