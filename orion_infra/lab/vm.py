"""A lab machine set up as ORION's base image sets up a VM: a Nix store with its daemon, sshd as NixOS configures it
(keys only, StrictModes, no root), the base system built and switched to by the stand-in nixos-rebuild (its
activation makes the admin account, in wheel, with NixOS's sudo rules), and the deploy key in the admin's
~/.ssh/authorized_keys, where cloud-init puts the key Proxmox passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import orion_agent
import orion_infra
from orion_infra.lab import netns, python_env, shell_application, systems
from orion_infra.lab.machine import Machine

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
        shutil.copytree(source, target / source.name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


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


def install_base(machine: Machine, base_flake: dict[str, str], deploy_public_key: str) -> None:
    """Makes `machine` a freshly booted VM of ORION's base image (the machine must not exist yet)."""
    machine.create()
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
    admin = systems.load(systems.current_system(machine), machine).admin_user
    _cloud_init_key(machine, admin, deploy_public_key)
    machine.run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/etc/ssh/ssh_host_ed25519_key")
    machine.path("/etc/ssh/sshd_config").write_text(SSHD_CONFIG)
    machine.start("/usr/sbin/sshd", "-D", "-e", log=machine.path("/var/log/sshd.log"))


def _cloud_init_key(machine: Machine, user: str, key: str) -> None:
    """The key as cloud-init writes it: ~/.ssh 0700 and authorized_keys 0600, owned by the user."""
    machine.run("install", "-d", "-m", "0700", "-o", user, "-g", user, f"/home/{user}/.ssh")
    machine.run("sh", "-c", f"umask 077; cat > /home/{user}/.ssh/authorized_keys", stdin=f"{key}\n")
    machine.run("chown", f"{user}:{user}", f"/home/{user}/.ssh/authorized_keys")
