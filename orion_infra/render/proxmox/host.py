"""The Proxmox host sealed off from the networks it bridges, as files its installer's first-boot hook writes.

The host bridges the LAN, the guest network and the WAN for its VMs without being on them: no IPv4 address there
(its bridges are `inet manual`), no IPv6 at all (the kernel would give every bridge a link-local address and take
router advertisements, on the WAN a public address), no ARP answers for its management address on other
interfaces, and a firewall that admits only the management bridge. Its services bind the management address.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from orion_infra.model.hosts import Host
from orion_infra.model.stack import OrionStack
from orion_infra.render.host_keys import HostKey

SYSCTL_FILE = "/etc/sysctl.d/90-orion-host.conf"
SSH_HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
FIREWALL_FILE = "/etc/orion/host-firewall.nft"
FIREWALL_UNIT = "orion-host-firewall.service"
DROP_COMMENT = "host: not on the management network"
# One here-document terminator for every file; no rendered file contains it on a line of its own.
END_OF_FILE = "ORION_END_OF_FILE"

SYSCTL = """\
# Rendered by ORION. The host has no IPv6 address anywhere and takes no router advertisement: its management
# network is IPv4, and the VMs' IPv6 crosses the bridges untouched (disable_ipv6 only removes the host's addresses).
net.ipv6.conf.all.disable_ipv6 = 1
net.ipv6.conf.default.disable_ipv6 = 1
net.ipv6.conf.all.accept_ra = 0
net.ipv6.conf.default.accept_ra = 0
net.ipv6.conf.lo.disable_ipv6 = 0
# ARP answers only for an address of the interface asked, and packets only where their source routes back: a VM on
# a bridge cannot reach the management address over that bridge.
net.ipv4.conf.all.arp_ignore = 1
net.ipv4.conf.default.arp_ignore = 1
net.ipv4.conf.all.arp_announce = 2
net.ipv4.conf.default.arp_announce = 2
net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
"""


@dataclass(frozen=True)
class HostFile:
    path: str
    content: str
    mode: str = "0644"


def _firewall(management_bridge: str) -> str:
    return f"""\
#!/usr/sbin/nft -f
# Rendered by ORION. The host's own input: everything on the management bridge (the router filters what is routed
# there), replies to the host's own connections elsewhere (NFS on the storage network), nothing else. Bridged VM
# traffic does not pass the host's input hook. Its own table, replaced whole, beside Proxmox's firewall.
table inet orion_host
delete table inet orion_host

table inet orion_host {{
  chain input {{
    type filter hook input priority filter - 10; policy drop;
    iifname "lo" accept
    iifname "{management_bridge}" accept
    ct state established,related accept
    counter drop comment "{DROP_COMMENT}"
  }}
}}
"""


FIREWALL_UNIT_TEXT = f"""\
[Unit]
Description=ORION: the Proxmox host answers on its management network only
DefaultDependencies=no
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f {FIREWALL_FILE}

[Install]
WantedBy=sysinit.target
"""


def _ssh_host_key_files(key: HostKey) -> list[HostFile]:
    """The SSH host key the deploy made for the node, the only one sshd offers: clients that pin it are never shown
    another type first (Go's SSH client prefers ECDSA, which Debian's sshd would offer too)."""
    return [
        HostFile(SSH_HOST_KEY, key.private_openssh, mode="0600"),
        HostFile(f"{SSH_HOST_KEY}.pub", key.public_line + "\n"),
    ]


def host_files(stack: OrionStack, host: Host, ssh_host_key: HostKey | None = None) -> list[HostFile]:
    """What the first-boot hook writes on `host`, in order; with `ssh_host_key`, the node's SSH identity too."""
    address = stack.management_address(host)
    if address is None:
        raise ValueError(f"host {host.name} has no address on the management bridge")
    sshd = f"# Rendered by ORION.\nListenAddress {address}\n"
    if ssh_host_key is not None:
        sshd += f"HostKey {SSH_HOST_KEY}\n"
    return [
        *(_ssh_host_key_files(ssh_host_key) if ssh_host_key is not None else []),
        HostFile(SYSCTL_FILE, SYSCTL),
        HostFile(FIREWALL_FILE, _firewall(stack.networks.management.bridge)),
        HostFile(f"/etc/systemd/system/{FIREWALL_UNIT}", FIREWALL_UNIT_TEXT),
        # pveproxy and spiceproxy (the web UI, the API, SPICE); pvedaemon is on loopback already.
        HostFile("/etc/default/pveproxy", f'# Rendered by ORION.\nLISTEN_IP="{address}"\n'),
        HostFile("/etc/ssh/sshd_config.d/10-orion.conf", sshd),
        # rpcbind is socket-activated on every address; the NFS client needs it only locally.
        HostFile(
            "/etc/systemd/system/rpcbind.socket.d/10-orion.conf",
            "# Rendered by ORION.\n[Socket]\nListenStream=\nListenDatagram=\n"
            "ListenStream=/run/rpcbind.sock\nListenStream=127.0.0.1:111\nListenDatagram=127.0.0.1:111\n",
        ),
    ]


def render_first_boot(stack: OrionStack, host: Host, ssh_host_key: HostKey | None = None) -> str:
    """The installer's first-boot hook (run once as root, before the network comes up): the host's files, applied.
    With `ssh_host_key` it holds a private key: it travels and rests as a secret, as the answer file does."""
    writes = []
    for file in host_files(stack, host, ssh_host_key):
        if any(line == END_OF_FILE for line in file.content.splitlines()):
            raise ValueError(f"{file.path} contains the here-document terminator {END_OF_FILE}")
        path = shlex.quote(file.path)
        writes.append(
            f"mkdir -p {shlex.quote(str(PurePosixPath(file.path).parent))}\n"
            # The mode before the content: a private key is never readable by others, not even for a moment.
            f": > {path}\nchmod {file.mode} {path}\ncat > {path} <<'{END_OF_FILE}'\n{file.content}{END_OF_FILE}\n"
        )
    return (
        "#!/bin/sh\n"
        f"# Rendered by ORION for {host.name}: the Proxmox installer runs it once, as root, before the network is up.\n"
        "set -eu\n"
        "umask 022\n" + "".join(writes) + f"sysctl -q -p {SYSCTL_FILE}\n"
        f"nft -f {FIREWALL_FILE}\n"
        "systemctl daemon-reload\n"
        f"systemctl enable {FIREWALL_UNIT}\n"
        "# Postfix sends the node's mail; it need not listen beyond loopback.\n"
        "if command -v postconf >/dev/null; then postconf -e inet_interfaces=loopback-only; fi\n"
    )
