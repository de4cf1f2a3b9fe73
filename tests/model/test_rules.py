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
        [
            "networks.lan.dhcp.reservations[0].mac: vms.monitor.nics[0] has a static address; it takes no DHCP lease",
            "networks.lan.dhcp.reservations[0].hostname: 'hack-sequoia-01' is the name of another host, VM or iDRAC in this stack; its record would name two machines",
        ],
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
            "networks.wan.ipv6: announcing IPv6 prefixes over IPv4 sessions needs a global IPv6 address on the WAN as their next hop; use dhcpv6 or slaac",
            "dns.upstreams[3].address: 2606:4700:4700::1111 is an IPv6 resolver, but networks.wan.ipv6 is none: the router cannot reach it",
        ],
    ),
    (
        "announced-prefix-outside-the-allocations",
        [(("bgp", "allocations"), ["2602:f674::/48"]), (("bgp", "announce"), ["2602:f674::/48", "2602:f675::/48"])],
        [
            "bgp.announce[1]: 2602:f675::/48 is not inside our allocations (2602:f674::/48); announcing it would take others' addresses"
        ],
    ),
    (
        "allocation-in-documentation-space",
        [(("bgp", "allocations"), ["2602:f674::/48", "2001:db8::/32"])],
        ["bgp.allocations[1]: 2001:db8::/32 overlaps the bogon 2001:db8::/32"],
    ),
    (
        "prefix-announced-twice",
        [(("bgp", "announce"), ["2602:f674::/48", "2602:f674::/48"])],
        ["bgp.announce[1]: 2602:f674::/48 is already used by announce[0]"],
    ),
    (
        "router-id-zero",
        [(("bgp", "router_id"), "0.0.0.0")],  # noqa: S104 - the value under test, bound to nothing
        ["bgp.router_id: 0.0.0.0 is not a BGP identifier (RFC 6286: non-zero); use one of the router's addresses"],
    ),
    (
        "router-id-limited-broadcast",
        [(("bgp", "router_id"), "255.255.255.255")],
        [
            "bgp.router_id: 255.255.255.255 is in 240.0.0.0/4, reserved, with the broadcast address: a BGP identifier is a unicast address of the router (RFC 4271; peers such as FRR refuse a multicast or reserved one with Bad BGP Identifier); use one of the router's addresses"
        ],
    ),
    (
        "router-id-loopback",
        [(("bgp", "router_id"), "127.0.0.1")],
        [
            "bgp.router_id: 127.0.0.1 is in 127.0.0.0/8, loopback: a BGP identifier is a unicast address of the router (RFC 4271; peers such as FRR refuse a multicast or reserved one with Bad BGP Identifier); use one of the router's addresses"
        ],
    ),
    (
        "router-id-is-a-peers-address",
        [(("bgp", "router_id"), "206.75.1.47")],
        [
            "bgp.router_id: 206.75.1.47 is the address of peer he-secondary: the router id names our router, and a peer whose own identifier it is refuses the session (Bad BGP Identifier); use one of the router's addresses"
        ],
    ),
    (
        "rpki-cache-on-loopback",
        [(("bgp", "rpki"), [{"address": "127.0.0.1"}])],
        [
            "bgp.rpki[0].address: 127.0.0.1 is in 127.0.0.0/8, loopback; an RPKI cache is a unicast address the router reaches (it runs none itself)"
        ],
    ),
    (
        "rpki-cache-in-a-dhcp-pool",
        [(("bgp", "rpki"), [{"address": "192.168.100.120"}])],
        [
            "bgp.rpki[0].address: 192.168.100.120 is inside the DHCP pool 192.168.100.100-192.168.100.200 of lan, which hands it to any client: an RPKI cache needs a fixed address outside the pool (a reservation or a static address)"
        ],
    ),
    (
        "peer-at-an-ipv6-link-local-address",
        [(("bgp", "peers", 2, "address"), "fe80::1")],
        [
            "bgp.peers[2].address: fe80::1 is link-local, and the session names no interface; a BGP peer is a unicast address"
        ],
    ),
    (
        "peer-inside-our-own-prefix",
        [(("bgp", "peers", 2, "address"), "2602:f674::1")],
        [
            "bgp.peers[2].address: 2602:f674::1 is inside our own prefix 2602:f674::/48: the router drops it from the WAN (our space does not come from outside) and routes it nowhere"
        ],
    ),
    (
        "peer-inside-the-lan",
        [(("bgp", "peers", 2, "address"), "192.168.100.7")],
        [
            "bgp.peers[2].address: 192.168.100.7 is inside the lan network 192.168.100.0/24; an upstream is reached over the WAN"
        ],
    ),
    (
        "peer-at-our-own-wan-address",
        [
            (("networks", "wan", "ipv4"), {"address": "206.75.1.2", "prefix_length": 24, "gateway": "206.75.1.1"}),
            (("bgp", "peers", 2, "address"), "206.75.1.2"),
        ],
        ["bgp.peers[2].address: 206.75.1.2 is our own WAN address"],
    ),
    (
        "ipv6-peer-without-ipv6-on-the-wan",
        [(("networks", "wan", "ipv6"), "none"), (("bgp", "peers", 2, "address"), "2001:470:0:1::1")],
        [
            "bgp.peers[2].address: 2001:470:0:1::1 is an IPv6 peer, but networks.wan.ipv6 is none: the router has no IPv6 on the WAN",
            "dns.upstreams[3].address: 2606:4700:4700::1111 is an IPv6 resolver, but networks.wan.ipv6 is none: the router cannot reach it",
        ],
    ),
    (
        "peer-named-with-a-leading-digit",
        [(("bgp", "peers", 2, "name"), "6939-tertiary")],
        [
            "bgp.peers[2].name: '6939-tertiary' starts with a digit; BIRD names the session after the peer, and its names start with a letter"
        ],
    ),
    (
        "peer-named-like-the-bird-template",
        [(("bgp", "peers", 2, "name"), "upstream")],
        ["bgp.peers[2].name: 'upstream' is a name ORION's BIRD configuration already uses; name the peer otherwise"],
    ),
    (
        "peer-description-over-two-lines",
        [(("bgp", "peers", 2, "description"), "HE tertiary\nprotocol static injected { ipv4; }")],
        [
            "bgp.peers[2].description: expected one line of printable text (it becomes a comment in BIRD's configuration, where a line break would start configuration)"
        ],
    ),
    (
        "rpki-cache-listed-twice",
        [(("bgp", "rpki"), [{"address": "192.168.1.5"}, {"address": "192.168.1.5", "port": 323}])],
        ["bgp.rpki[1]: 192.168.1.5:323 is already used by rpki[0]"],
    ),
    (
        "smarthost-port-zero",
        [(("monitoring", "notify_email", "smarthost"), "mail.orion.home.arpa:0")],
        [
            "monitoring.notify_email.smarthost: expected a port from 1 to 65535 after the colon, got 0 in 'mail.orion.home.arpa:0'"
        ],
    ),
    (
        "smarthost-on-the-monitoring-vm",
        [(("monitoring", "notify_email", "smarthost"), "localhost:25")],
        [
            "monitoring.notify_email.smarthost: localhost:25 is the monitoring VM itself, which runs no mail server; name the relay"
        ],
    ),
    (
        "smarthost-on-the-monitoring-vms-ipv6-loopback",
        [(("monitoring", "notify_email", "smarthost"), "[::1]:25")],
        [
            "monitoring.notify_email.smarthost: [::1]:25 is the monitoring VM itself, which runs no mail server; name the relay"
        ],
    ),
    (
        "smarthost-unspecified",
        [(("monitoring", "notify_email", "smarthost"), "0.0.0.0:25")],
        [
            "monitoring.notify_email.smarthost: 0.0.0.0 is the unspecified address; the smarthost is the mail relay's unicast address or its name"
        ],
    ),
    (
        "smarthost-multicast",
        [(("monitoring", "notify_email", "smarthost"), "224.0.0.1:25")],
        [
            "monitoring.notify_email.smarthost: 224.0.0.1 is in 224.0.0.0/4, multicast; the smarthost is the mail relay's unicast address or its name"
        ],
    ),
    (
        "smarthost-broadcast",
        [(("monitoring", "notify_email", "smarthost"), "255.255.255.255:25")],
        [
            "monitoring.notify_email.smarthost: 255.255.255.255 is in 240.0.0.0/4, reserved, with the broadcast address; the smarthost is the mail relay's unicast address or its name"
        ],
    ),
    (
        "smarthost-ipv6-multicast",
        [(("monitoring", "notify_email", "smarthost"), "[ff02::1]:25")],
        [
            "monitoring.notify_email.smarthost: ff02::1 is a multicast address; the smarthost is the mail relay's unicast address or its name"
        ],
    ),
    (
        "malformed-recipient",
        [(("monitoring", "notify_email", "to"), "noc@orion..home.arpa")],
        [
            "monitoring.notify_email.to: expected one e-mail address or several separated by commas (noc@example.org, ops@example.org), got 'noc@orion..home.arpa'"
        ],
    ),
    (
        "installer-mailto-without-a-domain",
        [(("hosts", 0, "proxmox", "installer", "mailto"), "noc@")],
        ["hosts[0].proxmox.installer.mailto: expected an e-mail address like noc@orion.home.arpa, got 'noc@'"],
    ),
    (
        "installer-keyboard-us",
        [(("hosts", 0, "proxmox", "installer", "keyboard"), "us")],
        [
            "hosts[0].proxmox.installer.keyboard: expected 'de', 'de-ch', 'dk', 'en-gb', 'en-us', 'es', 'fi', 'fr', 'fr-be', 'fr-ca', 'fr-ch', 'hu', 'is', 'it', 'jp', 'lt', 'mk', 'nl', 'no', 'pl', 'pt', 'pt-br', 'se', 'si' or 'tr', got 'us'"
        ],
    ),
    (
        "installer-time-zone-alias",
        [(("hosts", 0, "proxmox", "installer", "timezone"), "US/Pacific")],
        [
            "hosts[0].proxmox.installer.timezone: expected UTC or a time zone of tzdata's zone.tab like America/Vancouver or Europe/Berlin (what Proxmox's installer accepts; old aliases and Etc/ zones are not), got 'US/Pacific'"
        ],
    ),
    (
        "installer-time-zone-misspelt",
        [(("hosts", 0, "proxmox", "installer", "timezone"), "America/Vancuver")],
        [
            "hosts[0].proxmox.installer.timezone: expected UTC or a time zone of tzdata's zone.tab like America/Vancouver or Europe/Berlin (what Proxmox's installer accepts; old aliases and Etc/ zones are not), got 'America/Vancuver'"
        ],
    ),
    (
        "installer-disk-is-a-partition",
        [(("hosts", 0, "proxmox", "installer", "disks"), ["sda1"])],
        [
            "hosts[0].proxmox.installer.disks[0]: 'sda1' is a partition; the installer takes whole disks (sda) and partitions them itself"
        ],
    ),
    (
        "installer-checksums-over-http",
        [(("hosts", 0, "proxmox", "installer", "iso", "checksum_url"), "http://enterprise.proxmox.com/iso/SHA256SUMS")],
        ["hosts[0].proxmox.installer.iso.checksum_url: the checksum list is fetched over https only, got http://"],
    ),
    (
        "datastore-name-ending-in-a-dash",
        [(("hosts", 0, "proxmox", "datastores", 1, "name"), "local-lvm-")],
        [
            "hosts[0].proxmox.datastores[1].name: expected text matching '^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$', got 'local-lvm-'"
        ],
    ),
    (
        "host-reserve-beyond-the-host",
        [(("hosts", 0, "reserve"), {"cores": 30, "memory_gib": 400})],
        [
            "hosts[0].reserve.cores: 30 cores is more than the host's 28 physical cores",
            "hosts[0].reserve.memory_gib: 400 GiB is more than the host's 384 GiB of memory",
        ],
    ),
    (
        "dns-upstream-on-loopback",
        [(("dns", "upstreams", 0, "address"), "127.0.0.1")],
        [
            "dns.upstreams[0].address: 127.0.0.1 is in 127.0.0.0/8, loopback; an upstream resolver is a unicast address the router reaches on the internet"
        ],
    ),
    (
        "dns-upstream-is-the-router",
        [(("dns", "upstreams", 0, "address"), "192.168.100.1")],
        [
            "dns.upstreams[0].address: 192.168.100.1 is the router's own address: Unbound would forward its questions to itself"
        ],
    ),
    (
        "dns-upstream-listed-twice",
        [(("dns", "upstreams", 1, "address"), "1.1.1.1")],
        ["dns.upstreams[1]: 1.1.1.1:853 is already used by upstreams[0]"],
    ),
    (
        "dns-record-in-the-guest-pool",
        [(("dns", "records"), [{"name": "tv", "address": "192.168.200.100"}])],
        [
            "dns.records[0].address: 192.168.200.100 is inside the DHCP pool 192.168.200.100-192.168.200.200 of guest, which hands it to any client: a named device needs a fixed address outside the pool (a reservation or a static address)"
        ],
    ),
    (
        "dns-record-at-a-broadcast-address",
        [(("dns", "records"), [{"name": "nas", "address": "192.168.30.255"}])],
        [
            "dns.records[0].address: 192.168.30.255 is the broadcast address of 192.168.30.0/24, the storage network: no device has it"
        ],
    ),
    (
        "dns-upstream-in-a-dhcp-pool",
        [(("dns", "upstreams", 0), {"address": "192.168.100.153", "tls_name": "resolver.orion.home.arpa"})],
        [
            "dns.upstreams[0].address: 192.168.100.153 is inside the DHCP pool 192.168.100.100-192.168.100.200 of lan, which hands it to any client: a resolver needs a fixed address outside the pool (a reservation or a static address)"
        ],
    ),
    (
        "dns-record-named-like-an-idrac",
        [(("dns", "records"), [{"name": "orion-pve-idrac", "address": "192.168.1.2"}])],
        [
            "dns.records[0].name: 'orion-pve-idrac' is the name of host orion-pve's iDRAC, which gets its record automatically"
        ],
    ),
    (
        "dns-record-named-like-a-reservation",
        [
            (
                ("networks", "lan", "dhcp", "reservations"),
                lambda r: [*r, {"hostname": "printer", "mac": "BC:24:11:00:09:00", "address": "192.168.100.31"}],
            ),
            (("dns", "records"), [{"name": "printer", "address": "192.168.100.32"}]),
        ],
        [
            "dns.records[0].name: 'printer' is the name of networks.lan.dhcp.reservations[1], which gets its record automatically"
        ],
    ),
    (
        "reservation-named-like-an-idrac",
        [
            (
                ("networks", "lan", "dhcp", "reservations"),
                lambda r: [
                    *r,
                    {"hostname": "orion-pve-idrac", "mac": "BC:24:11:00:09:00", "address": "192.168.100.31"},
                ],
            )
        ],
        [
            "networks.lan.dhcp.reservations[1].hostname: 'orion-pve-idrac' is the name of another host, VM or iDRAC in this stack; its record would name two machines"
        ],
    ),
    (
        "reservation-named-like-another-vm",
        [
            (
                ("networks", "lan", "dhcp", "reservations"),
                lambda r: [*r, {"hostname": "orion-monitor", "mac": "BC:24:11:00:09:00", "address": "192.168.100.31"}],
            )
        ],
        [
            "networks.lan.dhcp.reservations[1].hostname: 'orion-monitor' is the name of another host, VM or iDRAC in this stack; its record would name two machines"
        ],
    ),
    (
        "target-repeats-a-monitoring-service-at-the-vm-address",
        [
            (
                ("monitoring", "targets"),
                lambda t: [*t, {"name": "orion-monitor", "job": "node", "address": "192.168.100.20", "port": 9100}],
            )
        ],
        [
            "monitoring.targets[1]: 192.168.100.20:9100 is orion-monitor's node target, which ORION runs and scrapes by itself; remove this entry"
        ],
    ),
    (
        "target-repeats-a-router-exporter-at-another-address",
        [
            (
                ("monitoring", "targets"),
                lambda t: [*t, {"name": "orion-router", "job": "node", "address": "192.168.1.1", "port": 9100}],
            )
        ],
        [
            "monitoring.targets[1]: 192.168.1.1:9100 is orion-router's node target, which ORION runs and scrapes by itself; remove this entry"
        ],
    ),
    (
        "operator-account-root",
        [(("access", "admin_user"), "root")],
        [
            "access.admin_user: 'root' is an account the NixOS VMs already have (root, system and service accounts); name the operators' own account, e.g. orion"
        ],
    ),
    (
        "serve-url-by-name-with-https-media",
        [(("bootstrap", "serve_url"), "http://deploy.orion.home.arpa:8080/")],
        [
            "bootstrap.serve_url: deploy.orion.home.arpa is not an IPv4 address, but ORION serves the installer to the iDRAC over HTTPS with a certificate for serve_url's address: give the operator machine's IPv4 address"
        ],
    ),
    (
        "serve-url-at-the-proxmox-host",
        [(("bootstrap", "serve_url"), "http://192.168.1.10:8080/")],
        [
            "bootstrap.serve_url: 192.168.1.10 is already an address in this stack (hosts[0].bridges[0].address); serve_url is the operator's machine"
        ],
    ),
    (
        "media-port-is-the-web-servers",
        [(("bootstrap", "serve_url"), "http://192.168.1.50:8443/")],
        [
            "bootstrap.media_port: 8443 is serve_url's port already; ORION serves the installer on serve_url's host beside the web server, on a port of its own"
        ],
    ),
    (
        "storage-gateway-without-a-router-nic",
        [(("networks", "storage", "gateway"), "192.168.30.1")],
        [
            "networks.storage.gateway: a gateway is the router's address, but the router has no NIC on the storage network; attach one or leave the gateway out"
        ],
    ),
    (
        "router-vm-running-macos",
        [
            (
                ("vms", "router", "os"),
                {"family": "macos", "release": "sequoia", "opencore_image": "oc.iso", "recovery_image": "rec.img"},
            )
        ],
        ["vms.router.os.family: a router VM runs nixos (ORION builds its system for it), got macos"],
    ),
    (
        "two-router-nics-with-one-name",
        [(("vms", "router", "nics", 2, "name"), "lan")],
        ["vms.router.nics[2].name: lan is already used by nics[1].name"],
    ),
    (
        "prefix-delegation-without-ipv6",
        [(("networks", "wan", "ipv6"), "none"), (("networks", "wan", "request_prefix_delegation"), True)],
        [
            "networks.wan.request_prefix_delegation: a delegated prefix is asked for over DHCPv6 on the WAN, but networks.wan.ipv6 is none; use dhcpv6 or slaac, or drop request_prefix_delegation",
        ],
    ),
    (
        "static-wan-on-the-broadcast-address",
        [(("networks", "wan", "ipv4"), {"address": "203.0.113.3", "prefix_length": 30, "gateway": "203.0.113.1"})],
        ["networks.wan.ipv4.address: 203.0.113.3 is the broadcast address of 203.0.113.0/30"],
    ),
    (
        "static-wan-gateway-is-our-address",
        [(("networks", "wan", "ipv4"), {"address": "203.0.113.2", "prefix_length": 30, "gateway": "203.0.113.2"})],
        ["networks.wan.ipv4.gateway: 203.0.113.2 is our own WAN address; the gateway is the ISP's"],
    ),
    (
        "vlan-1-beside-the-untagged-network",
        [(("networks", "guest", "bridge"), "vmbr4"), (("networks", "guest", "vlan"), 1)],
        [
            "networks.guest.bridge: vmbr4 VLAN 1 already carries the wan network (untagged and VLAN 1 are one segment on a VLAN-aware bridge)"
        ],
    ),
    (
        "subnet-in-loopback-space",
        [(("networks", "storage", "subnet"), "127.0.30.0/24"), (("hosts", 0, "bridges", 3, "address"), "127.0.30.10")],
        ["networks.storage.subnet: 127.0.30.0/24 overlaps 127.0.0.0/8, loopback: no host is numbered from it"],
    ),
    (
        "routed-subnet-in-link-local-space",
        [
            (("networks", "guest", "subnet"), "169.254.200.0/24"),
            (("networks", "guest", "gateway"), "169.254.200.1"),
            (("networks", "guest", "dhcp"), {"start": "169.254.200.100", "end": "169.254.200.200"}),
            (("vms", "router", "nics", 2, "ipv4"), "169.254.200.1"),
        ],
        [
            "networks.guest.subnet: 169.254.200.0/24 is link-local (169.254.0.0/16), which routers do not forward (RFC 3927); a network with a gateway needs other space"
        ],
    ),
    (
        "ipv6-on-a-network-without-a-router",
        [(("networks", "storage", "ipv6"), {"subnet": "2602:f674:0:3000::/64"})],
        [
            "networks.storage.ipv6: the router advertises a network's IPv6 prefix, so a network with ipv6 needs a gateway"
        ],
    ),
    (
        "backup-schedule-april-31",
        [(("backup", "schedule"), "*-04-31 02:30")],
        [
            "backup.schedule: '*-04-31 02:30' never comes: April has no day 31, so Proxmox would never run the job; give a schedule that comes, like '*-*-* 02:30'"
        ],
    ),
    (
        "monitor-disk-below-a-nixos-system",
        [(("vms", "monitor", "disk", "size_gib"), 4)],
        [
            "vms.monitor.disk.size_gib: 4 GiB is too small for a NixOS VM: at least 8 GiB (the base image is imported into it, and each switch builds the new system beside the running one, which nix.gc keeps 30 days, with up to 1 GiB of journal)"
        ],
    ),
    (
        "monitor-disk-for-a-year-of-one-second-scrapes",
        [(("monitoring", "scrape_interval_seconds"), 1), (("monitoring", "retention_days"), 365)],
        [
            "vms.monitor.disk.size_gib: 50 GiB cannot hold the monitoring VM's NixOS system (8 GiB) and what Prometheus keeps of 9 targets scraped every 1 s for 365 days (133 GiB at 500 series a target and 1 byte a sample, the least it takes); give it at least 141 GiB, or keep fewer days (monitoring.retention_days)"
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
