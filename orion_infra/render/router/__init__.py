"""The router VM's files: BIRD, nftables, Kea, Unbound, and the host data its NixOS module reads."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any, Literal

from orion_infra.model import ports
from orion_infra.model.bgp import BOGONS_V4, BOGONS_V6
from orion_infra.model.networks import StaticWan
from orion_infra.model.stack import OrionStack
from orion_infra.model.types import BOGON_ASN_RANGES
from orion_infra.render import host_data, secret_files
from orion_infra.render.monitor.agent import RESTART_BGP_COOLDOWN_SECONDS
from orion_infra.render.options import PublicKeys, RenderOptions
from orion_infra.render.router.facts import RouterFacts, router_facts
from orion_infra.render.systems import system_data
from orion_infra.render.templating import render_template

# The node exporter's default netstat fields, plus ICMP time-exceeded, the agent's sign of a forwarding loop.
# No anchors: a trailing `$` would be read by systemd as the start of a variable in ExecStart.
NODE_EXPORTER_NETSTAT_FIELDS = (
    "(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)"
    "|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)"
    "|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)"
    "|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors)|Icmp_(InTimeExcds|OutTimeExcds))"
)
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def render_router(
    stack: OrionStack, options: RenderOptions, keys: PublicKeys, tls_cert_bundle: str = CA_BUNDLE
) -> dict[str, str]:
    """Every file of the router VM, by name."""
    facts = router_facts(stack, options)
    return {
        "bird.conf": render_bird(facts),
        "nftables.nft": render_nftables(facts),
        "kea-dhcp4.json": render_kea(facts),
        "unbound.conf": render_unbound(facts, tls_cert_bundle),
        "host.json": host_data.to_json(router_host(facts, keys)),
    }


def kea_control_socket(options: RenderOptions) -> str:
    return str(options.run_dir / "kea" / "dhcp4.sock")


def unbound_state_dir(options: RenderOptions) -> str:
    return str(options.state_dir / "unbound")


def unbound_control_socket(options: RenderOptions) -> str:
    return str(options.run_dir / "unbound" / "unbound.ctl")


def _bird_set_item(prefix: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    return f"{prefix}+"  # the prefix and everything more specific


def render_bird(facts: RouterFacts) -> str:
    bgp = facts.stack.bgp
    asns = [str(low) if low == high else f"{low}..{high}" for low, high in BOGON_ASN_RANGES]
    return render_template(
        "bird.conf.j2",
        hostname=facts.stack.router.name,
        bgp=bgp,
        announce_v6=[str(p) for p in bgp.announce if p.version == 6],
        announce_v4=[str(p) for p in bgp.announce if p.version == 4],
        bogons_v6=[_bird_set_item(prefix) for prefix in BOGONS_V6],
        bogons_v4=[_bird_set_item(prefix) for prefix in BOGONS_V4],
        bogon_asns=asns,
        rpki=bgp.rpki,
        peers=facts.peers,
        bfd_peers=[peer for peer in facts.peers if peer.model.bfd],
        wan_interface=facts.wan_interface,
        graceful_shutdown=bgp.graceful_shutdown,
    )


LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")


@dataclass(frozen=True)
class ForwardRule:
    """New connections from `inbound` to `outbound`, those `condition` matches (all when empty)."""

    why: str
    inbound: str
    outbound: str
    condition: str = ""

    @property
    def match(self) -> str:
        interfaces = f'iifname "{self.inbound}" oifname "{self.outbound}"'
        return f"{interfaces} {self.condition}" if self.condition else interfaces


def _forward_rules(facts: RouterFacts) -> list[ForwardRule]:
    wan = facts.wan_interface
    rules = [ForwardRule(f"{routed.name} reaches the internet", routed.interface, wan) for routed in facts.routed]
    management = facts.network("management")
    for routed in facts.routed:
        if routed.name != "management" and routed.network.isolation == "none":
            rules.append(
                ForwardRule(f"the management network administers {routed.name}", management.interface, routed.interface)
            )
    monitor = facts.monitor_address
    monitor_network = facts.network("lan")
    for target in facts.stack.scrape_targets():
        for routed in facts.routed:
            if routed is not monitor_network and target.address in routed.network.subnet:
                rules.append(
                    ForwardRule(
                        f"the monitoring VM scrapes {target.name} ({target.job})",
                        monitor_network.interface,
                        routed.interface,
                        f"ip saddr {monitor} ip daddr {target.address} tcp dport {target.port}",
                    )
                )
    return rules


def _flow_paths(rules: list[ForwardRule]) -> list[tuple[str, str]]:
    """The interface pairs flows use, both ways: where ICMP errors about them may cross the router."""
    return sorted({pair for rule in rules for pair in ((rule.inbound, rule.outbound), (rule.outbound, rule.inbound))})


@dataclass(frozen=True)
class InsideSources:
    """The sources a packet arriving on an inside network's interface may carry."""

    interface: str
    ipv4: str
    ipv6: list[str]


def _inside_sources(facts: RouterFacts) -> list[InsideSources]:
    return [
        InsideSources(
            routed.interface,
            str(routed.network.subnet),
            [*([str(routed.network.ipv6.subnet)] if routed.network.ipv6 else []), str(LINK_LOCAL)],
        )
        for routed in facts.routed
    ]


def _our_sources(facts: RouterFacts) -> tuple[list[str], list[str]]:
    """Our announced prefixes and inside subnets, IPv4 and IPv6: what no packet from the internet comes from."""
    ipv4 = [prefix for prefix in facts.stack.bgp.announce if isinstance(prefix, ipaddress.IPv4Network)]
    ipv6 = [prefix for prefix in facts.stack.bgp.announce if isinstance(prefix, ipaddress.IPv6Network)]
    for routed in facts.routed:
        ipv4.append(routed.network.subnet)
        if routed.network.ipv6 is not None:
            ipv6.append(routed.network.ipv6.subnet)
    return [str(n) for n in ipaddress.collapse_addresses(ipv4)], [str(n) for n in ipaddress.collapse_addresses(ipv6)]


def _router_addresses(facts: RouterFacts) -> set[ipaddress.IPv4Address]:
    return {routed.gateway for routed in facts.routed}


def render_nftables(facts: RouterFacts) -> str:
    router_ports = sorted(
        {target.port for target in facts.stack.scrape_targets() if target.address in _router_addresses(facts)}
    )
    peers = [peer.model.address for peer in facts.peers]
    forwards = _forward_rules(facts)
    ours_v4, ours_v6 = _our_sources(facts)
    return render_template(
        "nftables.nft.j2",
        hostname=facts.stack.router.name,
        wan=facts.wan_interface,
        peers_v4=[str(address) for address in peers if address.version == 4],
        peers_v6=[str(address) for address in peers if address.version == 6],
        bfd=any(peer.model.bfd for peer in facts.peers),
        management=facts.network("management"),
        monitor_interface=facts.network("lan").interface,
        monitor_address=facts.monitor_address,
        admin_ports=[ports.SSH, *router_ports],
        client_interfaces=[f'"{routed.interface}"' for routed in facts.routed if routed.serves_dns],
        forwards=forwards,
        related=_flow_paths(forwards),
        inside_sources=_inside_sources(facts),
        ours_v4=ours_v4,
        ours_v6=ours_v6,
    )


def render_kea(facts: RouterFacts) -> str:
    stack = facts.stack
    subnets: list[dict[str, Any]] = []
    for subnet_id, routed in enumerate(facts.routed, start=1):
        pool = routed.network.dhcp
        if pool is None:
            continue
        subnets.append(
            {
                "id": subnet_id,
                "subnet": str(routed.network.subnet),
                "interface": routed.interface,
                "pools": [{"pool": f"{pool.start} - {pool.end}"}],
                "valid-lifetime": pool.lease_seconds,
                "option-data": [
                    {"name": "routers", "data": str(routed.gateway)},
                    {"name": "domain-name-servers", "data": str(routed.gateway)},
                ],
                "reservations": [
                    {"hw-address": r.mac.lower(), "ip-address": str(r.address), "hostname": r.hostname}
                    for r in pool.reservations
                ],
            }
        )
    options = facts.options
    config = {
        "Dhcp4": {
            # An interface networkd has not addressed yet when Kea starts (a switch) is retried, not skipped for good.
            "interfaces-config": {
                "interfaces": [subnet["interface"] for subnet in subnets],
                "service-sockets-max-retries": 30,
                "service-sockets-retry-wait-time": 1000,
            },
            "control-socket": {"socket-type": "unix", "socket-name": kea_control_socket(options)},
            "lease-database": {
                "type": "memfile",
                "persist": True,
                "name": str(options.state_dir / "kea" / "dhcp4.leases"),
                "lfc-interval": 3600,
            },
            "option-data": [
                {"name": "domain-name", "data": stack.dns.domain},
                {"name": "domain-search", "data": stack.dns.domain},
            ],
            "subnet4": subnets,
            "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "INFO"}],
        }
    }
    return json.dumps(config, indent=2) + "\n"


@dataclass(frozen=True)
class DnsRecord:
    name: str
    address: ipaddress.IPv4Address | ipaddress.IPv6Address

    @property
    def type(self) -> str:
        return "A" if self.address.version == 4 else "AAAA"


def local_records(facts: RouterFacts) -> list[DnsRecord]:
    """The local zone: the router, every host and its iDRAC, every VM with a fixed address, reservations."""
    stack = facts.stack
    records = [DnsRecord(stack.router.name, facts.network("lan").gateway)]
    lan_v6 = facts.network("lan").address6
    if lan_v6 is not None:
        records.append(DnsRecord(stack.router.name, lan_v6.ip))
    for host in stack.hosts:
        management = stack.management_address(host)
        if management is not None:
            records.append(DnsRecord(host.proxmox.node, management))
        records.append(DnsRecord(host.idrac_name, host.idrac.address))
    for vm in stack.vms.values():
        if vm.role == "router":
            continue
        address = next((nic.ipv4 for nic in vm.nics if isinstance(nic.ipv4, ipaddress.IPv4Address)), None)
        if address is not None:
            records.append(DnsRecord(vm.name, address))
    records.extend(DnsRecord(reservation.hostname, reservation.address) for _, _, reservation in stack.reservations())
    records.extend(DnsRecord(record.name, record.address) for record in stack.dns.records)
    return records


def reverse_zone(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """The reverse-DNS zone holding `network`'s PTR names: its octet (IPv4) or nibble (IPv6) boundary at or above it."""
    label_bits = 8 if network.version == 4 else 4
    labels = network.network_address.reverse_pointer.split(".")
    kept_labels = network.prefixlen // label_bits
    return ".".join(labels[len(labels) - 2 - kept_labels :])


def _private_reverse_zones(facts: RouterFacts) -> list[str]:
    """Where the local zone's PTR records live: the inside networks' reverse zones, and the names of any record
    outside them."""
    internal = [network for _, network in facts.stack.networks.internal()]
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [network.subnet for network in internal]
    subnets += [network.ipv6.subnet for network in internal if network.ipv6]
    zones = {reverse_zone(subnet) for subnet in subnets}
    zones |= {
        record.address.reverse_pointer
        for record in local_records(facts)
        if not any(record.address in subnet for subnet in subnets)
    }
    return sorted(zones)


@dataclass(frozen=True)
class ResolverClient:
    subnet: str
    view: str | None


def render_unbound(facts: RouterFacts, tls_cert_bundle: str) -> str:
    stack = facts.stack
    clients: list[ResolverClient] = []
    listen: list[str] = []
    for routed in facts.routed:
        if not routed.serves_dns:
            continue
        view = "guest" if routed.network.isolation == "internet_only" else None
        listen.append(str(routed.gateway))
        clients.append(ResolverClient(str(routed.network.subnet), view))
        if routed.address6 is not None and routed.network.ipv6 is not None:
            listen.append(str(routed.address6.ip))
            clients.append(ResolverClient(str(routed.network.ipv6.subnet), view))
    private = sorted({str(network.subnet) for _, network in stack.networks.internal()})
    private += [str(network.ipv6.subnet) for _, network in stack.networks.internal() if network.ipv6]
    return render_template(
        "unbound.conf.j2",
        hostname=stack.router.name,
        state_dir=unbound_state_dir(facts.options),
        run_dir=facts.options.run_dir / "unbound",
        control_socket=unbound_control_socket(facts.options),
        listen=listen,
        clients=clients,
        views=sorted({client.view for client in clients if client.view}),
        private_reverse_zones=_private_reverse_zones(facts),
        private=private,
        domain=stack.dns.domain,
        dnssec=stack.dns.dnssec,
        tls_cert_bundle=tls_cert_bundle,
        records=local_records(facts),
        upstreams=stack.dns.upstreams,
    )


def _wan_ipv4(addressing: object) -> Literal["dhcp"] | host_data.StaticWanIpv4:
    if isinstance(addressing, StaticWan):
        return host_data.StaticWanIpv4(
            address=f"{addressing.address}/{addressing.prefix_length}", gateway=str(addressing.gateway)
        )
    return "dhcp"


def router_host(facts: RouterFacts, keys: PublicKeys) -> host_data.Router:
    """The data the router's NixOS module reads: interfaces, addresses, router advertisements, access."""
    stack, options = facts.stack, facts.options
    wan = stack.networks.wan
    interfaces: list[host_data.RouterInterface] = []
    for nic in stack.router.nics:
        network = stack.network_of(nic.bridge, nic.vlan)
        routed = next((r for r in facts.routed if r.name == network), None)
        address6 = routed.address6 if routed else None
        interfaces.append(
            host_data.RouterInterface(
                name=options.interface(nic.name),
                mac=nic.mac.lower(),
                network=network,
                ipv4=str(routed.address) if routed else None,
                ipv6=str(address6) if address6 else None,
                dns6=str(address6.ip) if address6 and routed is not None and routed.serves_dns else None,
                router_advertisements=address6 is not None,
            )
        )
    return host_data.Router(
        **system_data(stack, options, keys, stack.router),
        credentials={
            "bird": [secret_files.bgp_password(peer.model.name) for peer in facts.peers if peer.password_file]
        },
        hostname=stack.router.name,
        domain=stack.dns.domain,
        interfaces=interfaces,
        wan=host_data.Wan(
            interface=facts.wan_interface,
            ipv4=_wan_ipv4(wan.ipv4),
            ipv6=wan.ipv6,
            request_prefix_delegation=wan.request_prefix_delegation,
            mtu=wan.mtu,
        ),
        exporters=host_data.RouterExporters(**ports.ROUTER_EXPORTERS, node_netstat_fields=NODE_EXPORTER_NETSTAT_FIELDS),
        bird=host_data.Bird(
            socket=str(options.run_dir / "bird" / "bird.ctl"), credentials_dir=str(options.credentials("bird"))
        ),
        kea=host_data.Kea(control_socket=kea_control_socket(options)),
        unbound=host_data.Unbound(control_socket=unbound_control_socket(options), state_dir=unbound_state_dir(options)),
        # The agent's public key, derived by the deploy step; accepted for restart-bgp only.
        agent=host_data.RouterAgent(
            public_key=keys.agent,
            source_address=str(facts.monitor_address),
            cooldown_seconds=RESTART_BGP_COOLDOWN_SECONDS,
            state_dir=str(options.state_dir / "orion-restart-bgp"),
        )
        if stack.access.agent_key and keys.agent
        else None,
    )
