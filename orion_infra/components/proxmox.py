"""Proxmox VE: installing it through the iDRAC, and the node's bridges, images and backup job."""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command
import pulumi_proxmoxve as proxmoxve

from orion_infra.components.scripts import UNPACK_FILES, file_lines, local_script, shell_command
from orion_infra.model.hosts import Host
from orion_infra.model.services import Backup, Bootstrap
from orion_infra.model.stack import OrionStack
from orion_infra.render.host_keys import HostKey
from orion_infra.render.proxmox import render_answer_file
from orion_infra.render.proxmox.host import render_first_boot
from orion_infra.trust import node_trust_file

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
                "MEDIA_ADDRESS": bootstrap.serve_host,
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


# ORION's own Proxmox account, its API token and its role (ADR 0031).
API_ACCOUNT = "orion@pve"
API_TOKEN = "deploy"  # noqa: S105 - the token's name; its secret is made on the node
API_ROLE = "OrionDeploy"
# What the token may do, and why: everything ORION's resources ask of the API, nothing of users, permissions, realms,
# consoles, power of the node, snapshots or migration. Proxmox VE 9 names (VM.Monitor is gone).
API_PRIVILEGES = {
    "VM.Allocate": "create and delete the NixOS VMs",
    "VM.Audit": "read VMs back",
    "VM.Config.CDROM": "VM hardware: cloud-init drive",
    "VM.Config.CPU": "VM hardware: cores and CPU type",
    "VM.Config.Cloudinit": "the cloud-init user data (the VMs' host keys)",
    "VM.Config.Disk": "the system disk imported from the base image",
    "VM.Config.HWType": "SCSI controller, BIOS, machine type",
    "VM.Config.Memory": "memory",
    "VM.Config.Network": "NICs",
    "VM.Config.Options": "name, description, tags, start order, protection, agent",
    "VM.PowerMgmt": "start the VMs",
    "VM.GuestAgent.Audit": "the guest agent's view of a VM (its addresses)",
    "VM.Backup": "the backup job's VMs",
    "Datastore.Allocate": "the backup job's storage",
    "Datastore.AllocateSpace": "VM disks",
    "Datastore.AllocateTemplate": "download images and ISOs to the node",
    "Datastore.Audit": "read datastores and their content",
    "SDN.Use": "attach NICs to the bridges",
    "Sys.Audit": "read the node, its network and the cluster's resources",
    "Sys.AccessNetwork": "let the node fetch an image from a URL",
    "Sys.Modify": "the node's bridges, and the backup job (POST /cluster/backup checks Sys.Modify on /)",
}


@dataclass(frozen=True)
class NodeArgs:
    stack: OrionStack
    host: Host
    connection: command.remote.ConnectionArgs
    """root on the node over SSH, its host key pinned: how its API's trust anchor and token are made."""
    trust_dir: str
    """The operator's directory of API trust anchors, which SSL_CERT_DIR names for the provider."""
    ready: list[pulumi.Resource] = field(default_factory=list)
    """What must be done before the node is used (its installation)."""


class ProxmoxNode(pulumi.ComponentResource):
    """A Proxmox VE node: how its API is trusted (its CA read over the pinned SSH connection, verify: node_ca), ORION's
    least-privileged API token on it, the API provider that uses the token, and the node's Linux bridges."""

    provider: proxmoxve.Provider
    bridges: dict[str, proxmoxve.network.linux.Bridge]
    insecure: bool
    """Whether the API's certificate goes unverified (the operator's explicit opt-out, verify: insecure)."""
    api_trusted: list[pulumi.Resource]
    """What must be in place before anything uses the API (its trust anchor on this machine)."""
    api_ca: pulumi.Output[str] | None
    """The anchor the API is verified with (PEM), with verify: node_ca."""

    def __init__(self, name: str, args: NodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:proxmox:Node", name, None, opts)
        host, stack = args.host, args.stack
        node = host.proxmox.node
        self.insecure = host.proxmox.tls.verify == "insecure"
        self.api_trusted = list(args.ready)
        self.api_ca = None
        if host.proxmox.tls.verify == "node_ca":
            anchor = command.remote.Command(
                f"{name}-api-ca",
                connection=args.connection,
                create=shell_command("proxmox-api-ca.sh"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=args.ready),
            )
            self.api_ca = anchor.stdout
            trust_file = node_trust_file(args.trust_dir, node)
            self.api_trusted = [
                local_script(
                    f"{name}-api-trust",
                    "write-trust.sh",
                    environment={"TRUST_FILE": trust_file},
                    delete=shell_command("remove-trust.sh", TRUST_FILE=trust_file),
                    stdin=anchor.stdout,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            ]
        account = {"ACCOUNT": API_ACCOUNT, "TOKEN": API_TOKEN, "ROLE": API_ROLE}
        token = command.remote.Command(
            f"{name}-api-token",
            connection=args.connection,
            create=shell_command("proxmox-api-token.sh", **account, PRIVILEGES=",".join(API_PRIVILEGES)),
            delete=shell_command("proxmox-api-token-remove.sh", ACCOUNT=API_ACCOUNT, ROLE=API_ROLE),
            # The token's secret is on stdout: kept secret in the state, never logged.
            logging=command.remote.Logging.STDERR,
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.ready, additional_secret_outputs=["stdout"]),
        )
        api_token: pulumi.Output[str] = pulumi.Output.secret(token.stdout.apply(_api_token))
        self.provider = proxmoxve.Provider(
            f"{name}-api",
            endpoint=str(host.proxmox.api_endpoint),
            api_token=api_token,
            insecure=self.insecure,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.api_trusted, token]),
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


def _api_token(printed: str) -> str:
    """`pveum user token add --output-format json`'s output as the provider takes a token: ID=SECRET."""
    token = json.loads(printed)
    return f"{token['full-tokenid']}={token['value']}"


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
