"""A stand-in for one of ORION's NixOS VMs: a network namespace plus a mount namespace of its own, in which /etc (a
copy of this machine's, with the VM's accounts and sudo rules), /run, /var/lib and /home are the VM's own
directories under `root`. Daemons in it run with the paths production uses, as the users and with the capabilities
their units give them (units.py)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orion_infra.lab import netns
from orion_infra.lab.netns import LabError

# The VM's own directories, bind-mounted over the machine's.
PRIVATE = ("etc", "run", "var/lib", "var/log", "home")
HOLDER = "orion-machine"


@dataclass(frozen=True)
class Machine:
    namespace: str
    root: Path
    """The VM's file system: root/etc is its /etc, root/run its /run, and so on."""
    extra_mounts: tuple[str, ...] = ()
    """Further private directories (e.g. "nix" for a VM whose store the deploy writes)."""
    inside: bool = False
    """This process runs in the machine already (a command of the VM's own, e.g. its systemctl)."""

    @classmethod
    def current(cls) -> Machine:
        """The machine this process runs in."""
        return cls(namespace="", root=Path("/"), inside=True)

    def path(self, inside: str) -> Path:
        """Where a path of the VM lives on this machine, e.g. path("/run/bird/bird.ctl")."""
        return self.root / inside.lstrip("/")

    def create(self) -> None:
        """Prepares the directories and starts the process that holds the mount namespace (in the network
        namespace, which must exist)."""
        self.root.mkdir(parents=True, exist_ok=True)
        etc = self.root / "etc"
        if not etc.exists():
            netns.run(["cp", "-a", "/etc", str(etc)])
            # The VM resolves through its own resolver setting, never this machine's.
            (etc / "resolv.conf").unlink(missing_ok=True)
            (etc / "resolv.conf").write_text("")
            shutil.rmtree(etc / "sudoers.d", ignore_errors=True)
            (etc / "sudoers.d").mkdir(mode=0o750)
            # Not this machine's identity: a VM has host keys of its own.
            for key in (etc / "ssh").glob("ssh_host_*"):
                key.unlink()
        for directory in (*PRIVATE, *self.extra_mounts):
            (self.root / directory).mkdir(parents=True, exist_ok=True)
        (self.root / "run" / "sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        # A directory the machine's root lies under is mounted last: its mount hides the sources of the others.
        order = sorted((*PRIVATE, *self.extra_mounts), key=lambda d: self.root.is_relative_to(f"/{d}"))
        # A fresh machine may lack a mount point (no /nix until Nix first runs): make it, empty, before the bind.
        binds = "; ".join(f"mkdir -p /{d}; mount --bind {self.root / d} /{d}" for d in order)
        netns.start_daemon(
            self.namespace,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-ec",
            f"{binds}; exec -a {HOLDER} sleep infinity",
            log=self.root / "machine.log",
        )
        netns.wait_until(
            lambda: self.holder() is not None,
            timeout=5,
            failure=f"the mount namespace of {self.namespace} did not come up",
            log=self.root / "machine.log",
        )

    def holder(self) -> str | None:
        found = netns.pids(self.namespace, lambda pid: netns.command_line(pid).startswith(HOLDER))
        return found[0] if found else None

    def _enter(self) -> list[str]:
        if self.inside:
            return []
        pid = self.holder()
        if pid is None:
            raise LabError(f"{self.namespace} is not running")
        return ["nsenter", f"--target={pid}", "--mount", "--net"]

    def run(self, *command: str, check: bool = True, timeout: float = 30.0, stdin: str | None = None) -> str:
        """Runs `command` as root inside the VM; its standard output."""
        done = subprocess.run(
            [*self._enter(), *command], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            raise LabError(f"{' '.join(command)} in {self.namespace}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def start(self, *command: str, log: Path) -> None:
        """Starts a daemon inside the VM in a session of its own (see netns.start_daemon)."""
        with log.open("ab") as output:
            subprocess.run(
                [*self._enter(), "setsid", "--fork", *command],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=10,
            )

    def add_account(
        self, name: str, *, system: bool = True, login_shell: str = "/usr/sbin/nologin", groups: tuple[str, ...] = ()
    ) -> None:
        """An account in the VM's /etc, as its NixOS configuration declares one (idempotent)."""
        if self.run("getent", "passwd", name, check=False):
            return
        if not self.run("getent", "group", name, check=False):
            self.run("groupadd", *(["--system"] if system else []), name)
        home = ["--home-dir", "/var/empty", "--no-create-home"] if system else ["--create-home"]
        self.run(
            "useradd",
            *(["--system"] if system else []),
            "--gid",
            name,
            *(["--groups", ",".join(groups)] if groups else []),
            "--shell",
            login_shell,
            *home,
            name,
        )

    def set_resolver(self, address: str) -> None:
        (self.root / "etc" / "resolv.conf").write_text(f"nameserver {address}\n")

    def add_group(self, name: str) -> None:
        if not self.run("getent", "group", name, check=False):
            self.run("groupadd", "--system", name)
