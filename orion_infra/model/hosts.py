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
BridgeName = Annotated[str, Field(pattern=r"^vmbr[0-9]{1,4}$")]
"""A Proxmox bridge name, vmbrN."""
# Proxmox's storage ids (pve-storage-id): a letter first, a letter or digit last.
DatastoreName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$")]


class NicPurpose(StrEnum):
    """What a physical port is cabled for: a network's name, reserved (kept free on purpose) or available."""

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
    """the port's interface name on the Proxmox node, e.g. eno1 (lowercase letters and digits, at most 15)"""
    mac: MacAddress | None = None
    """the burned-in MAC, unique in the stack; unknown ports may leave it out. The installer finds the
    management port by it (by its name when it is left out)"""
    speed_gbps: Literal[1, 10, 25, 40, 100]
    """the port's link speed in Gbit/s: the slowest WAN port's is the WAN capacity (when networks.wan.bandwidth_mbps
    is left out) and the slowest LAN port's the LAN capacity, which the dashboards and the monitoring agent measure
    use against"""
    purpose: NicPurpose
    """the network the port is cabled for (management, wan, lan, guest, storage), or reserved / available; a bridge
    may only take ports meant for a network it carries"""


class Cpu(Facts):
    """The host's processors: their count gives the physical cores the VMs are fitted into."""

    model: str
    """the processor model, for the record (e.g. Intel Xeon E5-2680 v4); nothing checks it"""
    sockets: PositiveInt
    """populated CPU sockets"""
    cores_per_socket: PositiveInt
    """physical cores per processor; sockets x cores_per_socket is what the VMs' cores and the reserve must fit in"""
    threads_per_core: Literal[1, 2]
    """hardware threads per core: 2 with Hyper-Threading on, else 1 (for the record: VMs are fitted to physical
    cores)"""

    @property
    def cores(self) -> int:
        return self.sockets * self.cores_per_socket

    @property
    def threads(self) -> int:
        return self.cores * self.threads_per_core


class HostReserve(Facts):
    """What the hypervisor keeps for itself; VMs must fit in the rest."""

    cores: Annotated[int, Field(ge=0)]
    """physical cores kept for Proxmox itself, at most the host's cores; the VMs on the node share the rest"""
    memory_gib: Annotated[int, Field(ge=0)]
    """memory kept for Proxmox itself, in GiB, at most the host's memory; the VMs on the node share the rest"""


class TlsPolicy(Facts):
    """How to trust a management endpoint's certificate. Required, with no default: no credential goes to an
    endpoint that is not verified unless the stack says `insecure` for that host."""

    verify: Literal["system", "ca_bundle", "fingerprint", "first_use", "insecure"]
    """system: the machine's CA store; ca_bundle: a PEM bundle of your own; fingerprint: the certificate whose
    SHA-256 is given here (checked out of band); first_use: for a new iDRAC's self-signed certificate, the first
    `pulumi up` records the certificate it presents (a TLS handshake, nothing sent) in the Pulumi state, and every
    call after it, the password rotation first, is pinned to it: a different certificate later stops the deploy
    before any password is sent (`pulumi up --replace` the host's TlsIdentity to record a new one); insecure: any
    certificate, an explicit opt-out that `orion validate` warns about"""
    ca_bundle: str | None = None
    """path of a PEM bundle of the CA certificates to trust; required with verify: ca_bundle, refused otherwise"""
    sha256_fingerprint: Annotated[str, Field(pattern=r"^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$")] | None = None
    """the certificate's SHA-256 fingerprint, 32 hex bytes (colons optional); required with verify: fingerprint,
    refused otherwise"""

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
    """the iDRAC's IPv4 address: a usable address of the management network's subnet, outside its DHCP pool"""
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,16}$")]
    """the iDRAC user ORION logs in as (1-16 letters, digits, '_', '.', '-'), root on a new machine"""
    password: Secret
    """the user's current password as a secret reference (`{secret: <configKey>}`, 1-20 printable ASCII characters);
    ORION rotates it"""
    tls: TlsPolicy
    """how to trust the iDRAC's certificate; first_use suits a new iDRAC (docs/decisions/0030)"""
    media_over_https: bool = True
    """fetch the Proxmox installer over HTTPS (iDRAC8 firmware 2.70 and later); false serves it over plain HTTP,
    still to this iDRAC alone"""


class Datastore(Facts):
    """A Proxmox storage on the node and what it may hold."""

    name: DatastoreName
    """the Proxmox storage id, e.g. local or local-lvm (a letter first, a letter or digit last; letters, digits,
    '.', '_', '-'); unique on the node"""
    content: Annotated[
        frozenset[Literal["images", "rootdir", "iso", "vztmpl", "backup", "snippets", "import"]], Field(min_length=1)
    ]
    """the content types Proxmox may keep there, at least one: images (VM disks), rootdir, iso, vztmpl, backup,
    snippets, import. VM disks need images, the backup job backup; local must have snippets (the VMs' first-boot
    data)"""


class ProxmoxInstaller(Facts):
    """What Proxmox's automated installer needs beyond the rest of the model (its answer file's [global] and
    [disk-setup] sections)."""

    iso: Download
    """the Proxmox VE installer ISO, verified by its SHA-256; ORION adds this node's answer file and first-boot hook
    to it"""
    keyboard: KeyboardLayout = "en-us"
    """the console keyboard layout, one the Proxmox installer knows (e.g. en-us, de, fr-ch)"""
    country: CountryCode
    """the node's country for the installer, ISO 3166-1 alpha-2 (e.g. ca; the United Kingdom is gb), written in
    lower case"""
    timezone: TimeZone = "UTC"
    """the node's time zone: UTC or a zone of tzdata's zone.tab, e.g. Europe/Berlin"""
    mailto: EmailAddress
    """the administrator's e-mail address the installer gives root@pam, where the node sends its notifications"""
    filesystem: Literal["ext4", "xfs", "zfs"]
    """ext4/xfs on LVM (local-lvm) over a hardware RAID volume, or zfs (local-zfs) on an HBA"""
    zfs_raid: Literal["raid0", "raid1", "raid10", "raidz-1", "raidz-2", "raidz-3"] | None = None
    """the ZFS pool's layout; required with filesystem zfs, refused otherwise. raid1 needs 2 disks, raid10 an even
    number from 4, raidz-1/2/3 3, 4 and 5"""
    disks: Annotated[list[DiskName], Field(min_length=1)]
    """the whole disks to install on as the installer sees them (e.g. sda, nvme0n1, not partitions), each once:
    one (the RAID volume) for ext4/xfs, the pool's disks for zfs"""

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

    verify: Literal["node_ca", "system", "insecure"] = "node_ca"
    """node_ca: the node's own CA (or the certificate installed for its API), read over the deploy's pinned SSH
    connection and trusted through SSL_CERT_DIR; system: this machine's trust store (a certificate from your own CA
    or ACME); insecure: no verification, an explicit opt-out"""


class ProxmoxNode(Facts):
    """The Proxmox VE node on this host."""

    node: Hostname
    """the Proxmox node's name, unique in the stack: VMs name it in `vms.<key>.node`, the local DNS gives it the
    node's management address, and an installed node's FQDN is `<node>.<dns.domain>`"""
    api_endpoint: HttpUrl
    """the node's API URL, https, e.g. https://10.0.10.2:8006; an address in it must be the node's management
    address (its bridge address on the management network)"""
    install: bool
    """install Proxmox VE through the iDRAC; false for a host that already runs it"""
    root_password: Secret | None = None
    """root@pam password of an existing install as a secret reference (at least 8 characters); required with
    install: false; generated when ORION installs"""
    ssh_host_key: SshPublicKey | None = None
    """the node's SSH host key (ssh-keyscan -t ed25519, checked with the node's console), pinned on every connection;
    required with install: false, refused with install: true (ORION makes it when it installs the node)"""
    tls: ProxmoxTls = Field(default_factory=ProxmoxTls)
    """how the API's certificate is verified before the API token is sent"""
    datastores: Annotated[list[Datastore], Field(min_length=1)]
    """the node's storages ORION uses, each name once: local with snippets in its content, and the storage the
    installer creates (local-lvm for ext4/xfs, local-zfs for zfs) when ORION installs the node"""
    installer: ProxmoxInstaller | None = None
    """the automated installer's settings; required when install is true"""

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
    """the bridge's name, vmbrN; unique on the host. Networks and VM NICs attach to it by this name"""
    ports: list[InterfaceName] = Field(default_factory=list)
    """the host's physical ports (names from nics) in the bridge, each in one bridge at most; none for a bridge
    internal to the host"""
    vlan_aware: bool = False
    """let the bridge carry tagged VLANs; required when a network or VM NIC on it sets a vlan"""
    address: IPv4 | None = None
    """the host's own address on the bridge's untagged network, only on the management or storage network (its
    prefix from that network's subnet); one on management is required: the node's API, SSH and DNS name use it"""
    comment: str = ""
    """Proxmox's comment on the bridge; left empty, the name of the untagged network it carries"""


class Host(Facts):
    """One physical server running a Proxmox VE node."""

    name: Hostname
    """the host's name, unique among hosts and VMs; the local DNS names its iDRAC `<name>-idrac`"""
    model: str
    """the server model, for the record (e.g. PowerEdge R730); the stack outputs report the one the iDRAC gives"""
    service_tag: Annotated[str, Field(pattern=r"^[A-Z0-9]{7}$")]
    """the Dell service tag (7 capital letters or digits), unique in the stack"""
    cpu: Cpu
    """the processors"""
    memory_gib: PositiveInt
    """the host's installed memory in GiB; the VMs on the node and the reserve must fit in it"""
    reserve: HostReserve
    """what the hypervisor keeps for itself"""
    nics: Annotated[list[PhysicalNic], Field(min_length=1)]
    """the physical network ports, each name and MAC once"""
    bridges: list[Bridge]
    """the Linux bridges on the node, each name once: every network's bridge must be one of them"""
    idrac: Idrac
    """the host's iDRAC"""
    proxmox: ProxmoxNode
    """the Proxmox VE node on the host"""

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
