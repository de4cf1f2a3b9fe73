"""Proxmox VE: installing it through the iDRAC, and the node's bridges, images and backup job."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command
import pulumi_proxmoxve as proxmoxve

from orion_infra.components.scripts import UNPACK_FILES, file_lines, local_script
from orion_infra.model.hosts import Host
from orion_infra.model.services import Backup, Bootstrap
from orion_infra.model.stack import OrionStack
from orion_infra.render.host_keys import HostKey
from orion_infra.render.proxmox import render_answer_file
from orion_infra.render.proxmox.host import render_first_boot

INSTALL_TIMEOUT_SECONDS = 3600
# The server outlives the wait by this much, so the wait is what stops it on the way that works.
MEDIA_GRACE_SECONDS = 600


def served_url(bootstrap: Bootstrap, file_name: str) -> str:
    return f"{str(bootstrap.serve_url).rstrip('/')}/{file_name}"


@dataclass(frozen=True)
class InstallerArgs:
    stack: OrionStack
    host: Host
    root_password_hash: pulumi.Input[str]
    """crypt(3) hash of the generated root password (pulumi-random's bcrypt_hash)."""
    ssh_keys: pulumi.Input[list[str]]
    ssh_host_key: pulumi.Output[HostKey]
    """The node's SSH host key, made by the deploy: its first boot installs it, every connection pins it."""


def media_dir(bootstrap: Bootstrap, host: Host) -> str:
    """The operator's private directory for `host`'s prepared installer and the server that serves it."""
    return f"{bootstrap.media_dir.rstrip('/')}/{host.proxmox.node}"


class ProxmoxInstaller(pulumi.ComponentResource):
    """The Proxmox VE installer ISO with this node's answer file and first-boot hook inside, served to the node's
    iDRAC alone until the installation is confirmed or its deadline passes (orion_infra/installer_media.py)."""

    url: pulumi.Output[str]
    """Where the iDRAC fetches the prepared installer (secret: it holds the serving token); known once it is
    served, so users wait for it."""

    def __init__(self, name: str, args: InstallerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:proxmox:Installer", name, None, opts)
        host, bootstrap = args.host, args.stack.bootstrap
        installer = host.proxmox.installer
        if installer is None:
            raise ValueError(f"host {host.name} has no installer settings")
        output_name = f"{host.proxmox.node}-auto-install.iso"
        inputs: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(args.root_password_hash, args.ssh_keys, args.ssh_host_key).apply(
                lambda values: file_lines(
                    {
                        "answer.toml": render_answer_file(args.stack, host, str(values[0]), list(values[1])),
                        "first-boot": render_first_boot(args.stack, host, values[2]),
                    }
                )
            )
        )
        self.iso = local_script(
            f"{name}-iso",
            "prepare-installer.sh",
            prelude=(UNPACK_FILES,),
            stdin=inputs,
            environment={
                "SERVE_DIR": bootstrap.serve_dir,
                "ISO_URL": str(installer.iso.url),
                "ISO_NAME": installer.iso.file_name,
                "ISO_SHA256": installer.iso.sha256 or "",
                "CHECKSUM_URL": str(installer.iso.checksum_url or ""),
                "OUTPUT_NAME": output_name,
                "MEDIA_DIR": media_dir(bootstrap, host),
                "MEDIA_ADDRESS": str(bootstrap.serve_url.host),
                "MEDIA_PORT": str(bootstrap.media_port),
                "MEDIA_HTTPS": "true" if host.idrac.media_over_https else "false",
                "MEDIA_SECONDS": str(INSTALL_TIMEOUT_SECONDS + MEDIA_GRACE_SECONDS),
                "IDRAC_ADDRESS": str(host.idrac.address),
                "PYTHON": sys.executable,
            },
            # A new answer or hook (a new password, key or address) prepares a new installer; the hash is kept secret
            # with what it is taken of.
            triggers=[inputs.apply(lambda text: hashlib.sha256(text.encode()).hexdigest())],
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stdout"]),
        )
        self.url = pulumi.Output.secret(self.iso.stdout.apply(str.strip))
        self.register_outputs({"url": self.url})


def wait_for_proxmox(
    name: str, host: Host, bootstrap: Bootstrap, opts: pulumi.ResourceOptions
) -> command.local.Command:
    """Blocks until the installed node's API answers, then stops serving (and so withdraws) the installer; it
    stops serving when the wait fails too."""
    return local_script(
        name,
        "wait-for-proxmox.sh",
        environment={
            "API_URL": str(host.proxmox.api_endpoint).rstrip("/"),
            "TIMEOUT_SECONDS": str(INSTALL_TIMEOUT_SECONDS),
            "POLL_SECONDS": "15",
            "MEDIA_DIR": media_dir(bootstrap, host),
        },
        opts=opts,
    )


@dataclass(frozen=True)
class NodeArgs:
    stack: OrionStack
    host: Host
    root_password: pulumi.Input[str]
    """root@pam's password: generated when ORION installed the node, the operator's secret otherwise."""
    ready: list[pulumi.Resource] = field(default_factory=list)
    """What must be done before the node's API is used (its installation)."""


class ProxmoxNode(pulumi.ComponentResource):
    """A Proxmox VE node: the API provider for it, and its Linux bridges."""

    provider: proxmoxve.Provider
    bridges: dict[str, proxmoxve.network.linux.Bridge]

    def __init__(self, name: str, args: NodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:proxmox:Node", name, None, opts)
        host, stack = args.host, args.stack
        node = host.proxmox.node
        # A fresh node serves its API with a self-signed certificate that the provider cannot pin.
        self.provider = proxmoxve.Provider(
            f"{name}-api",
            endpoint=str(host.proxmox.api_endpoint),
            username="root@pam",
            password=pulumi.Output.secret(args.root_password),
            insecure=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.ready),
        )
        management = stack.networks.management
        self.bridges = {}
        for bridge in host.bridges:
            network = stack.network_of(bridge.name, None)
            internal = stack.networks.get_internal(network)
            address = f"{bridge.address}/{internal.subnet.prefixlen}" if bridge.address and internal else None
            self.bridges[bridge.name] = proxmoxve.network.linux.Bridge(
                f"{name}-{bridge.name}",
                node_name=node,
                name=bridge.name,
                ports=bridge.ports,
                vlan_aware=bridge.vlan_aware,
                address=address,
                gateway=str(management.gateway) if bridge.name == management.bridge and management.gateway else None,
                comment=bridge.comment or network or "",
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=self.provider,
                    depends_on=args.ready,
                    # The installer created the management bridge: adopt it rather than fight it.
                    import_=f"{node}:{bridge.name}" if bridge.name == management.bridge else None,
                ),
            )
        self.register_outputs({"bridges": list(self.bridges)})


def backup_job(backup: Backup, provider: proxmoxve.Provider, opts: pulumi.ResourceOptions) -> proxmoxve.backup.Job:
    keep = {
        "keep-last": backup.retention.keep_last,
        "keep-daily": backup.retention.keep_daily,
        "keep-weekly": backup.retention.keep_weekly,
        "keep-monthly": backup.retention.keep_monthly,
    }
    return proxmoxve.backup.Job(
        "backup",
        resource_id="orion-vms",
        schedule=backup.schedule,
        storage=backup.storage,
        vmids=[str(vm_id) for vm_id in backup.vms],
        mode=backup.mode,
        compress=backup.compress,
        prune_backups={policy: str(count) for policy, count in keep.items() if count},
        enabled=True,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=provider)),
    )
