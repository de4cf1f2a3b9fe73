"""host.json, the data the NixOS modules read, as types: the renderers build it from these models, the lab reads it
back through them, and a test checks that every `host.*` the modules use is declared here."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class HostData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostKeySeed(HostData):
    seed_dir: str = Field(description="where the VM's cloud-init drive is mounted at boot, its host key inside")


class System(HostData):
    """What every ORION NixOS system reads (nix/modules/orion-vm.nix, orion-host-key.nix)."""

    role: Literal["base", "router", "monitor"]
    nixos_release: str = Field(description="the release the flake must pin for this system")
    state_version: str = Field(description="system.stateVersion: the release the VM was first installed with")
    admin_user: str
    authorized_keys: list[str] = Field(description="the operators' public keys and the deploy key's public half")
    secrets_dir: str = Field(description="where the deploy step writes the secret files (root only)")
    credentials: dict[str, list[str]] = Field(
        description="systemd unit -> the secret files it gets as credentials (LoadCredential)"
    )
    host_key: HostKeySeed


class RouterInterface(HostData):
    name: str
    mac: str
    network: str | None
    ipv4: str | None = Field(description="address/prefix length")
    ipv6: str | None = Field(description="address/prefix length")
    dns6: str | None = Field(description="the address router advertisements announce as DNS server")
    router_advertisements: bool


class StaticWanIpv4(HostData):
    address: str
    gateway: str


class Wan(HostData):
    interface: str
    ipv4: Literal["dhcp"] | StaticWanIpv4
    ipv6: str
    request_prefix_delegation: bool
    mtu: int


class RouterExporters(HostData):
    node: int
    bird: int
    kea: int
    unbound: int
    node_netstat_fields: str


class Bird(HostData):
    socket: str = Field(description="BIRD's control socket (the package's default path)")
    credentials_dir: str = Field(description="where bird.service finds its credentials (bird.conf includes them)")


class Kea(HostData):
    control_socket: str


class Unbound(HostData):
    control_socket: str
    state_dir: str


class RouterAgent(HostData):
    """The agent's key, accepted for the restart-bgp forced command only, from the monitoring VM only, and no more
    often than the cooldown (the router's own guard, besides the agent's)."""

    public_key: str
    source_address: str
    cooldown_seconds: int
    state_dir: str


class Router(System):
    role: Literal["router"] = "router"
    hostname: str
    domain: str
    interfaces: list[RouterInterface]
    wan: Wan
    exporters: RouterExporters
    bird: Bird
    kea: Kea
    unbound: Unbound
    agent: RouterAgent | None = Field(description="the monitoring agent's access, when the stack gives it a key")


class MonitorInterface(HostData):
    name: str
    mac: str
    ipv4: str
    gateway: str
    dns: str


class MonitorExporters(HostData):
    node: int


class Prometheus(HostData):
    port: int
    retention_days: int
    rule_file: str = Field(description="where prometheus.yml names its rule file (linked there from the store)")


class Alertmanager(HostData):
    port: int


class Grafana(HostData):
    dashboards_dir: str = Field(description="where the dashboards provider reads them (linked there)")
    port: int
    admin_user: str
    admin_password_file: str
    secret_key_file: str


class Agent(HostData):
    remediate: bool
    ssh_key_file: str
    known_hosts_file: str


class Monitor(System):
    role: Literal["monitor"] = "monitor"
    hostname: str
    domain: str
    interfaces: list[MonitorInterface]
    local_address: str = Field(description="where Prometheus, Alertmanager, the node exporter and the agent listen")
    exporters: MonitorExporters
    prometheus: Prometheus
    alertmanager: Alertmanager
    grafana: Grafana
    agent: Agent


class BaseInterface(HostData):
    """A NIC of any NixOS VM, as the base image configures it: matched by MAC, so one image serves every VM."""

    vm: str
    name: str
    mac: str
    ipv4: str = Field(description='"dhcp", or address/prefix length')
    gateway: str | None
    dns: list[str]


class Base(System):
    role: Literal["base"] = "base"
    interfaces: list[BaseInterface]


HOST_DATA: dict[str, type[System]] = {"base": Base, "router": Router, "monitor": Monitor}


def read(text: str) -> System:
    """A host.json, as the type of the role it names."""
    role = json.loads(text).get("role")
    if role not in HOST_DATA:
        raise ValueError(f"host.json names no known role: {role!r} (known: {', '.join(HOST_DATA)})")
    return HOST_DATA[role].model_validate_json(text)


def to_json(data: System) -> str:
    return data.model_dump_json(indent=2) + "\n"
