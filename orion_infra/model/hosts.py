"""Physical hosts: the hardware, its iDRAC, and the Proxmox node that runs on it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, HttpUrl, model_validator

from orion_infra.model.downloads import Download
from orion_infra.model.problems import Problems
from orion_infra.model.secrets import Secret
from orion_infra.model.types import (
    CountryCode,
    DiskName,
    EmailAddress,
    Facts,
    Hostname,
    IPv4,
    KeyboardLayout,
    MacAddress,
    PositiveInt,
    SshPublicKey,
    TimeZone,
)

# Linux interface names are at most 15 bytes (IFNAMSIZ - 1).
InterfaceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,14}$")]
BridgeName = Annotated[str, Field(pattern=r"^vmbr[0-9]{1,4}$", description="a Proxmox bridge name, vmbrN")]
# Proxmox's storage ids (pve-storage-id): a letter first, a letter or digit last.
DatastoreName = Annotated[
    str, Field(pattern=r"^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$", description="a Proxmox storage id")
]


class NicPurpose(StrEnum):
    MANAGEMENT = "management"
    WAN = "wan"
    LAN = "lan"
    GUEST = "guest"
    STORAGE = "storage"
    RESERVED = "reserved"
    AVAILABLE = "available"


class PhysicalNic(Facts):
    """One physical network port of the host."""

    name: InterfaceName
    mac: MacAddress | None = Field(default=None, description="burned-in MAC; unknown ports may leave it out")
    speed_gbps: Literal[1, 10, 25, 40, 100]
    purpose: NicPurpose


class Cpu(Facts):
    model: str
    sockets: PositiveInt
    cores_per_socket: PositiveInt
    threads_per_core: Literal[1, 2]

    @property
    def cores(self) -> int:
        return self.sockets * self.cores_per_socket

    @property
    def threads(self) -> int:
        return self.cores * self.threads_per_core


class HostReserve(Facts):
    """What the hypervisor keeps for itself; VMs must fit in the rest."""

    cores: Annotated[int, Field(ge=0)]
    memory_gib: Annotated[int, Field(ge=0)]


class TlsPolicy(Facts):
    """How to trust a management endpoint's certificate. Required, with no default: no credential goes to an
    endpoint that is not verified unless the stack says `insecure` for that host."""

    verify: Literal["system", "ca_bundle", "fingerprint", "first_use", "insecure"] = Field(
        description="system: the machine's CA store; ca_bundle: a PEM bundle of your own; fingerprint: the certificate "
        "whose SHA-256 is given here (checked out of band); first_use: for a new iDRAC's self-signed certificate, "
        "the first `pulumi up` records the certificate it presents (a TLS handshake, nothing sent) in the Pulumi "
        "state, and every call after it, the password rotation first, is pinned to it: a different certificate "
        "later stops the deploy before any password is sent (`pulumi up --replace` the host's TlsIdentity to "
        "record a new one); insecure: any certificate, an explicit opt-out that `orion validate` warns about"
    )
    ca_bundle: str | None = Field(default=None, description="path to a PEM bundle, with verify: ca_bundle")
    sha256_fingerprint: Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$")] | None = Field(
        default=None, description="the certificate's SHA-256 fingerprint, with verify: fingerprint"
    )

    @model_validator(mode="after")
    def _matching_material(self) -> Self:
        problems = Problems()
        if self.verify == "ca_bundle" and self.ca_bundle is None:
            problems.add(("ca_bundle",), "verify: ca_bundle needs the path of a PEM bundle")
        if self.verify == "fingerprint" and self.sha256_fingerprint is None:
            problems.add(("sha256_fingerprint",), "verify: fingerprint needs the certificate's SHA-256 fingerprint")
        if self.verify != "ca_bundle" and self.ca_bundle is not None:
            problems.add(("ca_bundle",), f"is only used with verify: ca_bundle, not verify: {self.verify}")
        if self.verify != "fingerprint" and self.sha256_fingerprint is not None:
            problems.add(("sha256_fingerprint",), f"is only used with verify: fingerprint, not verify: {self.verify}")
        problems.raise_if_any("TlsPolicy")
        return self


class Idrac(Facts):
    """The host's iDRAC. The password is the one it has now (calvin on a new machine); ORION rotates it."""

    address: IPv4
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,16}$")]
    password: Secret
    tls: TlsPolicy = Field(
        description="how to trust the iDRAC's certificate; first_use suits a new iDRAC (docs/decisions/0030)"
    )
    media_over_https: bool = Field(
        default=True,
        description="fetch the Proxmox installer over HTTPS (iDRAC8 firmware 2.70 and later); false serves it over "
        "plain HTTP, still to this iDRAC alone",
    )


class Datastore(Facts):
    name: DatastoreName
    content: Annotated[
        frozenset[Literal["images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"]], Field(min_length=1)
    ]


class ProxmoxInstaller(Facts):
    """What Proxmox's automated installer needs beyond the rest of the model (its answer file's [global] and
    [disk-setup] sections)."""

    iso: Download
    keyboard: KeyboardLayout = "en-us"
    country: CountryCode
    timezone: TimeZone = "UTC"
    mailto: EmailAddress
    filesystem: Literal["ext4", "xfs", "zfs"] = Field(
        description="ext4/xfs on LVM (local-lvm) over a hardware RAID volume, or zfs (local-zfs) on an HBA"
    )
    zfs_raid: Literal["raid0", "raid1", "raid10", "raidz-1", "raidz-2", "raidz-3"] | None = None
    disks: Annotated[list[DiskName], Field(min_length=1)]

    @model_validator(mode="after")
    def _disk_layout(self) -> Self:
        problems = Problems()
        if self.filesystem == "zfs" and self.zfs_raid is None:
            problems.add(("zfs_raid",), "filesystem zfs needs zfs_raid (raid0, raid1, raid10, raidz-1/2/3)")
        if self.filesystem != "zfs" and self.zfs_raid is not None:
            problems.add(("zfs_raid",), f"is only used with filesystem zfs, not {self.filesystem}")
        minimum = {"raid1": 2, "raid10": 4, "raidz-1": 3, "raidz-2": 4, "raidz-3": 5}.get(self.zfs_raid or "", 1)
        if len(self.disks) < minimum:
            problems.add(("disks",), f"{self.zfs_raid} needs at least {minimum} disks, got {len(self.disks)}")
        if self.zfs_raid == "raid10" and len(self.disks) % 2:
            problems.add(("disks",), f"raid10 mirrors pairs of disks, got an odd number ({len(self.disks)})")
        if self.filesystem != "zfs" and len(self.disks) != 1:
            problems.add(("disks",), f"{self.filesystem} installs on one disk (a RAID volume), got {len(self.disks)}")
        problems.require_unique((("disks", index), disk) for index, disk in enumerate(self.disks))
        problems.raise_if_any("ProxmoxInstaller")
        return self


# Where the VMs' cloud-init user data is written: the node's directory storage (/var/lib/vz), always there.
SNIPPETS_DATASTORE = "local"
SNIPPETS_DIR = "/var/lib/vz/snippets"


class ProxmoxTls(Facts):
    """How the deploy verifies the node's API before it sends the API token (ADR 0031)."""

    verify: Literal["node_ca", "system", "insecure"] = Field(
        default="node_ca",
        description="node_ca: the node's own CA (or the certificate installed for its API), read over the deploy's "
        "pinned SSH connection and trusted through SSL_CERT_DIR; system: this machine's trust store (a certificate "
        "from your own CA or ACME); insecure: no verification, an explicit opt-out",
    )


class ProxmoxNode(Facts):
    """The Proxmox VE node on this host."""

    node: Hostname
    api_endpoint: HttpUrl
    install: bool = Field(description="install Proxmox VE through the iDRAC; false for a host that already runs it")
    root_password: Secret | None = Field(
        default=None, description="root@pam password of an existing install; generated when ORION installs"
    )
    ssh_host_key: SshPublicKey | None = Field(
        default=None,
        description="the node's SSH host key (ssh-keyscan -t ed25519, checked with the node's console), pinned on "
        "every connection; required with install: false (ORION makes it when it installs the node)",
    )
    tls: ProxmoxTls = Field(default_factory=ProxmoxTls, description="how the API's certificate is verified")
    datastores: Annotated[list[Datastore], Field(min_length=1)]
    installer: ProxmoxInstaller | None = Field(default=None, description="required when install is true")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = Problems()
        if self.install and self.installer is None:
            problems.add(("installer",), "install: true needs the installer settings (iso, country, disks, ...)")
        if self.installer is not None:
            # The installer names its VM storage after the filesystem it set up.
            expected = "local-zfs" if self.installer.filesystem == "zfs" else "local-lvm"
            if self.datastore(expected) is None:
                problems.add(
                    ("datastores",),
                    f"the installer creates {expected} with filesystem {self.installer.filesystem}; list it here",
                )
        endpoint = urlsplit(str(self.api_endpoint))
        if endpoint.scheme != "https":
            problems.add(("api_endpoint",), f"the Proxmox API is served over https, got {endpoint.scheme}://")
        if not self.install and self.ssh_host_key is None:
            problems.add(
                ("ssh_host_key",),
                "a node that is already installed (install: false) needs its SSH host key, to check whom the deploy "
                "talks to: `ssh-keyscan -t ed25519 <node>`, compared with `ssh-keygen -lf "
                "/etc/ssh/ssh_host_ed25519_key.pub` on its console",
            )
        if self.install and self.ssh_host_key is not None:
            problems.add(("ssh_host_key",), "is made by ORION when it installs the node (install: true); leave it out")
        snippets = self.datastore(SNIPPETS_DATASTORE)
        if snippets is None or "snippets" not in snippets.content:
            problems.add(
                ("datastores",),
                f"the VMs' first-boot data (their host keys) goes to {SNIPPETS_DATASTORE}:snippets; "
                f"list {SNIPPETS_DATASTORE} with snippets in its content",
            )
        if not self.install and self.root_password is None:
            problems.add(
                ("root_password",),
                "a node that is already installed (install: false) needs its root password as a secret reference",
            )
        problems.require_unique(
            (("datastores", index, "name"), store.name) for index, store in enumerate(self.datastores)
        )
        problems.raise_if_any("ProxmoxNode")
        return self

    def datastore(self, name: str) -> Datastore | None:
        return next((store for store in self.datastores if store.name == name), None)


class Bridge(Facts):
    """A Linux bridge on the host. `address` is the host's own address on it, if any."""

    name: BridgeName
    ports: list[InterfaceName] = Field(default_factory=list)
    vlan_aware: bool = False
    address: IPv4 | None = None
    comment: str = ""


class Host(Facts):
    """One physical server running a Proxmox VE node."""

    name: Hostname
    model: str
    service_tag: Annotated[str, Field(pattern=r"^[A-Z0-9]{7}$", description="Dell service tag (7 characters)")]
    cpu: Cpu
    memory_gib: PositiveInt
    reserve: HostReserve
    nics: Annotated[list[PhysicalNic], Field(min_length=1)]
    bridges: list[Bridge]
    idrac: Idrac
    proxmox: ProxmoxNode

    @model_validator(mode="after")
    def _ports_and_bridges(self) -> Self:
        problems = Problems()
        problems.require_unique((("nics", index, "name"), nic.name) for index, nic in enumerate(self.nics))
        problems.require_unique((("nics", index, "mac"), nic.mac) for index, nic in enumerate(self.nics) if nic.mac)
        problems.require_unique((("bridges", index, "name"), bridge.name) for index, bridge in enumerate(self.bridges))
        nic_names = [nic.name for nic in self.nics]
        port_owner: dict[str, str] = {}
        for index, bridge in enumerate(self.bridges):
            for port_index, port in enumerate(bridge.ports):
                where = ("bridges", index, "ports", port_index)
                if port not in nic_names:
                    known = ", ".join(nic_names)
                    problems.add(where, f"{port!r} is not a NIC of host {self.name} (NICs: {known})", port)
                elif port in port_owner:
                    problems.add(where, f"NIC {port} already serves bridge {port_owner[port]}", port)
                else:
                    port_owner[port] = bridge.name
        if self.reserve.cores > self.cpu.cores:
            problems.add(
                ("reserve", "cores"),
                f"{self.reserve.cores} cores is more than the host's {self.cpu.cores} physical cores",
                self.reserve.cores,
            )
        if self.reserve.memory_gib > self.memory_gib:
            problems.add(
                ("reserve", "memory_gib"),
                f"{self.reserve.memory_gib} GiB is more than the host's {self.memory_gib} GiB of memory",
                self.reserve.memory_gib,
            )
        problems.raise_if_any("Host")
        return self

    def bridge(self, name: str) -> Bridge | None:
        return next((bridge for bridge in self.bridges if bridge.name == name), None)

    @property
    def idrac_name(self) -> str:
        """The name the local DNS gives the host's iDRAC."""
        return f"{self.name}-idrac"
