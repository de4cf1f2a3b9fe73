"""The Proxmox automated-installer answer file: what it says, and that it keeps the installer's rules."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from orion_infra.model import OrionStack
from orion_infra.render.proxmox import render_answer_file
from tests.render.proxmox_answer_rules import answer_problems

HASH = "$2b$10$abcdefghijklmnopqrstuuN4Hw8m4WG5PNMAqVvQ7QXi6qY0dL3pe"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB0bNm6sK0kZ0d1Xyq0wQk1rP0oQ6eG2v3lqz8kq9q3e orion-deploy"


def answer(stack: OrionStack) -> dict[str, Any]:
    return tomllib.loads(render_answer_file(stack, stack.hosts[0], HASH, [KEY]))


def test_the_answer_file_keeps_the_installers_rules(default_stack: OrionStack) -> None:
    assert answer_problems(answer(default_stack)) == []


def test_the_answer_file_says_what_the_model_says(default_stack: OrionStack) -> None:
    parsed = answer(default_stack)
    assert parsed["global"]["fqdn"] == "orion-pve.orion.home.arpa"
    assert parsed["global"]["root-password-hashed"] == HASH
    assert parsed["global"]["root-ssh-keys"] == [KEY]
    assert parsed["network"] == {
        "source": "from-answer",
        "cidr": "192.168.1.10/24",
        "dns": "1.1.1.1",
        "gateway": "192.168.1.1",
        "filter": {"ID_NET_NAME_MAC": "*d0946624967c"},
    }
    assert parsed["disk-setup"] == {"filesystem": "ext4", "disk-list": ["sda"]}
    assert parsed["first-boot"] == {"source": "from-iso", "ordering": "before-network"}


@pytest.mark.parametrize(
    ("break_it", "problem"),
    [
        (lambda a: a["global"].pop("fqdn"), "global.fqdn: required"),
        (
            lambda a: a["global"].update({"root-password": "calvin"}),
            "global: exactly one of root-password and root-password-hashed",
        ),
        (
            lambda a: a["global"].update({"root-password-hashed": "plain"}),
            "global.root-password-hashed: not a crypt(3) hash",
        ),
        (
            lambda a: a["network"].update({"gateway": "192.168.100.1"}),
            "network.gateway: 192.168.100.1 is not in 192.168.1.0/24",
        ),
        (lambda a: a["network"].pop("filter"), "network.filter: required with source from-answer"),
        (
            lambda a: a["disk-setup"].update({"filesystem": "ntfs"}),
            "disk-setup.filesystem: 'ntfs' is not one of ['btrfs', 'ext4', 'xfs', 'zfs']",
        ),
        (
            lambda a: a["disk-setup"].update({"filesystem": "zfs", "zfs": {"raid": "raid10"}}),
            "disk-setup.disk-list: raid10 needs at least 4 disks",
        ),
        (
            lambda a: a["disk-setup"].update({"filter": {"ID_SERIAL": "*"}}),
            "disk-setup: exactly one of disk-list and filter",
        ),
        (lambda a: a.update({"extras": {}}), "extras: unknown section"),
        (
            lambda a: a["first-boot"].update({"ordering": "early"}),
            "first-boot.ordering: 'early' is not before-network, network-online or fully-up",
        ),
        (
            lambda a: a["first-boot"].update({"source": "from-url"}),
            "first-boot.url: required with source from-url, and only then",
        ),
        (lambda a: a["first-boot"].update({"script": "x"}), "first-boot.script: unknown key"),
    ],
)
def test_the_rules_checker_catches_a_broken_answer(default_stack: OrionStack, break_it: Any, problem: str) -> None:
    parsed = answer(default_stack)
    break_it(parsed)
    assert problem in answer_problems(parsed)


def test_a_zfs_layout_on_four_disks(default_stack: OrionStack) -> None:
    host = default_stack.hosts[0]
    assert host.proxmox.installer is not None
    installer = host.proxmox.installer.model_copy(
        update={"filesystem": "zfs", "zfs_raid": "raid10", "disks": ["sda", "sdb", "sdc", "sdd"]}
    )
    zfs_host = host.model_copy(update={"proxmox": host.proxmox.model_copy(update={"installer": installer})})
    parsed = tomllib.loads(render_answer_file(default_stack, zfs_host, HASH, [KEY]))
    assert parsed["disk-setup"] == {
        "filesystem": "zfs",
        "disk-list": ["sda", "sdb", "sdc", "sdd"],
        "zfs": {"raid": "raid10"},
    }
    assert answer_problems(parsed) == []
