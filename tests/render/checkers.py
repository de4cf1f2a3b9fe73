"""The real programs that read ORION's files, run the way their checks work on a machine without systemd.

A missing program is a failed test, never a skip: `.ci/run` and `make test` install them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Verdict:
    ok: bool
    output: str


def require(program: str) -> str:
    path = shutil.which(program)
    assert path is not None, f"{program} is not installed; `make test` and .ci/run install the Debian packages"
    return path


def run(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Verdict:
    require(command[0])
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd, check=False
    )
    return Verdict(done.returncode == 0, done.stdout + done.stderr)


def in_namespace_with_interfaces(interfaces: Sequence[str], command: Sequence[str], env: dict[str, str]) -> Verdict:
    """Runs `command` in a throwaway network namespace holding `interfaces` (bridges: this kernel has no dummy)."""
    require(command[0])
    setup = "; ".join(f"ip link add {name} type bridge && ip link set {name} up" for name in interfaces)
    script = f'{setup}; exec "$@"' if interfaces else 'exec "$@"'
    return run(["unshare", "--net", "sh", "-ec", script, "sh", *command], env=env)


def in_namespace_with_tmpfs(
    mountpoint: str, script: str, *, left: Path | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Runs shell `script` as root in a throwaway mount namespace where `mountpoint` (/etc, /etc/ssh) is an empty
    tmpfs: what the script writes there never reaches the machine's. With `left`, what the script leaves under
    `mountpoint` is copied into `left` however the script ends. Its status is the script's."""
    require("unshare")
    sealed = 'mount -t tmpfs tmpfs "$1"; status=0; sh -c "$2" || status=$?; if [ -n "$3" ]; then cp -a "$1/." "$3/"; fi; exit $status'
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-ec",
            sealed,
            "sh",
            mountpoint,
            script,
            str(left or ""),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def bird(path: Path) -> Verdict:
    return run(["bird", "-p", "-c", str(path)])


def nftables(path: Path, interfaces: Sequence[str]) -> Verdict:
    return in_namespace_with_interfaces(interfaces, ["nft", "-c", "-f", str(path)], {})


def kea(path: Path, interfaces: Sequence[str], scratch: Path) -> Verdict:
    env = {"KEA_PIDFILE_DIR": str(scratch), "KEA_LOCKFILE_DIR": str(scratch)}
    return in_namespace_with_interfaces(interfaces, ["kea-dhcp4", "-t", str(path)], env)


def unbound(path: Path) -> Verdict:
    return run(["unbound-checkconf", str(path)])


def prometheus_config(path: Path) -> Verdict:
    return run(["promtool", "check", "config", str(path)])


def prometheus_rules(path: Path) -> Verdict:
    return run(["promtool", "check", "rules", str(path)])


def prometheus_rule_tests(path: Path) -> Verdict:
    return run(["promtool", "test", "rules", str(path)], cwd=path.parent)


def alertmanager(path: Path) -> Verdict:
    return run(["amtool", "check-config", str(path)])


def nix(path: Path) -> Verdict:
    # No nixbld group on these machines; the parser does not need one.
    return run(["nix-instantiate", "--parse", str(path)], env={"NIX_CONFIG": "build-users-group ="})
