"""The answer file of Proxmox VE's automated installer, from the stack model.

The root password arrives hashed (crypt format, as /etc/shadow holds it); the file is still a secret and is only
ever handled as one.
"""

from __future__ import annotations

import tomli_w

from orion_infra.model.hosts import Host
from orion_infra.model.stack import OrionStack


def render_answer_file(stack: OrionStack, host: Host, root_password_hash: str, ssh_keys: list[str]) -> str:
    installer = host.proxmox.installer
    if installer is None:
        raise ValueError(f"host {host.name} has no installer settings (proxmox.install is false)")
    management = stack.networks.management
    address = stack.management_address(host)
    nic = next(port for bridge in host.bridges if bridge.name == management.bridge for port in bridge.ports)
    mac = next((n.mac for n in host.nics if n.name == nic and n.mac), None)
    disk_setup: dict[str, object] = {"filesystem": installer.filesystem, "disk-list": installer.disks}
    if installer.zfs_raid is not None:
        disk_setup["zfs"] = {"raid": installer.zfs_raid}
    answer = {
        "global": {
            "keyboard": installer.keyboard,
            "country": installer.country,
            "fqdn": f"{host.proxmox.node}.{stack.dns.domain}",
            "mailto": installer.mailto,
            "timezone": installer.timezone,
            "root-password-hashed": root_password_hash,
            "root-ssh-keys": ssh_keys,
            "reboot-on-error": False,
        },
        "network": {
            "source": "from-answer",
            "cidr": f"{address}/{management.subnet.prefixlen}",
            "dns": str(stack.dns.upstreams[0].address),
            "gateway": str(management.gateway),
            # The management port by its burned-in MAC where known, else by name: vmbr0 is built on it.
            "filter": {"ID_NET_NAME_MAC": f"*{mac.replace(':', '').lower()}"} if mac else {"ID_NET_NAME": nic},
        },
        "disk-setup": disk_setup,
        # The hook prepare-iso embeds (render_first_boot): it seals the host before its network comes up.
        "first-boot": {"source": "from-iso", "ordering": "before-network"},
    }
    return tomli_w.dumps(answer)
