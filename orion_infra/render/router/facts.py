"""What the router's configuration files need to know, derived once from the stack model."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from orion_infra.model.bgp import BgpPeer, PeerRole
from orion_infra.model.networks import InternalNetwork, StaticWan
from orion_infra.model.stack import OrionStack
from orion_infra.render import secret_files
from orion_infra.render.options import RenderOptions

# Outbound preference by role; inbound, the backups are made less attractive by prepending our AS.
LOCAL_PREFERENCE = {PeerRole.PRIMARY: 300, PeerRole.SECONDARY: 200, PeerRole.TERTIARY: 100}
PREPENDS = {PeerRole.PRIMARY: 0, PeerRole.SECONDARY: 1, PeerRole.TERTIARY: 2}


@dataclass(frozen=True)
class RoutedNetwork:
    """An internal network the router is the gateway of, with the router's interface on it."""

    name: str
    interface: str
    network: InternalNetwork
    gateway: ipaddress.IPv4Address

    @property
    def address(self) -> ipaddress.IPv4Interface:
        return ipaddress.IPv4Interface(f"{self.gateway}/{self.network.subnet.prefixlen}")

    @property
    def serves_dns(self) -> bool:
        """Whether the router resolves for this network: where it hands out addresses, it hands out itself as
        resolver (DHCP's option and RAs' RDNSS), and Unbound listens and admits the network there."""
        return self.network.dhcp is not None

    @property
    def address6(self) -> ipaddress.IPv6Interface | None:
        """The router's IPv6 address here: the first address of the network's /64."""
        if self.network.ipv6 is None:
            return None
        subnet = self.network.ipv6.subnet
        return ipaddress.IPv6Interface(f"{subnet.network_address + 1}/{subnet.prefixlen}")


@dataclass(frozen=True)
class Peer:
    """A BGP session as BIRD and the firewall see it."""

    model: BgpPeer
    protocol: str
    local_preference: int
    prepends: int
    password_file: str | None
    """Where BIRD reads the session's password statement: a credential of bird.service."""
    source_address: ipaddress.IPv4Address | None


@dataclass(frozen=True)
class RouterFacts:
    stack: OrionStack
    options: RenderOptions
    wan_interface: str
    routed: list[RoutedNetwork]
    peers: list[Peer]

    def network(self, name: str) -> RoutedNetwork:
        return next(routed for routed in self.routed if routed.name == name)

    @property
    def monitor_address(self) -> ipaddress.IPv4Address:
        return self.stack.monitor_endpoint()[1]


def router_facts(stack: OrionStack, options: RenderOptions) -> RouterFacts:
    interfaces = {stack.network_of(nic.bridge, nic.vlan): options.interface(nic.name) for nic in stack.router.nics}
    routed = [
        RoutedNetwork(name, interfaces[name], network, network.gateway)
        for name, network in stack.networks.internal()
        if network.gateway is not None and name in interfaces
    ]
    wan = stack.networks.wan.ipv4
    source = wan.address if isinstance(wan, StaticWan) else None
    peers = [
        Peer(
            model=peer,
            protocol=peer.name.replace("-", "_"),
            local_preference=LOCAL_PREFERENCE[peer.role],
            prepends=PREPENDS[peer.role],
            password_file=str(options.credential("bird", secret_files.bgp_password(peer.name)))
            if peer.password
            else None,
            source_address=source if peer.multihop is not None else None,
        )
        for peer in stack.bgp.peers
    ]
    return RouterFacts(stack, options, interfaces["wan"], routed, peers)
