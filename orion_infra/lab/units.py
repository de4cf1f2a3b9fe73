"""How the NixOS units of ORION's services run their daemons, and a runner that starts a daemon that way in a lab
machine: its user and groups, its capabilities (ambient and bounding), its runtime and state directories with
their modes, and its credentials copied from the secrets directory as systemd's LoadCredential= does.

Each unit of nixpkgs is as its module declares it (`declared`: file and version read); ORION's own units
(orion-unbound, orion-agent) are as nix/modules declares them, which tests/nix checks."""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from orion_infra.lab import netns
from orion_infra.lab.machine import Machine
from orion_infra.lab.netns import LabError

NIXPKGS = "NixOS/nixpkgs"
# Inside a machine: how each unit was started (what systemd would read from its unit file), its main process, and
# what it printed (systemd's journal).
DESCRIPTIONS = "/etc/orion-lab/units"
PIDS = "/run/orion-lab/units"
LOGS = "/var/log/orion-lab"


@dataclass(frozen=True)
class Unit:
    name: str
    """The systemd unit, without .service."""
    user: str
    group: str
    declared: str
    """Where this identity comes from."""
    supplementary_groups: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    """AmbientCapabilities, the same as CapabilityBoundingSet; empty: none at all."""
    runtime_directory: str | None = None
    runtime_directory_mode: int = 0o755
    state_directory: str | None = None
    state_directory_mode: int = 0o755
    logs_directory: str | None = None
    logs_directory_mode: int = 0o755
    dynamic_user: bool = False
    """systemd allocates the user at start; here an account of that name stands in for it."""
    umask: int = 0o022
    no_new_privileges: bool = False
    """NoNewPrivileges=: the unit's processes can gain no privilege (setuid, file capabilities). Only an explicit
    setting counts (systemd implies it for a system unit only when its manager lacks CAP_SYS_ADMIN, which PID 1
    has); each unit's comment says where its module sets it, or that it does not."""
    environment: dict[str, str] = field(default_factory=dict)


UNITS = {
    unit.name: unit
    for unit in (
        Unit(
            "bird",
            "bird",
            "bird",
            f"{NIXPKGS} nixos/modules/services/networking/bird.nix (nixfmt version, index id 62198008269)",
            capabilities=("net_admin", "net_bind_service", "net_raw"),
            runtime_directory="bird",
            # NoNewPrivileges: bird.nix does not set it.
        ),
        Unit(
            "kea-dhcp4-server",
            "kea",
            "kea",
            f"{NIXPKGS} nixos/modules/services/networking/kea.nix (Kea 3 version, index id 61943003880)",
            capabilities=("net_bind_service", "net_raw"),
            runtime_directory="kea",
            runtime_directory_mode=0o750,
            state_directory="kea",
            umask=0o077,
            dynamic_user=True,
            # NoNewPrivileges: kea.nix does not set it.
        ),
        Unit(
            "orion-unbound",
            "unbound",
            "unbound",
            "nix/modules/orion-router.nix",
            capabilities=("net_bind_service",),
            runtime_directory="unbound",
            state_directory="unbound",
            no_new_privileges=True,  # orion-router.nix: systemd.services.orion-unbound.serviceConfig.NoNewPrivileges
        ),
        Unit(
            "prometheus-node-exporter",
            "node-exporter",
            "node-exporter",
            f"{NIXPKGS} nixos/modules/services/monitoring/prometheus/exporters/node.nix "
            "@ b66158b36393dc57a7e8f39eb4cb2c3d54b66333",
            runtime_directory="prometheus-node-exporter",
            umask=0o077,
            no_new_privileges=True,  # prometheus/exporters.nix, mkExporterConf: every exporter sets it
        ),
        Unit(
            "prometheus-bird-exporter",
            "bird-exporter",
            "bird-exporter",
            f"{NIXPKGS} nixos/modules/services/monitoring/prometheus/exporters/bird.nix (index id 62442750326)",
            supplementary_groups=("bird",),
            dynamic_user=True,
            umask=0o077,
            no_new_privileges=True,  # prometheus/exporters.nix, mkExporterConf: every exporter sets it
        ),
        Unit(
            "prometheus-kea-exporter",
            "kea",
            "kea-exporter",
            f"{NIXPKGS} nixos/modules/services/monitoring/prometheus/exporters/kea.nix "
            "@ 2faec4eca3b0717c3e754e5858e006cd14d288c1",
            dynamic_user=True,
            umask=0o077,
            no_new_privileges=True,  # prometheus/exporters.nix, mkExporterConf: every exporter sets it
        ),
        Unit(
            "prometheus",
            "prometheus",
            "prometheus",
            f"{NIXPKGS} nixos/modules/services/monitoring/prometheus/default.nix (index id 62237455239)",
            runtime_directory="prometheus",
            runtime_directory_mode=0o700,
            state_directory="prometheus2",
            state_directory_mode=0o700,
            no_new_privileges=True,  # prometheus/default.nix: serviceConfig.NoNewPrivileges
        ),
        Unit(
            "alertmanager",
            "alertmanager",
            "alertmanager",
            f"{NIXPKGS} nixos/modules/services/monitoring/prometheus/alertmanager.nix (index id 23545623)",
            state_directory="alertmanager",
            dynamic_user=True,
            no_new_privileges=True,  # alertmanager.nix: serviceConfig.NoNewPrivileges
        ),
        Unit(
            "orion-agent",
            "orion-agent",
            "orion-agent",
            "nix/modules/orion-agent.nix",
            state_directory="orion-agent",
            state_directory_mode=0o700,
            logs_directory="orion-agent",
            logs_directory_mode=0o750,
            dynamic_user=True,
            umask=0o077,
            no_new_privileges=True,  # orion-agent.nix: systemd.services.orion-agent.serviceConfig.NoNewPrivileges
        ),
    )
}


def _directory(machine: Machine, path: str, unit: Unit, mode: int) -> None:
    machine.run("install", "-d", "-o", unit.user, "-g", unit.group, "-m", f"{mode:o}", path)


def prepare(machine: Machine, unit: Unit) -> None:
    """The unit's account and directories, as NixOS and systemd make them."""
    machine.add_group(unit.group)
    for group in unit.supplementary_groups:
        machine.add_group(group)
    if not machine.run("getent", "passwd", unit.user, check=False):
        machine.add_account(unit.user)
    for base, directory, mode in (
        ("/run", unit.runtime_directory, unit.runtime_directory_mode),
        ("/var/lib", unit.state_directory, unit.state_directory_mode),
        ("/var/log", unit.logs_directory, unit.logs_directory_mode),
    ):
        if directory is not None:
            _directory(machine, f"{base}/{directory}", unit, mode)


def load_credentials(machine: Machine, unit: Unit, credentials: dict[str, str]) -> str:
    """LoadCredential=NAME:SOURCE for each entry: systemd (as root) copies each source into the unit's
    credentials directory, readable by the unit's user alone; a missing source fails the unit. Returns the
    directory ($CREDENTIALS_DIRECTORY, what %d expands to)."""
    directory = f"/run/credentials/{unit.name}.service"
    machine.run("rm", "-rf", directory)
    machine.run("install", "-d", "-o", unit.user, "-g", unit.group, "-m", "0500", directory)
    for name, source in credentials.items():
        machine.run("install", "-o", unit.user, "-g", unit.group, "-m", "0400", source, f"{directory}/{name}")
    return directory


def command_line(unit: Unit, command: list[str], environment: dict[str, str] | None = None) -> list[str]:
    """`command` as the unit runs it: as its user, with its groups, capabilities and umask (its main process's
    pid recorded)."""
    caps = ",".join(f"+{cap}" for cap in unit.capabilities)
    privileges = [
        "setpriv",
        f"--reuid={unit.user}",
        f"--regid={unit.group}",
        f"--groups={','.join(unit.supplementary_groups)}" if unit.supplementary_groups else "--clear-groups",
        f"--inh-caps=-all{',' + caps if caps else ''}",
        f"--ambient-caps=-all{',' + caps if caps else ''}",
        f"--bounding-set=-all{',' + caps if caps else ''}",
        *(["--no-new-privs"] if unit.no_new_privileges else []),
        "--",
    ]
    env = {**unit.environment, **(environment or {})}
    shell = f"echo $$ > {PIDS}/{unit.name}.pid; umask {unit.umask:03o}; exec " + shlex.join([*privileges, *command])
    return ["env", *(f"{name}={value}" for name, value in env.items()), "sh", "-c", shell]


def log_file(machine: Machine, unit: Unit) -> Path:
    return machine.path(f"{LOGS}/{unit.name}.log")


def start(
    machine: Machine,
    unit: Unit,
    command: list[str],
    *,
    credentials: dict[str, str] | None = None,
    environment: dict[str, str] | None = None,
) -> None:
    """Starts `unit`'s daemon in `machine` as its NixOS unit would; `credentials` maps credential names to their
    sources in the secrets directory (LoadCredential)."""
    prepare(machine, unit)
    machine.run("install", "-d", "-m", "0755", DESCRIPTIONS, PIDS, LOGS)
    description = {"command": command, "credentials": credentials, "environment": environment or {}}
    machine.path(f"{DESCRIPTIONS}/{unit.name}.json").write_text(json.dumps(description, indent=2) + "\n")
    env = dict(environment or {})
    if credentials is not None:
        env["CREDENTIALS_DIRECTORY"] = load_credentials(machine, unit, credentials)
    # As systemd knows a started unit's main process at once: `stop` right after `start` must find it.
    pid_file = machine.path(f"{PIDS}/{unit.name}.pid")
    pid_file.unlink(missing_ok=True)
    machine.start(*command_line(unit, command, env), log=log_file(machine, unit))
    netns.wait_until(
        lambda: pid_file.exists() and pid_file.read_text().strip() != "",
        timeout=5,
        failure=f"{unit.name}.service: its main process did not start",
        log=log_file(machine, unit),
        interval=0.01,
    )


def stop(machine: Machine, unit: Unit, timeout: float = 10.0) -> None:
    """SIGTERM to the unit's main process, SIGKILL if it lingers, as systemd stops it."""
    pid_file = machine.path(f"{PIDS}/{unit.name}.pid")
    if not pid_file.exists():
        return
    pid = pid_file.read_text().strip()
    machine.run("kill", "-TERM", pid, check=False)
    deadline = time.monotonic() + timeout
    while _running(pid):
        if time.monotonic() > deadline:
            machine.run("kill", "-KILL", pid, check=False)
        time.sleep(0.05)
    pid_file.unlink(missing_ok=True)


def _running(pid: str) -> bool:
    """Whether `pid` has not exited. An exited daemon stays a zombie until init reaps it (here, up to ~2 s later);
    systemd, its parent, knows at once: a zombie is stopped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # reaped
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def restart(machine: Machine, unit: Unit) -> None:
    """`systemctl restart UNIT`: stopped, its credentials loaded afresh, started as it was."""
    described = machine.path(f"{DESCRIPTIONS}/{unit.name}.json")
    if not described.exists():
        raise LabError(f"{unit.name}.service was never started here")
    description = json.loads(described.read_text())
    stop(machine, unit)
    start(
        machine,
        unit,
        description["command"],
        credentials=description["credentials"],
        environment=description["environment"],
    )
