"""The rules of Proxmox VE's automated-installation answer file (PVE 9 documentation, "Automated Installation"),
as a checker: `proxmox-auto-install-assistant validate-answer` itself only ships in Proxmox's own repository."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

FILESYSTEMS = {"ext4", "xfs", "zfs", "btrfs"}
ZFS_RAID = {"raid0": 1, "raid1": 2, "raid10": 4, "raidz-1": 3, "raidz-2": 4, "raidz-3": 5}
GLOBAL_KEYS = {
    "keyboard",
    "country",
    "fqdn",
    "mailto",
    "timezone",
    "root-password",
    "root-password-hashed",
    "root-ssh-keys",
    "reboot-on-error",
    "reboot-mode",
}
FQDN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _require(section: dict[str, Any], where: str, key: str, problems: list[str]) -> Any:
    if key not in section:
        problems.append(f"{where}.{key}: required")
    return section.get(key)


def answer_problems(answer: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for section in ("global", "network", "disk-setup"):
        if section not in answer:
            problems.append(f"{section}: required section")
    unknown_sections = set(answer) - {"global", "network", "disk-setup", "post-installation-webhook", "first-boot"}
    problems += [f"{section}: unknown section" for section in sorted(unknown_sections)]
    problems += _global_problems(answer.get("global", {}))
    problems += _network_problems(answer.get("network", {}))
    problems += _disk_problems(answer.get("disk-setup", {}))
    if "first-boot" in answer:
        problems += _first_boot_problems(answer["first-boot"])
    return problems


def _first_boot_problems(first_boot: dict[str, Any]) -> list[str]:
    """pve-installer's FirstBootHookInfo (proxmox-auto-installer/src/answer.rs), which denies unknown fields."""
    keys = {"source", "ordering", "url", "cert-fingerprint"}
    problems = [f"first-boot.{key}: unknown key" for key in sorted(set(first_boot) - keys)]
    source = _require(first_boot, "first-boot", "source", problems)
    if source not in (None, "from-iso", "from-url"):
        problems.append(f"first-boot.source: {source!r} is neither from-iso nor from-url")
    if ("url" in first_boot) != (source == "from-url"):
        problems.append("first-boot.url: required with source from-url, and only then")
    ordering = first_boot.get("ordering", "fully-up")
    if ordering not in ("before-network", "network-online", "fully-up"):
        problems.append(f"first-boot.ordering: {ordering!r} is not before-network, network-online or fully-up")
    return problems


def _global_problems(glob: dict[str, Any]) -> list[str]:
    problems = [f"global.{key}: unknown key" for key in sorted(set(glob) - GLOBAL_KEYS)]
    for key in ("keyboard", "country", "fqdn", "mailto", "timezone"):
        _require(glob, "global", key, problems)
    if ("root-password" in glob) == ("root-password-hashed" in glob):
        problems.append("global: exactly one of root-password and root-password-hashed")
    hashed = glob.get("root-password-hashed")
    if hashed is not None and not re.match(r"^\$(2[aby]|5|6|y)\$", str(hashed)):
        problems.append("global.root-password-hashed: not a crypt(3) hash")
    if "fqdn" in glob and not FQDN.match(str(glob["fqdn"])):
        problems.append(f"global.fqdn: {glob['fqdn']!r} is not a fully qualified domain name")
    if "country" in glob and not re.fullmatch(r"[a-z]{2}", str(glob["country"])):
        problems.append(f"global.country: {glob['country']!r} is not a two-letter country code")
    for key in glob.get("root-ssh-keys", []):
        if not re.match(r"^(ssh-|ecdsa-|sk-)", key):
            problems.append("global.root-ssh-keys: an entry is not an OpenSSH public key")
    return problems


def _network_problems(network: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    source = _require(network, "network", "source", problems)
    if source not in (None, "from-dhcp", "from-answer"):
        problems.append(f"network.source: {source!r} is neither from-dhcp nor from-answer")
    if source == "from-answer":
        cidr = _require(network, "network", "cidr", problems)
        gateway = _require(network, "network", "gateway", problems)
        _require(network, "network", "dns", problems)
        if not network.get("filter"):
            problems.append("network.filter: required with source from-answer")
        if cidr and gateway:
            interface = ipaddress.ip_interface(cidr)
            if ipaddress.ip_address(gateway) not in interface.network:
                problems.append(f"network.gateway: {gateway} is not in {interface.network}")
    return problems


def _disk_problems(disks: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    filesystem = _require(disks, "disk-setup", "filesystem", problems)
    if filesystem is not None and filesystem not in FILESYSTEMS:
        problems.append(f"disk-setup.filesystem: {filesystem!r} is not one of {sorted(FILESYSTEMS)}")
    if ("disk-list" in disks) == ("filter" in disks):
        problems.append("disk-setup: exactly one of disk-list and filter")
    if filesystem == "zfs":
        raid = disks.get("zfs", {}).get("raid")
        if raid not in ZFS_RAID:
            problems.append(f"disk-setup.zfs.raid: {raid!r} is not one of {sorted(ZFS_RAID)}")
        elif len(disks.get("disk-list", [])) < ZFS_RAID[raid]:
            problems.append(f"disk-setup.disk-list: {raid} needs at least {ZFS_RAID[raid]} disks")
    return problems
