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
    """What a VM is for; ORION builds each role's system."""

    ROUTER = "router"
    MONITORING = "monitoring"
    MACOS = "macos"


NixosRelease = Annotated[str, Field(pattern=r"^[0-9]{2}\.(05|11)$")]


class NixOs(Facts):
    """NixOS, built by ORION from its flake."""

    family: Literal["nixos"]
    """nixos"""
    release: NixosRelease
    """the NixOS release to run, YY.05 or YY.11, e.g. 26.11: one not past its end of life, and the one flake.lock
    pins nixpkgs to"""
    state_version: NixosRelease
    """system.stateVersion: the release the VM was first installed with, not newer than release. It stays when
    `release` moves on: it decides the on-disk formats of stateful services"""


class MacOs(Facts):
    """macOS the OSX-PROXMOX way: OpenCore boots the recovery image, which installs macOS."""

    family: Literal["macos"]
    """macos"""
    release: Literal["sequoia"]
    """the macOS release the recovery image installs: sequoia"""
    smbios_model: str = "iMacPro1,1"
    """the Mac model the VM presents to macOS (its SMBIOS product name)"""
    opencore_image: ServedFile
    """file name of the OpenCore ISO in bootstrap.serve_dir (from OSX-PROXMOX)"""
    recovery_image: ServedFile
    """file name of the macOS recovery image in bootstrap.serve_dir (macrecovery.py)"""


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
    """The VM's system disk."""

    datastore: DatastoreName
    """the storage holding the disk: one of the node's datastores with images in its content"""
    size_gib: PositiveInt
    """the disk's size in GiB: at least 8 for NixOS; the monitoring VM's must also hold what Prometheus keeps for
    monitoring.retention_days"""


class VmNic(Facts):
    """A virtual NIC. `name` is the interface name inside the guest, matched by MAC."""

    name: InterfaceName
    """the interface's name inside the guest (lowercase letters and digits, at most 15), unique in the VM"""
    bridge: BridgeName
    """the host bridge the NIC is attached to; the bridge (with vlan, that VLAN on it) must carry one of the
    networks"""
    vlan: VlanId | None = None
    """the VLAN tag (1-4094) Proxmox puts the NIC on; left out, the bridge's untagged network"""
    model: Literal["virtio", "vmxnet3", "e1000"] = "virtio"
    """the emulated NIC: virtio (paravirtual, the fastest), vmxnet3 or e1000 (for guests without virtio drivers)"""
    mac: MacAddress
    """the NIC's MAC, unique in the stack; the guest finds the interface by it"""
    ipv4: Literal["dhcp"] | IPv4 | None = None
    """a static address (prefix from the network), dhcp (the network needs a DHCP pool), or none on the WAN (its
    address comes from networks.wan.ipv4); the router's NIC on a network with a gateway has the gateway's address"""


class Vm(Facts):
    """A virtual machine on a Proxmox node."""

    id: VmId
    """the Proxmox VM id, 100 to 999999999, unique in the stack"""
    name: Hostname
    """the VM's hostname, unique among hosts and VMs; the local DNS gives it the VM's first static address (the
    router's: its LAN gateway address)"""
    role: VmRole
    """router, monitoring or macos: exactly one router and one monitoring VM (both run NixOS); macos VMs run
    macOS"""
    node: Hostname
    """the Proxmox node the VM runs on (a hosts[].proxmox.node)"""
    os: OperatingSystem
    """the operating system, by family: nixos or macos"""
    cores: PositiveInt
    """virtual CPU cores; the VMs on a node share its physical cores less the reserve"""
    cpu_type: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    """the QEMU CPU model, e.g. host (the host's own CPU) or x86-64-v3"""
    memory_gib: PositiveInt
    """dedicated memory in GiB; the VMs on a node share its memory less the reserve"""
    disk: Disk
    """the system disk"""
    nics: Annotated[list[VmNic], Field(min_length=1)]
    """the virtual NICs, at least one, each on a defined bridge carrying a network. The router needs one on wan,
    lan, guest and management; the monitoring VM a static address on a routed network"""
    start_order: PositiveInt | None = None
    """boot order on the node, lower first; left out, Proxmox starts the VM after those with an order"""
    protect: bool = True
    """refuse to delete or replace this VM (Proxmox's protection flag, and Pulumi's protect)"""
    description: str = ""
    """the VM's notes in Proxmox; left empty, one naming its role and that Pulumi manages it"""

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
