"""Each daemon of the twin's router and monitoring VM runs as its NixOS unit runs it, as the kernel tells it
(/proc/PID/status), not as the lab meant to start it: real, effective, saved and file-system user and group are the
unit's (units.UNITS), resolved in the machine's own /etc; its supplementary groups are the unit's; its permitted,
effective, bounding, ambient and inheritable capabilities are exactly the unit's; no_new_privs is set where the unit
sets NoNewPrivileges. Nothing in the machines runs as root but what NixOS runs as root (sshd, nix-daemon), and no
process there is unaccounted for. The checker is shown to fail on a daemon started without setpriv and on a wrong
expected table."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from orion_infra.lab import netns, systems, units
from orion_infra.lab.machine import Machine
from orion_infra.lab.twin import Twin
from orion_infra.lab.units import UNITS, Unit
from tests.nix.nix_reader import module_values

ROOT = Path(__file__).resolve().parents[2]

# The capabilities by their number in linux/capability.h (CAP_CHOWN 0 ... CAP_CHECKPOINT_RESTORE 40).
CAPABILITIES = (
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
)
CAPABILITY_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")

MACHINES = {"router": systems.ROUTER_UNITS, "monitor": systems.MONITOR_UNITS}
# What NixOS runs as root on these VMs and the lab's machines run too, by the program the process runs.
ROOT_DAEMONS = ("sshd", "nix-daemon")

# ORION's own units, whose NoNewPrivileges= nix/modules sets (read there: a second source for units.UNITS' value).
OWN_UNITS = {name: unit.declared for name, unit in UNITS.items() if unit.declared.startswith("nix/modules/")}


def own_module_problems(table: Mapping[str, Unit], sources: Mapping[str, str]) -> list[str]:
    """Where units.UNITS says otherwise than the module (by path, its text in `sources`) declaring one of ORION's
    own units: NoNewPrivileges is set exactly where the table says so."""
    found = []
    for name, path in OWN_UNITS.items():
        values = module_values(sources[path])
        declared = values.get(("systemd", "services", name, "serviceConfig", "NoNewPrivileges")) is True
        if table[name].no_new_privileges != declared:
            found.append(f"{name}: units.py says no_new_privileges={table[name].no_new_privileges}, {path} {declared}")
    return found


# -- what the kernel says of a process ---------------------------------------------------------------------------


def decode(mask: str) -> frozenset[str]:
    """The capabilities a /proc/PID/status mask (hex) holds; a bit without a name here shows as cap_N."""
    bits = int(mask, 16)
    return frozenset(
        CAPABILITIES[bit] if bit < len(CAPABILITIES) else f"cap_{bit}"
        for bit in range(bits.bit_length())
        if bits >> bit & 1
    )


@dataclass(frozen=True)
class Status:
    pid: str
    uids: tuple[int, ...]
    """Real, effective, saved, file system."""
    gids: tuple[int, ...]
    groups: frozenset[int]
    capabilities: dict[str, frozenset[str]]
    """By set: CapInh, CapPrm, CapEff, CapBnd, CapAmb."""
    no_new_privs: bool
    ppid: str
    command: list[str]
    exe: str
    mount_ns: str


def status(pid: str) -> Status | None:
    """What the kernel says of `pid`; None when it has exited."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
        )
        command = Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]
        exe = os.readlink(f"/proc/{pid}/exe")
        mount_ns = os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None
    return Status(
        pid=pid,
        uids=tuple(int(value) for value in fields["Uid"].split()),
        gids=tuple(int(value) for value in fields["Gid"].split()),
        groups=frozenset(int(value) for value in fields["Groups"].split()),
        capabilities={name: decode(fields[name].strip()) for name in CAPABILITY_SETS},
        no_new_privs=fields["NoNewPrivs"].strip() == "1",
        ppid=fields["PPid"].strip(),
        command=command,
        exe=exe,
        mount_ns=mount_ns,
    )


def accounts(machine: Machine) -> tuple[dict[str, int], dict[str, int]]:
    """Users and groups by name, from the machine's own /etc (not this machine's)."""
    users = {line.split(":")[0]: int(line.split(":")[2]) for line in _lines(machine, "/etc/passwd")}
    groups = {line.split(":")[0]: int(line.split(":")[2]) for line in _lines(machine, "/etc/group")}
    return users, groups


def _lines(machine: Machine, path: str) -> list[str]:
    return [line for line in machine.path(path).read_text().splitlines() if line.strip()]


# -- the checker --------------------------------------------------------------------------------------------------


def root_daemon_programs() -> dict[str, str]:
    """The executable of each daemon NixOS runs as root, as the machines run it."""
    found = {name: shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin") for name in ROOT_DAEMONS}
    missing = [name for name, path in found.items() if path is None]
    assert not missing, f"missing programs: {missing}"
    return {name: os.path.realpath(str(path)) for name, path in found.items()}


def main_process(
    machine: Machine, unit: Unit, processes: Mapping[str, Status], machine_ns: str
) -> tuple[Status | None, str]:
    """The unit's main process (systemd's MainPID: what the unit's start recorded), checked to be a process of
    the machine (its network and mount namespaces: it sees the machine's /etc) running the command the unit was
    started with."""
    pid_file = machine.path(f"{units.PIDS}/{unit.name}.pid")
    described = machine.path(f"{units.DESCRIPTIONS}/{unit.name}.json")
    if not pid_file.exists() or not described.exists():
        return None, "never started"
    pid = pid_file.read_text().strip()
    process = processes.get(pid)
    if process is None:
        return None, f"main process {pid} is not running in the machine"
    if process.mount_ns != machine_ns:
        return None, f"main process {pid} runs outside the machine's mount namespace"
    command = json.loads(described.read_text())["command"]
    if process.command != command:
        return None, f"main process {pid} runs {shlex.join(process.command)}, not {shlex.join(command)}"
    return process, ""


def identity_problems(process: Status, unit: Unit, users: dict[str, int], groups: dict[str, int]) -> list[str]:
    """How `process` differs from running as `unit` does: user, group, supplementary groups, capabilities."""
    problems = []
    uid, gid = users.get(unit.user), groups.get(unit.group)
    if uid is None or gid is None:
        return [f"no account {unit.user}:{unit.group} in the machine's /etc"]
    if process.uids != (uid,) * 4:
        problems.append(f"uids (real, effective, saved, fs) {process.uids}, not {unit.user} ({uid})")
    if process.gids != (gid,) * 4:
        problems.append(f"gids (real, effective, saved, fs) {process.gids}, not {unit.group} ({gid})")
    # systemd's initgroups() lists the unit's group among the supplementary ones, setpriv does not: the same access.
    supplementary = {groups.get(name, -1) for name in unit.supplementary_groups}
    if process.groups - {gid} != supplementary:
        problems.append(f"supplementary groups {sorted(process.groups)}, not {list(unit.supplementary_groups)}")
    wanted = frozenset(unit.capabilities)
    for name in CAPABILITY_SETS:
        if process.capabilities[name] != wanted:
            problems.append(f"{name} {sorted(process.capabilities[name])}, not {sorted(wanted)}")
    return problems


def problems(machine: Machine, expected: Mapping[str, Unit]) -> list[str]:
    """Everything that runs in `machine` otherwise than NixOS would run it, given the units it should run:
    each unit's main process as the unit says, its children no more privileged, root only for the daemons NixOS
    runs as root (their sessions and workers), and nothing else at all."""
    holder = machine.holder()
    if holder is None:
        return [f"{machine.namespace} is not running"]
    machine_ns = os.readlink(f"/proc/{holder}/ns/mnt")
    processes = {
        pid: process
        for pid in netns.pids(machine.namespace, lambda pid: pid != holder)
        if (process := status(pid)) is not None
    }
    found: list[str] = []
    users, groups = accounts(machine)
    owners: dict[str, Unit] = {}
    for unit in expected.values():
        main, why = main_process(machine, unit, processes, machine_ns)
        if main is None:
            found.append(f"{unit.name}: {why}")
            continue
        owners[main.pid] = unit
        found += [
            f"{unit.name} (pid {main.pid}): {problem}" for problem in identity_problems(main, unit, users, groups)
        ]
    root_daemons, root_problems = _root_daemons(processes)
    found += root_problems
    for pid, process in processes.items():
        if pid in owners or pid in root_daemons:
            continue
        ancestor = _ancestor(pid, processes, set(owners) | root_daemons)
        if ancestor in owners:  # a child of a unit's daemon: the unit's identity, no more capabilities
            unit = owners[ancestor]
            found += [
                f"{unit.name}'s child pid {pid}: {problem}"
                for problem in identity_problems(process, unit, users, groups)
                if not _fewer_capabilities(problem, process, unit)
            ]
        elif ancestor is None:  # sessions and workers of a root daemon are what NixOS has too
            as_root = " as root" if 0 in process.uids else ""
            found.append(f"pid {pid} ({shlex.join(process.command)}) runs{as_root}, but is no unit's process")
    return found


def _root_daemons(processes: Mapping[str, Status]) -> tuple[set[str], list[str]]:
    """The processes of the daemons NixOS runs as root, and how they differ from that: each one running, as root
    (a session's process that has become its user's excepted)."""
    programs = root_daemon_programs()
    daemons = {pid for pid, process in processes.items() if process.exe in programs.values()}
    found = [
        f"{name} is not running as root, as NixOS runs it"
        for name, program in programs.items()
        if not any(processes[pid].exe == program and processes[pid].uids == (0,) * 4 for pid in daemons)
    ]
    for pid in daemons:
        process = processes[pid]
        if process.uids != (0,) * 4 and _ancestor(pid, processes, daemons - {pid}) is None:
            found.append(f"root daemon pid {pid} ({shlex.join(process.command)}) runs as {process.uids}")
    return daemons, found


def _ancestor(pid: str, processes: Mapping[str, Status], among: set[str]) -> str | None:
    """The nearest ancestor of `pid` within the machine that is in `among`."""
    seen = set()
    current = processes[pid].ppid
    while current in processes and current not in seen:
        if current in among:
            return current
        seen.add(current)
        current = processes[current].ppid
    return None


def _fewer_capabilities(problem: str, process: Status, unit: Unit) -> bool:
    """A child may hold fewer capabilities than its unit's (after exec of a program that drops them), never others;
    the bounding set stays the unit's."""
    name = problem.split(" ", 1)[0]
    return name in ("CapInh", "CapPrm", "CapEff", "CapAmb") and process.capabilities[name] <= set(unit.capabilities)


def expected_units(role: str) -> dict[str, Unit]:
    return {name: UNITS[name] for name in MACHINES[role]}


def machine_of(twin: Twin, role: str) -> Machine:
    return twin.router if role == "router" else twin.monitor


# -- the tests ----------------------------------------------------------------------------------------------------


def test_the_capability_numbers_are_the_kernels() -> None:
    """The table decodes every capability this kernel has, by the numbers util-linux (setpriv) takes from
    linux/capability.h."""
    listed = subprocess.run(["setpriv", "--list-caps"], capture_output=True, text=True, check=True).stdout.split()
    assert list(CAPABILITIES) == listed
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert len(CAPABILITIES) == last + 1
    assert decode("0000000000003400") == {"net_bind_service", "net_admin", "net_raw"}


@pytest.mark.parametrize("role", MACHINES)
def test_every_daemon_runs_as_its_unit_and_nothing_else_as_root(twin: Twin, role: str) -> None:
    machine = machine_of(twin, role)
    assert problems(machine, expected_units(role)) == []
    users, groups = accounts(machine)
    holder = machine.holder()
    as_root = sorted(
        {
            process.exe
            for pid in netns.pids(machine.namespace, lambda pid: pid != holder)
            if (process := status(pid)) is not None and 0 in process.uids
        }
    )
    assert set(as_root) == set(root_daemon_programs().values())
    print(f"{role}: as root only {as_root} (and the machine's holder, its kernel and PID 1)")
    for unit in expected_units(role).values():
        pid = machine.path(f"{units.PIDS}/{unit.name}.pid").read_text().strip()
        print(
            f"{role}: {unit.name} pid {pid} as {unit.user}({users[unit.user]}):{unit.group}({groups[unit.group]})"
            f" caps {','.join(unit.capabilities) or 'none'}"
        )


@pytest.mark.parametrize(
    ("role", "name"),
    [(role, name) for role, names in MACHINES.items() for name in names],
)
def test_no_new_privileges_as_the_unit_sets_it(twin: Twin, role: str, name: str) -> None:
    machine = machine_of(twin, role)
    pid = machine.path(f"{units.PIDS}/{name}.pid").read_text().strip()
    process = status(pid)
    assert process is not None, f"{name} is not running"
    assert process.no_new_privs == UNITS[name].no_new_privileges


def test_orions_own_units_set_no_new_privileges_as_the_table_says() -> None:
    sources = {path: (ROOT / path).read_text() for path in OWN_UNITS.values()}
    assert set(OWN_UNITS) == {"orion-unbound", "orion-agent"}
    assert own_module_problems(UNITS, sources) == []
    assert all(UNITS[name].no_new_privileges for name in OWN_UNITS)


def test_a_table_or_a_module_that_disagrees_is_caught() -> None:
    sources = {path: (ROOT / path).read_text() for path in OWN_UNITS.values()}
    unset = {**UNITS, "orion-agent": dataclasses.replace(UNITS["orion-agent"], no_new_privileges=False)}
    assert own_module_problems(unset, sources) == [
        "orion-agent: units.py says no_new_privileges=False, nix/modules/orion-agent.nix True"
    ]
    router = OWN_UNITS["orion-unbound"]
    assert "NoNewPrivileges = true;" in sources[router]
    dropped = {**sources, router: sources[router].replace("NoNewPrivileges = true;", "")}
    assert own_module_problems(UNITS, dropped) == [
        "orion-unbound: units.py says no_new_privileges=True, nix/modules/orion-router.nix False"
    ]


PROBE = dataclasses.replace(
    UNITS["bird"], name="orion-lab-identity-probe", declared="this test", runtime_directory=None
)


def test_the_checker_catches_a_daemon_started_without_setpriv(twin: Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit (a probe with BIRD's identity, running sleep) started by units.start with setpriv deleted from its
    command line is caught (root's uid, groups and capabilities); started with setpriv, it passes."""
    router = twin.router
    expected = {**expected_units("router"), PROBE.name: PROBE}
    original = units.command_line
    try:
        monkeypatch.setattr(units, "command_line", _wrapped(original, strip=True))
        units.start(router, PROBE, ["sleep", "600"])
        found = problems(router, expected)
        probe = [problem for problem in found if PROBE.name in problem or "sleep 600" in problem]
        assert probe == found, found  # nothing but the probe is wrong
        assert any("uids (real, effective, saved, fs) (0, 0, 0, 0), not bird" in problem for problem in probe)
        assert any(problem.startswith(f"{PROBE.name} (pid") and "CapEff" in problem for problem in probe)
        assert any(problem.startswith(f"{PROBE.name} (pid") and "CapBnd" in problem for problem in probe)
        units.stop(router, PROBE)
        monkeypatch.setattr(units, "command_line", _wrapped(original, strip=False))
        units.start(router, PROBE, ["sleep", "600"])
        assert problems(router, expected) == []
        # Not among the units the router should run, the probe is caught as well.
        assert [problem for problem in problems(router, expected_units("router")) if "sleep 600" in problem]
    finally:
        units.stop(router, PROBE)
        router.path(f"{units.DESCRIPTIONS}/{PROBE.name}.json").unlink(missing_ok=True)
        units.log_file(router, PROBE).unlink(missing_ok=True)
    assert problems(router, expected_units("router")) == []


def _wrapped(original: object, *, strip: bool) -> object:
    def command_line(unit: Unit, command: list[str], environment: dict[str, str] | None = None) -> list[str]:
        line: list[str] = original(unit, command, environment)  # type: ignore[operator]
        if strip:
            line = [*line[:-1], re.sub(r"exec setpriv .*? -- ", "exec ", line[-1])]
            assert "setpriv" not in line[-1]
        return line

    return command_line


def test_the_checker_catches_a_wrong_expected_table(twin: Twin) -> None:
    router = twin.router
    right = expected_units("router")
    cases = {
        "another user": (dataclasses.replace(right["bird"], user="kea"), "uids"),
        "another group": (dataclasses.replace(right["bird"], group="kea"), "gids"),
        "a capability less": (dataclasses.replace(right["bird"], capabilities=("net_admin", "net_raw")), "CapBnd"),
        "a capability more": (
            dataclasses.replace(right["orion-unbound"], capabilities=("net_bind_service", "net_raw")),
            "CapEff",
        ),
        "no supplementary group": (
            dataclasses.replace(right["prometheus-bird-exporter"], supplementary_groups=()),
            "supplementary groups",
        ),
    }
    for case, (unit, what) in cases.items():
        found = problems(router, {**right, unit.name: unit})
        assert found, case
        assert all(problem.startswith(f"{unit.name} (pid") for problem in found), (case, found)
        assert any(what in problem for problem in found), (case, found)
    # A unit the table leaves out is a process of no unit; a unit it adds that does not run is missing.
    fewer = {name: unit for name, unit in right.items() if name != "orion-unbound"}
    assert [problem for problem in problems(router, fewer) if "but is no unit's process" in problem]
    assert problems(router, {**right, "prometheus": UNITS["prometheus"]}) == ["prometheus: never started"]
