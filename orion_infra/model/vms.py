"""The virtual machines: the router, the monitoring/agent VM and the macOS VM."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Discriminator, Field, Tag, model_validator

from orion_infra.model.hosts import BridgeName, DatastoreName, InterfaceName
from orion_infra.model.problems import Problems
from orion_infra.model.types import Facts, Hostname, IPv4, MacAddress, PositiveInt, VlanId, VmId

VmKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
# A file the operator put in bootstrap.serve_dir; ORION hashes it there and has Proxmox verify the download.
ServedFile = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class VmRole(StrEnum):
    ROUTER = "router"
    MONITORING = "monitoring"
    MACOS = "macos"


NixosRelease = Annotated[str, Field(pattern=r"^[0-9]{2}\.(05|11)$")]


class NixOs(Facts):
    family: Literal["nixos"]
    release: NixosRelease = Field(description="the NixOS release to run, e.g. 26.11; flake.lock pins its nixpkgs")
    state_version: NixosRelease = Field(
        description="system.stateVersion: the release the VM was first installed with. It stays when `release` "
        "moves on: it decides the on-disk formats of stateful services"
    )


class MacOs(Facts):
    """macOS the OSX-PROXMOX way: OpenCore boots the recovery image, which installs macOS."""

    family: Literal["macos"]
    release: Literal["sequoia"]
    smbios_model: str = "iMacPro1,1"
    opencore_image: ServedFile = Field(description="OpenCore ISO in bootstrap.serve_dir (from OSX-PROXMOX)")
    recovery_image: ServedFile = Field(description="macOS recovery image in bootstrap.serve_dir (macrecovery.py)")


def _family(value: object) -> object:
    return value.get("family") if isinstance(value, dict) else getattr(value, "family", None)


# Tags are capitalised so that error locations can tell them apart from field names and drop them.
OperatingSystem = Annotated[
    Annotated[NixOs, Tag("NixOS")] | Annotated[MacOs, Tag("MacOS")],
    Discriminator(
        lambda value: {"nixos": "NixOS", "macos": "MacOS"}.get(str(_family(value))),
        custom_error_type="os_family",
        custom_error_message="expected os.family nixos or macos",
    ),
]


# The least disk an ORION NixOS VM works on (decision 0032). Proxmox imports the base image into it, and a disk is
# never smaller than the image: nixpkgs sizes the qemu image to its system plus 512 MiB (disk-image.nix, diskSize
# "auto"), a couple of GiB. Then each switch builds the VM's own system on the VM, from the nixpkgs source
# flake.lock pins, beside the one it runs (nix.gc keeps 30 days of generations), and the journal keeps up to 1 GiB
# (orion-common.nix): two systems of a few GiB, the source and the journal.
NIXOS_DISK_GIB = 8


class Disk(Facts):
    datastore: DatastoreName
    size_gib: PositiveInt


class VmNic(Facts):
    """A virtual NIC. `name` is the interface name inside the guest, matched by MAC."""

    name: InterfaceName
    bridge: BridgeName
    vlan: VlanId | None = None
    model: Literal["virtio", "vmxnet3", "e1000"] = "virtio"
    mac: MacAddress
    ipv4: Literal["dhcp"] | IPv4 | None = Field(
        default=None, description="a static address (prefix from the network), dhcp, or none on the WAN"
    )


class Vm(Facts):
    id: VmId
    name: Hostname
    role: VmRole
    node: Hostname = Field(description="the Proxmox node the VM runs on")
    os: OperatingSystem
    cores: PositiveInt
    cpu_type: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", description="QEMU CPU model, e.g. host")]
    memory_gib: PositiveInt
    disk: Disk
    nics: Annotated[list[VmNic], Field(min_length=1)]
    start_order: PositiveInt | None = Field(default=None, description="boot order on the node; lower starts first")
    protect: bool = Field(default=True, description="refuse to delete or replace this VM")
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems()
        # The guest names its interfaces after these, matched by MAC: one name, one interface.
        problems.require_unique((("nics", index, "name"), nic.name) for index, nic in enumerate(self.nics))
        family = ROLE_FAMILY[self.role]
        if self.os.family != family:
            problems.add(
                ("os", "family"),
                f"a {self.role.value} VM runs {family} (ORION builds its system for it), got {self.os.family}",
                self.os.family,
            )
        if isinstance(self.os, NixOs) and self.disk.size_gib < NIXOS_DISK_GIB:
            problems.add(
                ("disk", "size_gib"),
                f"{self.disk.size_gib} GiB is too small for a NixOS VM: at least {NIXOS_DISK_GIB} GiB (the base image "
                "is imported into it, and each switch builds the new system beside the running one, which nix.gc "
                "keeps 30 days, with up to 1 GiB of journal)",
                self.disk.size_gib,
            )
        problems.raise_if_any("Vm")
        return self


# What each role's system is built as: NixOS systems from ORION's flake, macOS the OSX-PROXMOX way.
ROLE_FAMILY = {VmRole.ROUTER: "nixos", VmRole.MONITORING: "nixos", VmRole.MACOS: "macos"}
