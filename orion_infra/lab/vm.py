"""A lab machine set up as ORION's base image sets up a VM: a Nix store with its daemon, sshd as NixOS configures it
(keys only, StrictModes, no root) with the host key the deploy made for the VM (installed from the first-boot data
on its cloud-init drive by orion-host-key, as NixOS runs it), the NICs named by MAC as udev names them at boot, and
the base system built and switched to by the stand-in nixos-rebuild (its activation makes the admin account, in
wheel, with the deploy key and NixOS's sudo rules, and addresses the NICs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orion_agent
import orion_infra
from orion_infra.lab import netns, python_env, shell_application, systems
from orion_infra.lab.machine import Machine
from orion_infra.render import REPOSITORY, host_data
from orion_infra.render.host_keys import HostKey, first_boot_user_data

# Nix as a VM runs it: the daemon builds for the users; no build users or sandbox here.
NIX_CONF = "build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes\n"
# NixOS puts the setuid wrappers and the system's packages first on PATH; sshd hands it to every session.
PATH = "/run/wrappers/bin:/run/current-system/sw/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
SSHD_CONFIG = f"""HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u
StrictModes yes
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
SetEnv PATH={PATH}
"""
# What the machine's Python daemons and the stand-ins import, copied where their users can read it.
DISTRIBUTIONS = [
    "click",
    "pydantic",
    "pydantic-settings",
    "prometheus-client",
    "requests",
    "kea-exporter",
    # What importing orion_infra.render (for host.json's types) brings along.
    "jinja2",
    "pyyaml",
    "grafana-foundation-sdk",
]


def _python(machine: Machine) -> None:
    target = machine.path(systems.PYTHON)
    python_env.install(target, DISTRIBUTIONS)
    for package in (orion_infra, orion_agent):
        source = Path(str(package.__file__)).resolve().parent
        # With the bytecode beside it (still valid: copytree keeps modification times), as for the distributions.
        shutil.copytree(source, target / source.name, dirs_exist_ok=True)


def _stand_ins(machine: Machine) -> None:
    """The lab's systemctl, and nixos-rebuild, as the system's packages would put them on PATH."""
    for name, module in (
        ("systemctl", "orion_infra.lab.systemctl"),
        ("nixos-rebuild", "orion_infra.lab.nixos_rebuild"),
    ):
        shell_application.install(machine.path(f"{systems.LAB_BIN}/{name}"), systems.python_module(module))
    wrappers = machine.path("/run/wrappers/bin")
    wrappers.mkdir(parents=True, exist_ok=True)
    (wrappers / "sudo").symlink_to("/usr/bin/sudo")


def boot_names(machine: Machine, interfaces: list[host_data.BaseInterface]) -> None:
    """What udev does with the image's .link files as each NIC appears at boot: names it by its MAC. (Nothing
    renames an interface later: the kernel refuses while it is up, and udev acts only on new devices.)"""
    names = {interface.mac: interface.name for interface in interfaces}
    for link in json.loads(machine.run("ip", "-j", "link", "show")):
        name = names.get(link.get("address", ""))
        if name is not None and link["ifname"] != name:
            machine.run("ip", "link", "set", "dev", link["ifname"], "down")
            machine.run("ip", "link", "set", "dev", link["ifname"], "name", name)
            machine.run("ip", "link", "set", "dev", name, "up")


def first_boot_host_key(machine: Machine, key: HostKey, seed_dir: str) -> None:
    """What the VM's first boot does with its cloud-init drive: orion-host-key, as NixOS builds and runs it, installs
    the host key the deploy made, before sshd starts. The drive shows as the VM's mount shows it: root's alone
    (orion-host-key.nix: uid=0, gid=0, mode=0400, dmode=0500, overriderockperm)."""
    drive = machine.path(seed_dir)
    drive.mkdir(parents=True, exist_ok=True)
    (drive / "user-data").write_text(first_boot_user_data(key))
    (drive / "user-data").chmod(0o400)
    drive.chmod(0o500)
    script = f"{systems.LAB_BIN}/orion-host-key"
    shell_application.install(machine.path(script), (REPOSITORY / "nix/scripts/orion-host-key").read_text())
    machine.run("env", f"SEED_DIR={seed_dir}", script)
    # The VM's mount stops once the key is installed (StopWhenUnneeded): the drive's copy of the key is gone.
    shutil.rmtree(drive)


def install_base(machine: Machine, base_flake: dict[str, str], host_key: HostKey) -> None:
    """Makes `machine` a freshly booted VM of ORION's base image (the machine must not exist yet), with the SSH host
    key the deploy made for it."""
    machine.create()
    base = host_data.read(base_flake["host/host.json"])
    assert isinstance(base, host_data.Base)
    boot_names(machine, base.interfaces)
    machine.path("/etc/nix").mkdir(exist_ok=True)
    machine.path("/etc/nix/nix.conf").write_text(NIX_CONF)
    _python(machine)
    _stand_ins(machine)
    machine.start("env", "NIX_CONF_DIR=/etc/nix", "nix-daemon", log=machine.path("/var/log/nix-daemon.log"))
    netns.wait_until(
        lambda: machine.path("/nix/var/nix/daemon-socket/socket").exists(),
        timeout=10,
        failure="the Nix daemon did not start",
        log=machine.path("/var/log/nix-daemon.log"),
    )
    flake = "/etc/nixos/orion-base"
    for name, text in base_flake.items():
        target = machine.path(f"{flake}/{name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    machine.run(f"{systems.LAB_BIN}/nixos-rebuild", "switch", "--flake", f"{flake}#orion", timeout=120)
    first_boot_host_key(machine, host_key, base.host_key.seed_dir)
    machine.path("/etc/ssh/sshd_config").write_text(SSHD_CONFIG)
    machine.start("/usr/sbin/sshd", "-D", "-e", log=machine.path("/var/log/sshd.log"))
