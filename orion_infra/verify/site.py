"""What `orion verify` checks and where: worked out from the stack file (the model) and the stack's `trust` output
(the host keys and API anchors the deploy pinned), as the operator's machine reaches it after `pulumi up`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from orion_infra.model.stack import OrionStack
from orion_infra.outputs import endpoints, vm_facts
from orion_infra.render.options import RenderOptions
from orion_infra.render.router.facts import router_facts
from orion_infra.trust import TRUST_DIR, node_trust_file


class SiteError(ValueError):
    """The stack's outputs are not what `orion verify` needs (one line saying which field, what was expected)."""


@dataclass(frozen=True)
class ProxmoxNode:
    node: str
    api: str
    """The API's base URL (https://ADDRESS:8006/)."""
    verify: str
    """How its certificate is checked: node_ca, system or insecure (hosts[].proxmox.tls.verify)."""
    anchor: str | None
    """With node_ca: the PEM the deploy recorded for the node (the `trust` output), else the file `orion trust` wrote
    (.orion/trust/NODE.pem beside the stack file); None when neither is there."""
    anchor_source: str
    vms: dict[int, str]
    """The stack's VMs on this node: id -> name."""


@dataclass(frozen=True)
class Site:
    admin_user: str
    known_hosts: str
    """known_hosts lines of the `trust` output: the host keys the deploy made, the only ones SSH accepts."""
    router: str | None
    """The router's address the deploy pinned its host key for (None: the trust output pins none)."""
    router_name: str
    monitor: str | None
    resolver: str
    """The router's LAN address: the LAN's resolver."""
    local_name: str
    """A name the router's resolver answers by itself (the router's own, in the local zone)."""
    grafana: str
    peers: dict[str, str]
    """BIRD protocol -> peer name, for every session the stack declares."""
    targets: list[str]
    """Every scrape target the stack declares, as job/host."""
    internet: tuple[str, int]
    """An address on the internet the LAN must reach: the first IPv4 DNS upstream, at its DNS-over-TLS port."""
    nodes: list[ProxmoxNode]
    monitor_name: str


def site(stack: OrionStack, trust: object, project_dir: Path) -> Site:
    """The site of `stack`, with the `trust` output as the stack holds it (a dict, `pulumi stack output --json`)."""
    if not isinstance(trust, dict):
        raise SiteError(f"the stack's trust output: expected an object, got {type(trust).__name__}")
    lines = trust.get("ssh_known_hosts", [])
    anchors = trust.get("proxmox_api_ca", {})
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise SiteError("the stack's trust output: ssh_known_hosts must be a list of known_hosts lines")
    if not isinstance(anchors, dict) or not all(isinstance(pem, str) for pem in anchors.values()):
        raise SiteError("the stack's trust output: proxmox_api_ca must map each node to a PEM")
    pinned = {line.split()[0] for line in lines if line.split()}
    facts = vm_facts(stack)

    def ssh_address(role: str) -> str | None:
        # The deploy pins one address per VM (its management address if it has one): reach the VM there.
        key = next(key for key, vm in stack.vms.items() if vm.role.value == role)
        return next((address for address in facts[key]["ipv4"] if address in pinned), None)

    served = endpoints(stack)
    trust_dir = project_dir / TRUST_DIR
    nodes = []
    for host in stack.hosts:
        node = host.proxmox.node
        recorded = anchors.get(node)
        saved = Path(node_trust_file(str(trust_dir), node))
        anchor, source = (
            (recorded, "the stack's trust output")
            if recorded
            else ((saved.read_text(), str(saved)) if saved.is_file() else (None, ""))
        )
        nodes.append(
            ProxmoxNode(
                node=node,
                api=served["proxmox_api"][node],
                verify=host.proxmox.tls.verify,
                anchor=anchor,
                anchor_source=source,
                vms={vm.id: vm.name for vm in stack.vms.values() if vm.node == node},
            )
        )
    upstreams = stack.dns.upstreams
    upstream = next((u for u in upstreams if isinstance(u.address, ipaddress.IPv4Address)), upstreams[0])
    peers = {facts_peer.protocol: facts_peer.model.name for facts_peer in router_facts(stack, RenderOptions()).peers}
    return Site(
        admin_user=stack.access.admin_user,
        known_hosts="".join(f"{line.rstrip()}\n" for line in lines),
        router=ssh_address("router"),
        router_name=stack.router.name,
        monitor=ssh_address("monitoring"),
        monitor_name=stack.monitor.name,
        resolver=served["router"],
        local_name=f"{stack.router.name}.{stack.dns.domain}",
        grafana=served["grafana"],
        peers=peers,
        targets=[f"{target.job}/{target.name}" for target in stack.scrape_targets()],
        internet=(str(upstream.address), upstream.port),
        nodes=nodes,
    )
