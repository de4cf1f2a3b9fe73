"""Rules not covered by an invalid stack file, each broken once on the default stack, with its exact message."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from orion_infra.model import RawConfig, StackConfigError, load_stack
from tests.stack_edits import edited

LAN_RESERVATION = {"hostname": "hack-sequoia-01", "mac": "BC:24:11:00:01:00", "address": "192.168.100.30"}
ROUTER_WAN = ("vms", "router", "nics", 0)

RULES: list[tuple[str, list[tuple[tuple[str | int, ...], Any]], list[str]]] = [
    (
        "static-wan-gateway-off-link",
        [(("networks", "wan", "ipv4"), {"address": "203.0.113.2", "prefix_length": 30, "gateway": "203.0.113.9"})],
        ["networks.wan.ipv4.gateway: 203.0.113.9 is outside 203.0.113.0/30"],
    ),
    (
        "vlan-on-a-bridge-that-is-not-vlan-aware",
        [(("networks", "storage", "vlan"), 30)],
        [
            "hosts[0].bridges[3].address: vmbr3 carries no untagged network to put an address on",
            "networks.storage.vlan: VLAN 30 needs vmbr3 to be vlan_aware on host orion-pve",
        ],
    ),
    (
        "address-on-the-wan-nic",
        [((*ROUTER_WAN, "ipv4"), "203.0.113.2")],
        ["vms.router.nics[0].ipv4: the WAN address is set by networks.wan.ipv4; leave it out here"],
    ),
    (
        "dhcp-client-on-a-network-without-dhcp",
        [(("vms", "monitor", "nics", 0, "bridge"), "vmbr3"), (("vms", "monitor", "nics", 0, "ipv4"), "dhcp")],
        [
            "vms.monitor.nics[0].ipv4: the storage network has no DHCP server; give a static address",
            "vms.monitor.nics: the monitoring VM needs a static IPv4 address on a routed network: scrape targets, DNS and Alertmanager are configured with it",
        ],
    ),
    (
        "isolation-without-a-router",
        [(("networks", "storage", "isolation"), "internet_only")],
        ["networks.storage.isolation: an isolated network needs a gateway: isolation is enforced by the router"],
    ),
    (
        "dhcp-without-a-gateway",
        [(("networks", "storage", "dhcp"), {"start": "192.168.30.100", "end": "192.168.30.200"})],
        ["networks.storage.dhcp: DHCP is served by the router, so a network with DHCP needs a gateway"],
    ),
    (
        "gateway-inside-the-pool",
        [(("networks", "guest", "dhcp", "start"), "192.168.200.1")],
        ["networks.guest.gateway: 192.168.200.1 is inside the DHCP pool 192.168.200.1-192.168.200.200"],
    ),
    (
        "pool-bound-on-the-broadcast-address",
        [(("networks", "guest", "dhcp", "end"), "192.168.200.255")],
        ["networks.guest.dhcp.end: 192.168.200.255 is the broadcast address of 192.168.200.0/24"],
    ),
    (
        "duplicate-reservations",
        [
            (
                ("networks", "lan", "dhcp", "reservations"),
                [LAN_RESERVATION, {**LAN_RESERVATION, "address": "192.168.100.31"}],
            )
        ],
        [
            "networks.lan.dhcp.reservations[1].hostname: hack-sequoia-01 is already used by dhcp.reservations[0].hostname",
            "networks.lan.dhcp.reservations[1].mac: BC:24:11:00:01:00 is already used by dhcp.reservations[0].mac",
        ],
    ),
    (
        "reservation-for-a-statically-addressed-vm",
        [(("networks", "lan", "dhcp", "reservations", 0, "mac"), "BC:24:11:00:03:00")],
        ["networks.lan.dhcp.reservations[0].mac: vms.monitor.nics[0] has a static address; it takes no DHCP lease"],
    ),
    (
        "tls-material-for-another-mode",
        [(("hosts", 0, "idrac", "tls"), {"verify": "system", "ca_bundle": "/etc/ssl/idrac.pem"})],
        ["hosts[0].idrac.tls.ca_bundle: is only used with verify: ca_bundle, not verify: system"],
    ),
    (
        "ca-bundle-without-a-path",
        [(("hosts", 0, "idrac", "tls"), {"verify": "ca_bundle"})],
        ["hosts[0].idrac.tls.ca_bundle: verify: ca_bundle needs the path of a PEM bundle"],
    ),
    (
        "duplicate-nic-name-and-bridge",
        [(("hosts", 0, "nics", 1, "name"), "eno1"), (("hosts", 0, "bridges", 1, "name"), "vmbr0")],
        [
            "hosts[0].nics[1].name: eno1 is already used by nics[0].name",
            "hosts[0].bridges[1].name: vmbr0 is already used by bridges[0].name",
        ],
    ),
    (
        "duplicate-datastore",
        [(("hosts", 0, "proxmox", "datastores", 0, "name"), "local-lvm")],
        [
            "hosts[0].proxmox.datastores: the VMs' first-boot data (their host keys) goes to local:snippets; list local "
            "with snippets in its content",
            "hosts[0].proxmox.datastores[1].name: local-lvm is already used by datastores[0].name",
        ],
    ),
    (
        "two-networks-on-one-bridge",
        [(("networks", "storage", "bridge"), "vmbr1")],
        [
            "networks.storage.bridge: vmbr1 already carries the lan network",
        ],
    ),
    (
        "vm-nic-on-a-bridge-without-a-network",
        [
            (("hosts", 0, "bridges"), lambda bridges: [*bridges, {"name": "vmbr5", "ports": ["enp3s0f0"]}]),
            (("vms", "macos", "nics", 0, "bridge"), "vmbr5"),
        ],
        ["vms.macos.nics[0].bridge: vmbr5 carries no network"],
    ),
    (
        "router-without-a-wan-nic",
        [(("vms", "router", "nics"), lambda nics: nics[1:])],
        ["vms.router.nics: the router has no NIC on the wan network"],
    ),
    (
        "private-peer-asn",
        [(("bgp", "peers", 2, "asn"), 65001)],
        ["bgp.peers[2].asn: AS 65001 is private; upstreams use public AS numbers"],
    ),
    (
        "duplicate-peer-address-and-name",
        [(("bgp", "peers", 1, "address"), "206.75.1.127"), (("bgp", "peers", 1, "name"), "he-primary")],
        [
            "bgp.peers[1].name: he-primary is already used by peers[0].name",
            "bgp.peers[1].address: 206.75.1.127 is already used by peers[0].address",
        ],
    ),
    (
        "announced-ipv4-bogon",
        [(("bgp", "announce"), ["2602:f674::/48", "10.0.0.0/24"])],
        ["bgp.announce[1]: 10.0.0.0/24 overlaps the bogon 10.0.0.0/8"],
    ),
    (
        "duplicate-backup-vm",
        [(("backup", "vms"), [200, 300, 200])],
        ["backup.vms[2]: 200 is already used by backup.vms[0]"],
    ),
    (
        "duplicate-scrape-target",
        [(("monitoring", "targets"), lambda targets: [*targets, {**targets[0], "name": "orion-pve-again"}])],
        ["monitoring.targets[1]: 192.168.1.10:9100 is already used by monitoring.targets[0]"],
    ),
    (
        "duplicate-extra-dns-records",
        [
            (
                ("dns", "records"),
                [{"name": "nas", "address": "192.168.30.20"}, {"name": "nas", "address": "192.168.30.21"}],
            )
        ],
        ["dns.records[1].name: nas is already used by dns.records[0].name"],
    ),
    (
        "vm-named-like-the-host",
        [(("vms", "macos", "name"), "orion-pve")],
        ["vms.macos.name: orion-pve is already used by hosts[0].name"],
    ),
    (
        "vm-nic-mac-equals-a-host-nic",
        [(("vms", "monitor", "nics", 0, "mac"), "D0:94:66:24:96:7E")],
        ["vms.monitor.nics[0].mac: D0:94:66:24:96:7E is already used by hosts[0].nics[2].mac"],
    ),
    (
        "directly-connected-peer-off-the-wan-subnet",
        [(("networks", "wan", "ipv4"), {"address": "206.75.1.2", "prefix_length": 26, "gateway": "206.75.1.1"})],
        [
            "bgp.peers[0].address: 206.75.1.127 is not on the WAN subnet 206.75.1.0/26; set multihop for a peer that is not directly connected"
        ],
    ),
    (
        "monitoring-vm-on-dhcp",
        [
            (("vms", "monitor", "nics", 0, "ipv4"), "dhcp"),
        ],
        [
            "vms.monitor.nics: the monitoring VM needs a static IPv4 address on a routed network: scrape targets, DNS and Alertmanager are configured with it"
        ],
    ),
    (
        "installer-without-local-lvm",
        [(("hosts", 0, "proxmox", "datastores", 1, "name"), "vmdata")],
        ["hosts[0].proxmox.datastores: the installer creates local-lvm with filesystem ext4; list it here"],
    ),
    (
        "zfs-raid10-on-three-disks",
        [
            (
                ("hosts", 0, "proxmox", "installer"),
                lambda installer: {
                    **installer,
                    "filesystem": "zfs",
                    "zfs_raid": "raid10",
                    "disks": ["sda", "sdb", "sdc"],
                },
            )
        ],
        [
            "hosts[0].proxmox.installer.disks: raid10 needs at least 4 disks, got 3",
            "hosts[0].proxmox.installer.disks: raid10 mirrors pairs of disks, got an odd number (3)",
        ],
    ),
    (
        "install-without-installer-settings",
        [(("hosts", 0, "proxmox", "installer"), None)],
        ["hosts[0].proxmox.installer: install: true needs the installer settings (iso, country, disks, ...)"],
    ),
    (
        "download-without-verification",
        [
            (
                ("hosts", 0, "proxmox", "installer", "iso"),
                {"url": "https://enterprise.proxmox.com/iso/proxmox-ve_9.1-1.iso"},
            )
        ],
        [
            "hosts[0].proxmox.installer.iso: give exactly one of sha256 (pinned) or checksum_url (the vendor's checksum list)"
        ],
    ),
    (
        "ipv6-announced-without-an-ipv6-wan",
        [(("networks", "wan", "ipv6"), "none")],
        [
            "networks.wan.ipv6: announcing IPv6 prefixes over IPv4 sessions needs a global IPv6 address on the WAN as their next hop; use dhcpv6 or slaac"
        ],
    ),
    (
        "unknown-nixos-release",
        [(("vms", "monitor", "os", "release"), "27.05")],
        ["vms.monitor.os.release: unknown NixOS release '27.05'; supported: 26.11"],
    ),
]


@pytest.mark.parametrize(("name", "changes", "expected"), RULES, ids=[rule[0] for rule in RULES])
def test_rule(
    name: str,
    changes: list[tuple[tuple[str | int, ...], Any]],
    expected: list[str],
    default_raw: RawConfig,
    today: datetime.date,
) -> None:
    with pytest.raises(StackConfigError) as rejected:
        load_stack(edited(default_raw, *changes), today=today)
    assert rejected.value.problems == expected
