"""The twin's topology and lifecycle: the router running the rendered BIRD, nftables, Kea and Unbound with its
exporters and SSH; the upstream peers (BIRD and FRR) at the stack's peer addresses; the internet behind them (a web
server, DNS-over-TLS upstreams); LAN, guest and management hosts; the monitoring VM's Prometheus, Alertmanager and
agent with their rendered files."""

from __future__ import annotations

import base64
import functools
import ipaddress
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orion_infra.components.scripts import file_lines, shell_command
from orion_infra.lab import netns, systems, units, vm
from orion_infra.lab.machine import Machine
from orion_infra.lab.netns import LabError
from orion_infra.lab.peers import Misbehaviour, bird_peer, frr_bfd, frr_peer
from orion_infra.lab.site import STATE, Site
from orion_infra.lab.upstream_dns import UpstreamDns
from orion_infra.model import ports
from orion_infra.model.bgp import BgpPeer
from orion_infra.model.services import ScrapeTarget
from orion_infra.model.stack import OrionStack
from orion_infra.model.vms import Vm
from orion_infra.render import host_data, render_all, render_data, secret_files, system_files
from orion_infra.render.host_keys import SEED_BYTES, HostKey, host_key, known_hosts_line
from orion_infra.render.options import PublicKeys, RenderOptions
from orion_infra.render.proxmox.host import FIREWALL_FILE, SYSCTL_FILE, host_files
from orion_infra.render.router import CA_BUNDLE
from orion_infra.render.router.facts import router_facts

REQUIRED_PROGRAMS = (
    "nix-daemon",
    "nix-store",
    "nix-env",
    "nix-instantiate",
    "ip",
    "ss",
    "setsid",
    "sysctl",
    "nft",
    "bird",
    "birdc",
    "/usr/lib/frr/bgpd",
    "vtysh",
    "kea-dhcp4",
    "unbound",
    "unbound-control",
    "openssl",
    "ldns-keygen",
    "ldns-signzone",
    "drill",
    "busybox",
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-node-exporter",
    "prometheus-bird-exporter",
    "kea-exporter",
    "/usr/sbin/sshd",
    "ssh",
    "ssh-keygen",
    "sudo",
    "setpriv",
    "nsenter",
    "unshare",
    systems.SYSTEM_PYTHON,
)
# Exporters the rendered router runs that the twin cannot, by scrape job, and why: their targets are down in the twin,
# and TargetDown fires for them (README, "The lab"; `orion lab status` says so beside the target).
NOT_RUN = {
    "unbound": "no build of nixpkgs' prometheus-unbound-exporter (github.com/letsencrypt/unbound_exporter v0.6.0): "
    "Debian 12 has no package, and the Go module proxy refuses that module at every version (403)",
}
UDHCPC_SCRIPT = Path(__file__).with_name("udhcpc-script")
# The networks behind the router that the twin wires up, each a bridge in the switch namespace.
INTERNAL = ("lan", "guest", "management")
# Between the upstreams and "the internet" behind them: shared address space (RFC 6598), never routed outside.
TRANSIT = ipaddress.IPv4Network("100.64.0.0/24")
# Its IPv6 side, documentation space: the stack's IPv6 DNS upstreams are on the internet too.
TRANSIT6 = ipaddress.IPv6Network("2001:db8:64::/64")
WEB_SERVER = ipaddress.IPv4Address("203.0.113.80")
WHOAMI = Path(__file__).with_name("whoami_server.py")
LISTENERS = Path(__file__).with_name("listeners.py")
# Where Proxmox's daemons listen when their configuration names only an address.
PVEPROXY_PORT = 8006
# Where a machine keeps the flake of its system, as a committed deploy leaves it on the VM.
CONFIG = "/etc/nixos/orion"
LAB_CA_BUNDLE = "/etc/ssl/orion-lab-ca.pem"
# The ISP side of the WAN link: what its DHCP(v6) would hand the router. Documentation space for IPv6.
WAN6_SUBNET = ipaddress.IPv6Network("2001:db8:6939::/64")
FRR_USER = "frr"


@dataclass
class Twin:
    stack: OrionStack
    root: Path
    """The lab's state: rendered files, sockets, logs. Removed by `down`."""
    prefix: str
    """Every namespace of the twin is named `PREFIX-...` (`down` removes them all)."""
    frr_peers: int = 1
    """How many peers (the last ones) run FRR instead of BIRD."""
    passwords: dict[str, str] = field(default_factory=dict)
    secrets_generations: dict[str, str] = field(
        default_factory=lambda: {role: secrets.token_hex(8) for role in ("router", "monitor")}
    )
    """The set of secrets each system reads, named as the deploy names them (a random id per set)."""
    convergence_seconds: float | None = None
    """From the router's start to every session Established, measured by `up`."""

    @classmethod
    def named(cls, stack: OrionStack, name: str, state: Path = STATE) -> Twin:
        """The twin called `name`, with its namespaces and state where `orion lab down --name NAME` finds them."""
        site = Site.named(name, state)
        return cls(stack, site.root, site.prefix)

    @property
    def site(self) -> Site:
        return Site(self.root, self.prefix)

    # -- names ------------------------------------------------------------------------------------------------

    @property
    def router_ns(self) -> str:
        return self.site.router_ns

    @property
    def internet_ns(self) -> str:
        return f"{self.prefix}-internet"

    @property
    def switch_ns(self) -> str:
        return f"{self.prefix}-switch"

    @property
    def monitor_ns(self) -> str:
        return self.site.monitor_ns

    @property
    def host_ns(self) -> str:
        """The Proxmox host's place on the management network: its node exporter, and an administrator's shell."""
        return f"{self.prefix}-{self.stack.hosts[0].name}"

    def peer_ns(self, peer: BgpPeer) -> str:
        return f"{self.prefix}-{peer.name}"

    def protocol(self, peer: BgpPeer) -> str:
        """The name of `peer`'s session in the router's BIRD (and so in its exporter's labels)."""
        return next(p.protocol for p in router_facts(self.stack, self.options).peers if p.model == peer)

    def runs_frr(self, peer: BgpPeer) -> bool:
        return peer in self.stack.bgp.peers[len(self.stack.bgp.peers) - self.frr_peers :]

    @property
    def wan_subnet(self) -> ipaddress.IPv4Network:
        first = next(peer.address for peer in self.stack.bgp.peers if peer.address.version == 4)
        return ipaddress.IPv4Network(f"{first}/24", strict=False)

    @property
    def router_wan(self) -> ipaddress.IPv4Address:
        taken = {peer.address for peer in self.stack.bgp.peers}
        return next(host for host in self.wan_subnet.hosts() if host not in taken and int(host) & 0xFF > 1)

    def peer_wan6(self, index: int) -> ipaddress.IPv6Address:
        return WAN6_SUBNET.network_address + 10 + index

    @property
    def router_wan6(self) -> ipaddress.IPv6Address:
        return WAN6_SUBNET.network_address + 2

    @property
    def options(self) -> RenderOptions:
        """Production's: the router and the monitoring VM are machines with their own /etc, /run and /var/lib."""
        return RenderOptions()

    @property
    def router(self) -> Machine:
        return self.site.router

    @property
    def monitor(self) -> Machine:
        return self.site.monitor

    @property
    def router_host(self) -> host_data.Router:
        """The running router system's host.json, the data its NixOS module reads, read through its type."""
        return self.site.router_host

    @property
    def monitor_address(self) -> ipaddress.IPv4Address:
        return self.stack.monitor_endpoint()[1]

    @property
    def host_address(self) -> ipaddress.IPv4Address:
        address = self.stack.management_address(self.stack.hosts[0])
        if address is None:
            raise LabError(f"host {self.stack.hosts[0].name} has no management address")
        return address

    def socket(self, name: str) -> str:
        """A peer's BIRD control socket; the router's is where its host.json says, inside the router."""
        if name == "router":
            return self.site.router_socket()
        return str(self.root / "run" / f"{name}.ctl")

    # -- lifecycle --------------------------------------------------------------------------------------------

    def up(self) -> None:
        missing = netns.missing_programs(REQUIRED_PROGRAMS)
        if missing:
            raise LabError(
                f"missing programs: {', '.join(missing)} "
                "(Debian: bird2, frr, nftables, kea-dhcp4-server, unbound, openssl, ldnsutils, busybox, iproute2, "
                "util-linux, procps, prometheus, prometheus-alertmanager, prometheus-node-exporter, "
                "prometheus-bird-exporter, openssh-server; kea-exporter from this project's environment: `uv sync`)"
            )
        self.up_network()
        try:
            self._router()
            # Unbound remembers an upstream it could not reach: it starts once the default route is there.
            self.convergence_seconds = self.wait_for_sessions()
            self._resolver()
            self._monitoring()
        except Exception:
            self.down()
            raise

    def up_network(self) -> None:
        """Only the twin's network (replacing any twin of its name): its namespaces and switch, the upstream peers
        listening for BGP and the internet behind them, the Proxmox host's stand-ins; no router or monitoring VM.
        `up` goes on from here; what needs no more (twins side by side) stops here."""
        self.down()
        try:
            self._network()
            self._peers()
            self._wait_for_peers()
        except Exception:
            self.down()
            raise

    def down(self) -> None:
        self.site.remove()

    def _network(self) -> None:
        for directory in ("run", "peers", "clients"):
            (self.root / directory).mkdir(parents=True, exist_ok=True)
        namespaces = [self.switch_ns, self.router_ns, *(self.peer_ns(peer) for peer in self.stack.bgp.peers)]
        for namespace in namespaces:
            netns.run(["ip", "netns", "add", namespace])
            netns.run(["ip", "-n", namespace, "link", "set", "lo", "up"])
        for bridge in ("wan", *INTERNAL):
            netns.run(["ip", "-n", self.switch_ns, "link", "add", bridge, "type", "bridge"])
            netns.run(["ip", "-n", self.switch_ns, "link", "set", bridge, "up"])
        # The router's NICs as the VM's hardware: named as the kernel names them, with the stack's MACs (the base
        # image names them at boot, its systems address them).
        self._nics(self.router_ns, self.stack.router)
        prefix = self.wan_subnet.prefixlen
        for index, peer in enumerate(self.stack.bgp.peers):
            namespace = self.peer_ns(peer)
            netns.veth_to_switch(namespace, "wan", self.switch_ns, "wan", f"peer{index}")
            netns.run(["ip", "-n", namespace, "addr", "add", f"{peer.address}/{prefix}", "dev", "wan"])
            netns.run(["ip", "-n", namespace, "addr", "add", f"{self.peer_wan6(index)}/64", "dev", "wan", "nodad"])
        netns.run(["ip", "netns", "add", self.monitor_ns])
        netns.run(["ip", "-n", self.monitor_ns, "link", "set", "lo", "up"])
        self._nics(self.monitor_ns, self.stack.monitor)
        self._proxmox_host()
        self._internet()

    def _nics(self, namespace: str, vm: Vm) -> None:
        for index, nic in enumerate(vm.nics):
            network = self.stack.network_of(nic.bridge, nic.vlan)
            assert network is not None  # the model puts every NIC on a network
            port = f"{vm.name.removeprefix('orion-')[:5]}-{index}"
            netns.veth_to_switch(namespace, f"eth{index}", self.switch_ns, network, port)
            netns.run(["ip", "-n", namespace, "link", "set", "dev", f"eth{index}", "address", nic.mac.lower()])

    def _proxmox_host(self) -> None:
        """The Proxmox host as its first-boot hook leaves it: its sysctl settings applied before any bridge exists
        (as at boot), its bridges on the twin's segments named as the stack names them, an address on management
        only, its firewall loaded, and stand-ins for sshd, pveproxy and rpcbind where their rendered files say."""
        host = self.stack.hosts[0]
        files = {file.path: file.content for file in host_files(self.stack, host)}
        namespace = self.host_ns
        netns.run(["ip", "netns", "add", namespace])
        netns.run(["ip", "-n", namespace, "link", "set", "lo", "up"])
        for path, content in files.items():
            staged = self.root / "host" / path.lstrip("/")
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(content)
        netns.in_ns(namespace, "sysctl", "-q", "-p", str(self.root / "host" / SYSCTL_FILE.lstrip("/")))
        management = self.stack.networks.management
        for bridge in host.bridges:
            network = self.stack.network_of(bridge.name, None)
            if network in ("wan", *INTERNAL):  # the storage network has no segment in the twin
                netns.veth_to_switch(namespace, bridge.name, self.switch_ns, network, f"host-{bridge.name}")
        prefix = management.subnet.prefixlen
        netns.run(["ip", "-n", namespace, "addr", "add", f"{self.host_address}/{prefix}", "dev", management.bridge])
        netns.run(["ip", "-n", namespace, "route", "add", "default", "via", str(management.gateway)])
        netns.set_resolver(namespace, str(management.gateway))
        netns.in_ns(namespace, "nft", "-f", str(self.root / "host" / FIREWALL_FILE.lstrip("/")))
        netns.start_daemon(namespace, "python3", str(LISTENERS), *host_listeners(files), log=self.host_listeners_log)

    @property
    def host_listeners_log(self) -> Path:
        """What the Proxmox host's daemon stand-ins accepted: a line "PORT PEER" per connection."""
        return self.root / "run" / "host-listeners.log"

    def transit_address(self, index: int) -> ipaddress.IPv4Address:
        return TRANSIT.network_address + 11 + index

    def _internet(self) -> None:
        """The internet behind the upstreams: a web server that tells clients the address it sees them at."""
        internet = self.internet_ns
        netns.run(["ip", "netns", "add", internet])
        netns.run(["ip", "-n", internet, "link", "set", "lo", "up"])
        netns.run(["ip", "-n", internet, "addr", "add", f"{WEB_SERVER}/32", "dev", "lo"])
        netns.run(["ip", "-n", self.switch_ns, "link", "add", "isp", "type", "bridge"])
        netns.run(["ip", "-n", self.switch_ns, "link", "set", "isp", "up"])
        netns.veth_to_switch(internet, "isp", self.switch_ns, "isp", "internet")
        netns.run(
            ["ip", "-n", internet, "addr", "add", f"{TRANSIT.network_address + 1}/{TRANSIT.prefixlen}", "dev", "isp"]
        )
        netns.run(["ip", "-n", internet, "addr", "add", f"{TRANSIT6.network_address + 1}/64", "dev", "isp", "nodad"])
        for index, peer in enumerate(self.stack.bgp.peers):
            namespace = self.peer_ns(peer)
            netns.veth_to_switch(namespace, "isp", self.switch_ns, "isp", f"isp{index}")
            netns.run(
                [
                    "ip",
                    "-n",
                    namespace,
                    "addr",
                    "add",
                    f"{self.transit_address(index)}/{TRANSIT.prefixlen}",
                    "dev",
                    "isp",
                ]
            )
            netns.run(["ip", "-n", namespace, "route", "add", "default", "via", str(TRANSIT.network_address + 1)])
            transit6 = TRANSIT6.network_address + 11 + index
            netns.run(["ip", "-n", namespace, "addr", "add", f"{transit6}/64", "dev", "isp", "nodad"])
            netns.run(
                ["ip", "-n", namespace, "-6", "route", "add", "default", "via", str(TRANSIT6.network_address + 1)]
            )
            netns.in_ns(namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
        # Replies to the router's WAN address go back through the primary upstream.
        netns.run(["ip", "-n", internet, "route", "add", str(self.wan_subnet), "via", str(self.transit_address(0))])
        netns.run(
            ["ip", "-n", internet, "-6", "route", "add", str(WAN6_SUBNET), "via", str(TRANSIT6.network_address + 11)]
        )
        netns.start_daemon(
            internet, "python3", str(WHOAMI), str(WEB_SERVER), "80", log=self.root / "run" / "whoami.log"
        )
        upstreams = self.upstream_dns
        upstreams.prepare(self.stack.dns, WEB_SERVER)
        for upstream in sorted({upstream.address for upstream in self.stack.dns.upstreams}, key=str):
            no_dad = ["nodad"] if upstream.version == 6 else []
            netns.run(
                ["ip", "-n", internet, "addr", "add", f"{upstream}/{upstream.max_prefixlen}", "dev", "lo", *no_dad]
            )
        netns.start_daemon(
            internet, "unbound", "-d", "-c", str(upstreams.config), log=upstreams.directory / "stdout.log"
        )

    @property
    def upstream_dns(self) -> UpstreamDns:
        return UpstreamDns(self.root / "internet" / "dns")

    def _peers(self) -> None:
        for peer in self.stack.bgp.peers:
            self.start_peer(peer)

    def start_peer(self, peer: BgpPeer) -> None:
        """Starts `peer`'s BGP speaker (again, after `stop_peer`), with the session's password (made once)."""
        password = self.passwords.setdefault(peer.name, secrets.token_hex(8))
        directory = self.root / "peers" / peer.name
        directory.mkdir(parents=True, exist_ok=True)
        if self.runs_frr(peer):
            self._start_frr(peer, directory, password)
            return
        config = self._write_bird_peer(peer, Misbehaviour())
        netns.start_daemon(
            self.peer_ns(peer),
            "bird",
            "-f",
            "-c",
            str(config),
            "-s",
            self.socket(peer.name),
            log=directory / "stdout.log",
        )

    def _write_bird_peer(self, peer: BgpPeer, misbehaviour: Misbehaviour) -> Path:
        directory = self.root / "peers" / peer.name
        config = directory / "bird.conf"
        config.write_text(
            bird_peer(
                peer,
                local_asn=self.stack.bgp.asn,
                router_address=str(self.router_wan),
                password=self.passwords[peer.name],
                log=str(directory / "bird.log"),
                misbehaviour=misbehaviour,
            )
        )
        return config

    def misbehave(self, peer: BgpPeer, misbehaviour: Misbehaviour) -> None:
        """Makes a BIRD peer send what `misbehaviour` says (Misbehaviour() to behave again), without restarting it."""
        if self.runs_frr(peer):
            raise LabError(f"{peer.name} runs FRR; misbehaving peers are BIRD peers")
        self._write_bird_peer(peer, misbehaviour)
        reply = self.birdc(peer.name, "configure")
        if "Reconfigured" not in reply:
            raise LabError(f"{peer.name}'s BIRD did not take its new configuration: {reply.strip()}")

    def speaker_pids(self, peer: BgpPeer) -> list[str]:
        """The processes of `peer`'s BGP speaker (BIRD, or FRR's zebra, bfdd and bgpd)."""
        return netns.pids(self.peer_ns(peer), _is_speaker)

    def stop_peer(self, peer: BgpPeer) -> None:
        """Crashes `peer`'s BGP speaker: SIGKILL, so nothing says goodbye to the router."""
        netns.stop(self.peer_ns(peer), _is_speaker)
        for leftover in (self.root / "peers" / peer.name).glob("*.pid"):
            leftover.unlink()

    def _start_frr(self, peer: BgpPeer, directory: Path, password: str) -> None:
        """FRR as it runs: zebra, bgpd and bfdd (BFD reaches bgpd through zebra), as the frr user."""
        config = directory / "bgpd.conf"
        config.write_text(frr_peer(peer, self.stack.bgp.asn, str(self.router_wan), password))
        (directory / "bfdd.conf").write_text(frr_bfd(peer, str(self.router_wan)))
        (directory / "zebra.conf").write_text("")
        for path in (directory, *directory.iterdir()):
            shutil.chown(path, FRR_USER, FRR_USER)
        zebra_socket = str(directory / "zserv.api")
        common = ["--vty_socket", str(directory), "-u", FRR_USER, "-g", FRR_USER]
        for daemon, extra in (("zebra", []), ("bfdd", ["-z", zebra_socket]), ("bgpd", ["-z", zebra_socket, "-n"])):
            if daemon != "zebra":
                netns.wait_until(
                    Path(zebra_socket).exists,
                    timeout=5,
                    failure=f"FRR's zebra did not start for {peer.name} (the {FRR_USER} user must reach {directory})",
                    log=directory / "zebra.stdout.log",
                )
            netns.start_daemon(
                self.peer_ns(peer),
                f"/usr/lib/frr/{daemon}",
                "-f",
                str(directory / f"{daemon}.conf"),
                "-i",
                str(directory / f"{daemon}.pid"),
                *(["-z", zebra_socket] if daemon == "zebra" else extra),
                *common,
                "--log",
                f"file:{directory / f'{daemon}.log'}",
                log=directory / f"{daemon}.stdout.log",
            )

    def _wait_for_peers(self, timeout: float = 10.0) -> None:
        """Peers listen before the router starts: BIRD retries a refused connection only after minutes."""
        for namespace in map(self.peer_ns, self.stack.bgp.peers):
            netns.wait_until(
                functools.partial(_listens_on_bgp, namespace),
                timeout=timeout,
                failure=f"{namespace} does not listen on tcp/179",
            )

    # -- the router and the monitoring VM: machines set up as the base image sets up a VM, switched to the systems
    # -- built from the flakes `pulumi up` would push, whose activation runs each daemon as its NixOS unit does ----

    @property
    def public_keys(self) -> PublicKeys:
        """The public halves the deploy step derives from the stack's keys; the lab's are its own (made at `up`)."""
        return PublicKeys(
            deploy=self.key("deploy").with_suffix(".pub").read_text().strip(),
            agent=self.key("agent").with_suffix(".pub").read_text().strip()
            if self.stack.access.agent_key is not None
            else None,
        )

    def key(self, name: str) -> Path:
        """A private key of the lab's ("deploy", "agent"), made once per lab."""
        key = self.root / "keys" / name
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            netns.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"orion-lab-{name}", "-f", str(key)])
        return key

    def role_of(self, machine: Machine) -> str:
        """The role the system of `machine` (the router or the monitoring VM) is rendered for."""
        return "router" if machine.namespace == self.router_ns else "monitor"

    def host_key(self, machine: Machine) -> HostKey:
        """The SSH host key the deploy makes for a VM before its first boot, grown from a seed as pulumi-random's
        would be (made once per lab)."""
        name = self.stack.router.name if self.role_of(machine) == "router" else self.stack.monitor.name
        seed = self.root / "keys" / f"{name}.seed"
        if not seed.exists():
            seed.parent.mkdir(parents=True, exist_ok=True)
            seed.write_text(base64.b64encode(os.urandom(SEED_BYTES)).decode())
        return host_key(seed.read_text(), name)

    def flake(self, role: str) -> dict[str, str]:
        """The flake `pulumi up` pushes to the system of `role`, by path. The one difference from production: the
        router's Unbound trusts the lab's CA for its upstreams."""
        files = system_files(
            render_all(self.stack, self.options, self.public_keys, secrets=self.secrets_generations), role
        )
        if role == "router":
            files["host/unbound.conf"] = files["host/unbound.conf"].replace(
                f'tls-cert-bundle: "{CA_BUNDLE}"', f'tls-cert-bundle: "{LAB_CA_BUNDLE}"'
            )
        return files

    def write_secrets(self, machine: Machine, secrets: dict[str, str]) -> None:
        """The secrets, written inside the machine by the very script the deploy step runs there, as the set its
        system reads."""
        generation = self.secrets_generations[self.role_of(machine)]
        write = shell_command("write-secrets.sh", SECRETS_DIR=self.options.secrets_dir, GENERATION=generation)
        machine.run("sh", "-c", write, stdin=file_lines(secrets))

    @property
    def router_secrets(self) -> dict[str, str]:
        return {
            secret_files.bgp_password(peer.name): secret_files.bird_password_statement(
                self.passwords.setdefault(peer.name, secrets.token_hex(8))
            )
            for peer in self.stack.bgp.peers
            if peer.password is not None
        }

    def _install(self, machine: Machine, role: str) -> None:
        """The system of `role`, as `nixos-rebuild switch` of its flake would make it (the deploy path does the
        same with probation: tests/deploy)."""
        for name, text in self.flake(role).items():
            target = machine.path(f"{CONFIG}/{name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        machine.run(f"{systems.LAB_BIN}/nixos-rebuild", "switch", "--flake", f"{CONFIG}#orion", timeout=120)

    def _base(self, machine: Machine) -> None:
        vm.install_base(machine, self.flake("base"), self.host_key(machine))

    def _router(self) -> None:
        router = self.router
        self._base(router)
        # What the ISP's DHCP and DHCPv6 hand the router's WAN (the lab's stand-in for them).
        wan = self.options.interface("wan")
        router.run("ip", "addr", "add", f"{self.router_wan}/{self.wan_subnet.prefixlen}", "dev", wan)
        router.run("ip", "addr", "add", f"{self.router_wan6}/64", "dev", wan, "nodad")
        router.set_resolver("127.0.0.1")
        shutil.copyfile(self.upstream_dns.ca_certificate, router.path(LAB_CA_BUNDLE))
        # Where NixOS' unbound-anchor would put the real root's anchor: the lab's signed root instead.
        unbound = units.UNITS["orion-unbound"]
        units.prepare(router, unbound)
        anchor = f"/var/lib/{unbound.state_directory}/root.key"
        shutil.copyfile(self.upstream_dns.trust_anchor, router.path(anchor))
        router.run("chown", f"{unbound.user}:{unbound.group}", anchor)
        self.write_secrets(router, self.router_secrets)
        self._install(router, "router")

    def _wait_for_router_bird(self) -> None:
        netns.wait_until(
            lambda: netns.run(["birdc", "-s", self.socket("router"), "show", "status"], check=False).returncode == 0,
            timeout=5,
            failure="the router's BIRD does not answer",
            log=units.log_file(self.router, units.UNITS["bird"]),
        )

    def _monitoring(self) -> None:
        """The monitoring VM (Prometheus, Alertmanager, its node exporter, the agent with its key and the router's
        host key), and the Proxmox host's node exporter."""
        monitor = self.monitor
        self._base(monitor)
        monitor.set_resolver(str(self.stack.router_address_for_monitor()))
        netns.start_daemon(
            self.host_ns,
            "prometheus-node-exporter",
            f"--web.listen-address=:{self.stack.target(self.stack.hosts[0].name, 'node').port}",
            "--no-collector.systemd",
            log=self.root / "run" / "host-node-exporter.log",
        )
        self.write_secrets(monitor, self.monitor_secrets)
        self._install(monitor, "monitor")
        netns.wait_until(
            lambda: self.fetch(
                self.monitor_ns, f"http://{ports.MONITOR_LOCAL_ADDRESS}:{ports.MONITOR_SERVICES['prometheus']}/-/ready"
            ),
            timeout=10,
            failure="Prometheus is not ready",
            log=units.log_file(monitor, units.UNITS["prometheus"]),
        )
        self.wait_for_agent()

    @property
    def monitor_secrets(self) -> dict[str, str]:
        """What the deploy step writes to the monitoring VM: the agent's key and the router's host key (the one the
        deploy made for it), and Grafana's generated secrets (Grafana does not run in the lab)."""
        return {
            secret_files.GRAFANA_ADMIN_PASSWORD: secrets.token_hex(16),
            secret_files.GRAFANA_SECRET_KEY: secrets.token_hex(16),
            secret_files.AGENT_SSH_KEY: self.key("agent").read_text(),
            secret_files.AGENT_KNOWN_HOSTS: known_hosts_line(
                self.agent_settings["router"]["address"], self.host_key(self.router)
            ),
        }

    def start_prometheus(self) -> None:
        units.restart(self.monitor, units.UNITS["prometheus"])

    def stop_prometheus(self) -> None:
        """Kills Prometheus (SIGKILL: a crash, not a shutdown)."""
        netns.stop(self.monitor_ns, lambda pid: netns.command_name(pid) == "prometheus")

    def stop_router_bird(self) -> None:
        """Stops the router's BIRD as an operator's `birdc down` does."""
        netns.run(["birdc", "-s", self.socket("router"), "down"], check=False)
        netns.stop(self.router_ns, lambda pid: netns.command_name(pid) == "bird", signal="-TERM")

    def restart_router_bird(self) -> None:
        """`systemctl restart bird.service`, as the lab's systemctl does it for the restart-bgp forced command."""
        units.restart(self.router, units.UNITS["bird"])
        self._wait_for_router_bird()

    # -- the agent ----------------------------------------------------------------------------------------------

    @property
    def agent_target(self) -> ScrapeTarget:
        return self.stack.target(self.stack.monitor.name, "agent")

    @property
    def agent_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = json.loads(
            render_data(self.stack, self.options, self.public_keys)["monitor"]["agent-settings.json"]
        )
        return settings

    def start_agent(self, *, dry_run: bool = False, **settings: str) -> None:
        """Runs the agent as the monitoring VM's unit does (systems.start_agent); `dry_run` and `settings` are
        further ORION_AGENT_* overrides."""
        system = systems.current_system(self.monitor)
        host = systems.load(system, self.monitor)
        assert isinstance(host, host_data.Monitor)
        overrides = {f"ORION_AGENT_{name.upper()}": value for name, value in settings.items()}
        if dry_run:
            overrides["ORION_AGENT_REMEDIATION__DRY_RUN"] = "true"
        systems.start_agent(self.monitor, host, system, **overrides)
        self.wait_for_agent()

    def wait_for_agent(self) -> None:
        netns.wait_until(
            lambda: self.agent("health") is not None,
            timeout=10,
            failure="the agent does not answer",
            log=units.log_file(self.monitor, units.UNITS["orion-agent"]),
        )

    def stop_agent(self) -> None:
        netns.stop(self.monitor_ns, lambda pid: "orion_agent" in netns.command_line(pid), signal="-TERM")

    def agent(self, path: str) -> Any:
        """The agent's JSON answer to GET `path` (health, report?format=json), or None when it does not answer."""
        body = self.fetch(self.monitor_ns, f"http://{self.agent_target.address}:{self.agent_target.port}/{path}")
        return None if body is None else json.loads(body)

    def audit(self, audit_log: str | None = None) -> list[dict[str, Any]]:
        """The agent's audit log (the rendered one, unless given: a path inside the monitoring VM), oldest first."""
        path = self.monitor.path(audit_log or self.agent_settings["audit_log"])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def _resolver(self) -> None:
        """Unbound again, now that the upstreams are routed: it remembers one it could not reach."""
        units.restart(self.router, units.UNITS["orion-unbound"])
        system = systems.current_system(self.router)
        control = ["unbound-control", "-c", f"{system}/host/unbound.conf", "status"]
        netns.wait_until(
            lambda: self.router.run(*control, check=False) != "",
            timeout=5,
            failure="the router's Unbound does not answer",
            log=units.log_file(self.router, units.UNITS["orion-unbound"]),
        )

    def resolve(self, namespace: str, name: str, server: str, record: str = "A") -> tuple[str, set[str], list[str]]:
        """Asks `server` for `name` from `namespace` with DNSSEC records requested: (rcode, header flags,
        answer records without their TTL)."""
        output = netns.in_ns(namespace, "drill", "-D", f"@{server}", name, record).stdout
        rcode = ""
        flags: set[str] = set()
        answers: list[str] = []
        section = ""
        for line in output.splitlines():
            if line.startswith(";; ->>HEADER<<-"):
                rcode = line.split("rcode:")[1].split(",")[0].strip()
            elif line.startswith(";; flags:"):
                flags = set(line.split(":")[1].split(";")[0].split())
            elif line.startswith(";; ANSWER SECTION"):
                section = "answer"
            elif line.startswith(";;"):
                section = ""
            elif section == "answer" and line.strip():
                owner, _ttl, *rest = line.split()  # the TTL counts down in caches: not part of the answer
                answers.append(" ".join([owner, *rest]))
        return rcode, flags, answers

    # -- looking at it ----------------------------------------------------------------------------------------

    def birdc(self, name: str, *command: str) -> str:
        namespace = self.router_ns if name == "router" else f"{self.prefix}-{name}"
        return netns.in_ns(namespace, "birdc", "-s", self.socket(name), *command).stdout

    def sessions_or_none(self) -> dict[str, str] | None:
        """The sessions, or None when the router's BIRD does not answer."""
        try:
            return self.sessions()
        except LabError:
            return None

    def sessions(self) -> dict[str, str]:
        """BGP session state per peer, as the router sees them."""
        return self.site.sessions()

    def default_route_via(self) -> str:
        """The router's IPv4 default next hop ('' when it has none)."""
        route = netns.in_ns(self.router_ns, "ip", "-4", "route", "show", "default").stdout.split()
        return route[2] if len(route) > 2 else ""

    def default_route_moves(self, to: str, *, since: float, timeout: float) -> float:
        """Waits until the router's IPv4 default route points at `to`; returns the seconds since `since` (a
        `time.monotonic()` taken before the fault)."""
        netns.wait_until(
            lambda: self.default_route_via() == to,
            timeout=timeout,
            failure=f"the default route does not move to {to} (via {self.default_route_via() or 'nothing'})",
            interval=0.005,
        )
        return time.monotonic() - since

    def wait_for_primary(self) -> None:
        """Every session back, and the default route via the primary again."""
        self.wait_for_sessions(timeout=60)
        self.default_route_moves(str(self.stack.bgp.peers[0].address), since=time.monotonic(), timeout=30)

    @contextmanager
    def frozen(self, peer: BgpPeer) -> Iterator[None]:
        """`peer`'s BGP speaker stopped (SIGSTOP) for the block: a hung router, whose TCP and BFD go silent."""
        frozen = self.speaker_pids(peer)
        for pid in frozen:
            netns.run(["kill", "-STOP", pid])
        try:
            yield
        finally:
            for pid in frozen:
                netns.run(["kill", "-CONT", pid], check=False)

    def wait_for_sessions(self, timeout: float = 30.0) -> float:
        """Seconds until every session is Established; LabError with the states after `timeout`."""
        started = time.monotonic()
        while True:
            states = self.sessions()
            if states and all(state == "Established" for state in states.values()):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise LabError(f"BGP sessions not all Established after {timeout:g} s: {states}")
            time.sleep(0.2)

    def client(self, name: str, network: str) -> str:
        """A host plugged into `network` (lan, guest, management); returns its namespace."""
        namespace = f"{self.prefix}-{name}"
        netns.run(["ip", "netns", "add", namespace])
        netns.run(["ip", "-n", namespace, "link", "set", "lo", "up"])
        netns.veth_to_switch(namespace, "eth0", self.switch_ns, network, name[:15])
        return namespace

    def dhcp_lease(self, namespace: str, timeout: float = 10.0) -> dict[str, str]:
        """Asks for a lease as a client would (busybox udhcpc); returns what the router handed out."""
        lease_file = self.root / "clients" / f"{namespace}.lease"
        netns.in_ns(
            namespace,
            "env",
            f"LEASE_FILE={lease_file}",
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-f",
            "-q",
            "-n",
            "-t",
            "10",
            "-T",
            "1",
            "-s",
            str(UDHCPC_SCRIPT),
            timeout=timeout,
        )
        return dict(line.split("=", 1) for line in lease_file.read_text().splitlines() if "=" in line)

    def fetch(self, namespace: str, url: str) -> str | None:
        """GETs `url` from `namespace`; the body, or None when nothing answers."""
        return self.site.fetch(namespace, url)

    def prometheus(self, path: str) -> object:
        """The `data` of a Prometheus API answer (`path` like `query?query=up`), asked from the monitoring VM."""
        return self.site.prometheus(path)

    def prometheus_all(self, paths: Sequence[str]) -> list[object]:
        """The `data` of Prometheus' answer to each of `paths`, asked from the monitoring VM in one go."""
        return self.site.prometheus_all(paths)

    def targets(self) -> dict[str, str]:
        """Health of every scrape target by `job/host`."""
        return self.site.targets()

    def leases(self) -> dict[str, str]:
        """The router's current DHCP leases: address -> hardware address, from Kea's lease file."""
        return self.site.leases()

    def drop_counter(self, comment: str) -> int:
        """Packets counted by the router's firewall rules with this comment, together."""
        counts = [
            int(line.split("packets")[1].split()[0])
            for line in netns.in_ns(self.router_ns, "nft", "list", "ruleset").stdout.splitlines()
            if f'comment "{comment}"' in line and "packets" in line
        ]
        if not counts:
            raise LabError(f"no counted rule with comment {comment!r}")
        return sum(counts)

    def peer_received(self, peer: BgpPeer) -> set[str]:
        """The prefixes `peer` received from the router."""
        if self.runs_frr(peer):
            directory = self.root / "peers" / peer.name
            output = netns.in_ns(
                self.peer_ns(peer),
                "vtysh",
                "--vty_socket",
                str(directory),
                "-d",
                "bgpd",
                "-c",
                "show bgp ipv4 unicast",
                "-c",
                "show bgp ipv6 unicast",
            ).stdout
            return {word for line in output.splitlines() for word in line.split() if "/" in word and _is_prefix(word)}
        output = self.birdc(peer.name, "show", "route", "protocol", "orion")
        return {
            line.split()[0]
            for line in output.splitlines()
            if line and not line.startswith((" ", "\t")) and _is_prefix(line.split()[0])
        }


def _is_speaker(pid: str) -> bool:
    return netns.command_name(pid) in ("bird", "bgpd", "bfdd", "zebra")


def _listens_on_bgp(namespace: str) -> bool:
    return ":179 " in netns.in_ns(namespace, "ss", "-Hltn").stdout


def _is_prefix(text: str) -> bool:
    try:
        ipaddress.ip_network(text.lstrip("*>"), strict=False)
    except ValueError:
        return False
    return "/" in text


def host_listeners(files: dict[str, str]) -> list[str]:
    """ADDRESS:PORT of each daemon the Proxmox host's rendered files bind: pveproxy's LISTEN_IP, sshd's
    ListenAddress, rpcbind's ListenStream sockets."""
    specs: list[str] = []
    for line in files["/etc/default/pveproxy"].splitlines():
        if line.startswith("LISTEN_IP="):
            specs.append(f"{line.split('=', 1)[1].strip(chr(34))}:{PVEPROXY_PORT}")
    for line in files["/etc/ssh/sshd_config.d/10-orion.conf"].splitlines():
        if line.startswith("ListenAddress "):
            specs.append(f"{line.split()[1]}:{ports.SSH}")
    for line in files["/etc/systemd/system/rpcbind.socket.d/10-orion.conf"].splitlines():
        value = line.removeprefix("ListenStream=")
        if value != line and ":" in value:
            specs.append(value)
    return specs
