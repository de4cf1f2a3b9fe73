"""The virtual machines: the NixOS router and monitoring VMs (image, VM, configuration push with a safe
activation) and the macOS VM (the OSX-PROXMOX settings, on its own root provider)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_command as command
import pulumi_proxmoxve as proxmoxve

from orion_infra.components.scripts import UNPACK_FILES, digest, file_lines, local_script, shell_command
from orion_infra.model.hosts import SNIPPETS_DATASTORE, SNIPPETS_DIR
from orion_infra.model.services import Bootstrap
from orion_infra.model.stack import OrionStack
from orion_infra.model.vms import MacOs, Vm
from orion_infra.render.host_keys import HostKey, first_boot_user_data

NIXOS_IMAGE = "orion-nixos-base.qcow2"
TRIAL_SECONDS = 180
HEALTH_SECONDS = 120
GIB = 1024


def nixos_image(
    bootstrap: Bootstrap, base_flake: pulumi.Output[dict[str, str]], opts: pulumi.ResourceOptions
) -> command.local.Command:
    """Builds the first system of the NixOS VMs on the operator's machine from the base system's flake (`orion
    render`'s base/); stdout is the image's SHA-256."""
    return local_script(
        "nixos-base-image",
        "build-nixos-image.sh",
        prelude=(UNPACK_FILES,),
        environment={
            "SERVE_DIR": bootstrap.serve_dir,
            "FILE_NAME": NIXOS_IMAGE,
            "DIGEST": base_flake.apply(digest),
        },
        stdin=base_flake.apply(file_lines),
        triggers=[base_flake.apply(digest)],
        opts=opts,
    )


def served_file(name: str, bootstrap: Bootstrap, file_name: str, opts: pulumi.ResourceOptions) -> command.local.Command:
    """The SHA-256 of a file the operator put in the serving directory."""
    return local_script(
        name,
        "publish-file.sh",
        environment={"SERVE_DIR": bootstrap.serve_dir, "FILE_NAME": file_name},
        opts=opts,
    )


def download(
    name: str,
    *,
    node: str,
    url: str,
    checksum: pulumi.Input[str],
    content_type: str,
    file_name: str,
    opts: pulumi.ResourceOptions,
) -> proxmoxve.download.File:
    return proxmoxve.download.File(
        name,
        node_name=node,
        datastore_id="local",
        content_type=content_type,
        url=url,
        file_name=file_name,
        checksum=checksum,
        checksum_algorithm="sha256",
        opts=opts,
    )


def _network_devices(vm: Vm) -> list[proxmoxve.VmLegacyNetworkDeviceArgs]:
    return [
        proxmoxve.VmLegacyNetworkDeviceArgs(bridge=nic.bridge, model=nic.model, mac_address=nic.mac, vlan_id=nic.vlan)
        for nic in vm.nics
    ]


def first_boot_file(vm: Vm) -> str:
    """The node's snippet holding `vm`'s first-boot data."""
    return f"orion-{vm.name}-user-data.yaml"


@dataclass(frozen=True)
class NixosVmArgs:
    stack: OrionStack
    vm: Vm
    image_file_id: pulumi.Input[str]
    host_key: pulumi.Output[HostKey]
    """The VM's SSH host key, made by the deploy; its first boot installs it (nix/modules/orion-host-key.nix)."""
    node_connection: command.remote.ConnectionArgs
    """root on the VM's Proxmox node, host key pinned: where its first-boot data is written."""
    after: list[pulumi.Resource] = field(default_factory=list)
    """What the VM needs in place first (its bridges)."""


class NixosVm(pulumi.ComponentResource):
    """A NixOS VM from the base image, which names and addresses its NICs by MAC and accepts the deploy key until its
    own configuration takes over. Its cloud-init drive carries its SSH host key and nothing else (no cloud-init runs
    in it: a unit of its own installs the key before sshd starts)."""

    vm: proxmoxve.VmLegacy

    def __init__(self, name: str, args: NixosVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:vm:NixosVm", name, None, opts)
        vm = args.vm
        snippet = f"{SNIPPETS_DIR}/{first_boot_file(vm)}"
        user_data: pulumi.Output[str] = pulumi.Output.secret(args.host_key.apply(first_boot_user_data))
        self.first_boot_data = command.remote.Command(
            f"{name}-first-boot-data",
            connection=args.node_connection,
            create=shell_command("write-snippet.sh", SNIPPET=snippet),
            delete=shell_command("remove-snippet.sh", SNIPPET=snippet),
            stdin=user_data,
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.after),
        )
        self.vm = proxmoxve.VmLegacy(
            f"{name}-vm",
            node_name=vm.node,
            vm_id=vm.id,
            name=vm.name,
            description=vm.description or f"ORION {vm.role.value}, managed by Pulumi",
            tags=["orion", vm.role.value],
            cpu=proxmoxve.VmLegacyCpuArgs(cores=vm.cores, type=vm.cpu_type),
            memory=proxmoxve.VmLegacyMemoryArgs(dedicated=vm.memory_gib * GIB),
            agent=proxmoxve.VmLegacyAgentArgs(enabled=True),
            operating_system=proxmoxve.VmLegacyOperatingSystemArgs(type="l26"),
            # SeaBIOS from scsi0 (/dev/sda): the image is MBR with GRUB installed there (nix/modules/orion-vm.nix).
            scsi_hardware="virtio-scsi-single",
            disks=[
                proxmoxve.VmLegacyDiskArgs(
                    interface="scsi0",
                    datastore_id=vm.disk.datastore,
                    import_from=args.image_file_id,
                    size=vm.disk.size_gib,
                    discard="on",
                    iothread=True,
                )
            ],
            network_devices=_network_devices(vm),
            initialization=proxmoxve.VmLegacyInitializationArgs(
                datastore_id=vm.disk.datastore,
                interface="ide2",
                user_data_file_id=f"{SNIPPETS_DATASTORE}:snippets/{first_boot_file(vm)}",
            ),
            on_boot=True,
            startup=proxmoxve.VmLegacyStartupArgs(order=vm.start_order) if vm.start_order else None,
            protection=vm.protect,
            opts=pulumi.ResourceOptions(
                parent=self, protect=vm.protect, depends_on=[*args.after, self.first_boot_data]
            ),
        )
        self.register_outputs({"vm_id": vm.id})


def secrets_command(secrets_dir: str, generation: str) -> str:
    """Writes the secret files on stdin (file_lines) into the secrets directory's set `generation`, root only."""
    return shell_command("write-secrets.sh", SECRETS_DIR=secrets_dir, GENERATION=generation)


def files_command(flake_digest: str) -> str:
    """Stages the flake on stdin (file_lines) under its digest."""
    return shell_command(UNPACK_FILES, "receive-config.sh", DIGEST=flake_digest)


def trial_command(flake_digest: str, trial_seconds: int = TRIAL_SECONDS) -> str:
    """Builds the staged flake and switches to the system on probation."""
    return shell_command("activate.sh", DIGEST=flake_digest, TRIAL_SECONDS=trial_seconds)


def confirm_command(
    flake_digest: str,
    router_name: str | None,
    *,
    secrets_dir: str,
    generation: str,
    trial_seconds: int = TRIAL_SECONDS,
    health_seconds: int = HEALTH_SECONDS,
) -> str:
    """Over a fresh connection: the trial still running (or started again, and a failure), the router's health
    checks (for the router), then the confirmation, which also forgets the sets of secrets no committed system
    reads any more."""
    parameters: dict[str, object] = {
        "DIGEST": flake_digest,
        "TRIAL_SECONDS": trial_seconds,
        "SECRETS_DIR": secrets_dir,
        "GENERATION": generation,
    }
    if router_name is None:
        return shell_command("ensure-trial.sh", "confirm.sh", **parameters)
    return shell_command(
        "ensure-trial.sh",
        "router-health.sh",
        "confirm.sh",
        **parameters,
        HEALTH_SECONDS=health_seconds,
        ROUTER_NAME=router_name,
    )


@dataclass(frozen=True)
class NixosConfigArgs:
    flake: pulumi.Input[dict[str, str]]
    """The system's flake, by path inside it (`orion render`'s directory for its role)."""
    secrets: pulumi.Output[str]
    """The VM's secret files (file_lines, secret), written to the VM's secrets directory."""
    secrets_generation: pulumi.Output[str]
    """The name of this set of secrets: the flake's system reads them from its directory of the secrets directory."""
    secrets_dir: str
    connection: command.remote.ConnectionArgs
    vm: pulumi.Resource
    """The VM it goes to: a new VM (replaced) gets every step again."""
    router_name: str | None = None
    """For the router: its DNS name, which must resolve before the trial is confirmed. None for other VMs."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class NixosConfig(pulumi.ComponentResource):
    """Pushes a VM's configuration and switches to it on probation: the secrets, then the flake (staged under its
    digest), then a trial of the system built from it, confirmed over a fresh connection.

    Each step is re-run exactly when the content it carries changes (triggers are content hashes)."""

    def __init__(self, name: str, args: NixosConfigArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:nixos:Config", name, None, opts)
        flake = pulumi.Output.from_input(args.flake)
        flake_digest = flake.apply(digest)
        # A new set of secrets is a new generation, and so a new flake (its system reads that generation): the trial
        # and the confirmation follow from the flake's digest.
        secrets = command.remote.Command(
            f"{name}-secrets",
            connection=args.connection,
            create=args.secrets_generation.apply(lambda generation: secrets_command(args.secrets_dir, generation)),
            stdin=args.secrets,
            triggers=[args.secrets_generation],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.vm, *args.depends_on], replace_with=[args.vm]),
        )
        staged = command.remote.Command(
            f"{name}-files",
            connection=args.connection,
            create=flake_digest.apply(files_command),
            stdin=flake.apply(file_lines),
            triggers=[flake_digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.vm, *args.depends_on], replace_with=[args.vm]),
        )
        trial = command.remote.Command(
            f"{name}-trial",
            connection=args.connection,
            create=flake_digest.apply(trial_command),
            triggers=[flake_digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secrets, staged], replace_with=[args.vm]),
        )
        # A new connection: if the new configuration cut management access, this cannot connect, the deploy
        # fails, and orion-trial switches back to the previous system by itself.
        self.activation = command.remote.Command(
            f"{name}-confirm",
            connection=args.connection,
            create=pulumi.Output.all(flake_digest, args.secrets_generation).apply(
                lambda values: confirm_command(
                    values[0], args.router_name, secrets_dir=args.secrets_dir, generation=values[1]
                )
            ),
            triggers=[flake_digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[trial], replace_with=[args.vm]),
        )
        self.register_outputs({"digest": flake_digest})


# The Apple SMC key and CPU flags OSX-PROXMOX gives QEMU: macOS refuses to boot without them.
APPLE_SMC = 'isa-applesmc,osk="ourhardworkbythesewordsguardedpleasedontsteal(c)AppleComputerInc"'
MACOS_QEMU_ARGS = (
    f"-device {APPLE_SMC} -smbios type=2 -device qemu-xhci -device usb-kbd -device usb-tablet "
    "-global nec-usb-xhci.msi=off -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off "
    "-cpu Haswell-noTSX,vendor=GenuineIntel,+invtsc,+hypervisor,kvm=on,vmware-cpuid-freq=on"
)


@dataclass(frozen=True)
class MacosVmArgs:
    vm: Vm
    api_endpoint: str
    root_password: pulumi.Input[str]
    """root@pam's password: Proxmox refuses QEMU `args` from API tokens, even root's."""
    opencore_file_id: pulumi.Input[str]
    recovery_file_id: pulumi.Input[str]
    insecure: bool = False
    """Whether the API's certificate goes unverified (the operator's explicit opt-out)."""
    after: list[pulumi.Resource] = field(default_factory=list)
    """What the VM needs in place first (its bridges, the API's trust anchor)."""


class MacosVm(pulumi.ComponentResource):
    """macOS Sequoia as OSX-PROXMOX sets it up, on a provider of its own that logs in as root@pam."""

    vm: proxmoxve.VmLegacy

    def __init__(self, name: str, args: MacosVmArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:vm:MacosVm", name, None, opts)
        vm = args.vm
        if not isinstance(vm.os, MacOs):
            raise ValueError(f"VM {vm.name} is not a macOS VM")
        # Only this VM uses the password-authenticated root provider.
        self.root_provider = proxmoxve.Provider(
            f"{name}-root-api",
            endpoint=args.api_endpoint,
            username="root@pam",
            password=pulumi.Output.secret(args.root_password),
            insecure=args.insecure,
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.after),
        )
        self.vm = proxmoxve.VmLegacy(
            f"{name}-vm",
            node_name=vm.node,
            vm_id=vm.id,
            name=vm.name,
            description=vm.description or "ORION macOS development VM, managed by Pulumi",
            tags=["orion", "macos"],
            bios="ovmf",
            machine="q35",
            efi_disk=proxmoxve.VmLegacyEfiDiskArgs(datastore_id=vm.disk.datastore, type="4m", pre_enrolled_keys=False),
            cpu=proxmoxve.VmLegacyCpuArgs(cores=vm.cores, type=vm.cpu_type),
            memory=proxmoxve.VmLegacyMemoryArgs(dedicated=vm.memory_gib * GIB),
            kvm_arguments=MACOS_QEMU_ARGS,
            smbios=proxmoxve.VmLegacySmbiosArgs(product=vm.os.smbios_model, manufacturer="Apple Inc."),
            vga=proxmoxve.VmLegacyVgaArgs(type="vmware"),
            operating_system=proxmoxve.VmLegacyOperatingSystemArgs(type="other"),
            # q35 has no ide3: the installer image goes on ide2 (the only cdrom).
            cdrom=proxmoxve.VmLegacyCdromArgs(interface="ide2", file_id=args.opencore_file_id),
            disks=[
                proxmoxve.VmLegacyDiskArgs(
                    interface="sata0", datastore_id=vm.disk.datastore, size=vm.disk.size_gib, cache="none", discard="on"
                ),
                proxmoxve.VmLegacyDiskArgs(
                    interface="ide0", datastore_id=vm.disk.datastore, import_from=args.recovery_file_id, size=2
                ),
            ],
            boot_orders=["ide2", "sata0", "ide0"],
            network_devices=_network_devices(vm),
            on_boot=False,
            startup=proxmoxve.VmLegacyStartupArgs(order=vm.start_order) if vm.start_order else None,
            protection=vm.protect,
            opts=pulumi.ResourceOptions(
                parent=self, provider=self.root_provider, protect=vm.protect, depends_on=args.after
            ),
        )
        self.register_outputs({"vm_id": vm.id})
