"""Every system ORION builds carries the disk layout and boot loader the VM was made with (the qemu image
variant's), so a switch after the image never loses them; and nothing expects a hardware-configuration.nix,
which no installer ever writes on these VMs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orion_infra.model import RawConfig
from tests.nix.nix_reader import module_values
from tests.pulumi_harness import ProgramRun, PulumiUp
from tests.test_program import SECRETS

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("base", "router", "monitor")
IMPORT = re.compile(r"\.\./\.\./modules/([a-z-]+\.nix)|\./([a-z-]+\.nix)")


def imported(module: Path) -> set[str]:
    """The modules `module` imports, transitively (by file name)."""
    found = set()
    for first, second in IMPORT.findall(module.read_text()):
        name = first or second
        if name not in found:
            found |= {name, *imported(ROOT / "nix" / "modules" / name)}
    return found


@pytest.mark.parametrize("role", HOSTS)
def test_each_system_carries_the_vms_disk_and_boot_loader(role: str) -> None:
    assert "orion-vm.nix" in imported(ROOT / "nix" / "hosts" / role / "configuration.nix")


def test_the_layout_is_the_qemu_images() -> None:
    values = module_values((ROOT / "nix" / "modules" / "orion-vm.nix").read_text())
    assert values[("fileSystems", "/", "device")] == "/dev/disk/by-label/nixos"
    assert values[("fileSystems", "/", "fsType")] == "ext4"
    assert values[("boot", "loader", "grub", "enable")] is True
    assert values[("boot", "loader", "grub", "device")] == "/dev/sda"


def test_nothing_expects_a_hardware_configuration() -> None:
    for path in [ROOT / "flake.nix", *(ROOT / "nix").rglob("*.nix")]:
        code = re.sub(r"#[^\n]*", "", path.read_text())
        assert "hardware-configuration" not in code, path


def test_the_vm_boots_the_disk_the_boot_loader_is_installed_on(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    """/dev/sda: the first disk on scsi0 of a virtio-scsi controller, booted by SeaBIOS (the image is MBR/GRUB,
    not EFI)."""
    run: ProgramRun = pulumi_up(default_raw.values, SECRETS)
    assert run.error is None, run.log
    for name in ("orion-router-vm", "orion-monitor-vm"):
        vm = run.by_name(name).inputs
        assert vm["scsiHardware"] == "virtio-scsi-single"
        assert [disk["interface"] for disk in vm["disks"]] == ["scsi0"]
        assert vm.get("bios", "seabios") == "seabios"
