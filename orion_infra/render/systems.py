"""What every ORION NixOS system's host.json holds, and the base image's, which holds nothing else."""

from __future__ import annotations

import ipaddress
from typing import Any

from orion_infra.model.networks import StaticWan
from orion_infra.model.releases import pinned_nixos_release
from orion_infra.model.stack import OrionStack
from orion_infra.model.vms import NixOs, Vm, VmRole
from orion_infra.render import host_data
from orion_infra.render.options import PublicKeys, RenderOptions


def system_data(stack: OrionStack, options: RenderOptions, keys: PublicKeys, vm: Vm | None) -> dict[str, Any]:
    """What every ORION NixOS system reads: its release, the admin account and its keys, where secrets are.
    `vm` is None for the base image, a fresh install of the release the NixOS VMs run."""
    release = pinned_nixos_release()
    state_version = vm.os.state_version if vm is not None and isinstance(vm.os, NixOs) else release
    return {
        "nixos_release": vm.os.release if vm is not None and isinstance(vm.os, NixOs) else release,
        "state_version": state_version,
        "admin_user": stack.access.admin_user,
        "authorized_keys": [*stack.access.authorized_keys, *([keys.deploy] if keys.deploy else [])],
        "secrets_dir": str(options.secrets_dir),
        "host_key": host_data.HostKeySeed(seed_dir=str(options.seed_dir)),
    }


def base_interfaces(stack: OrionStack, options: RenderOptions) -> list[host_data.BaseInterface]:
    """Every NixOS VM's NICs, each named as its own system names it and addressed as the stack says: the names a VM
    boots with are the ones its system expects (a switch cannot rename an interface that is up), and the deploy
    step reaches it at its addresses from the first boot."""
    interfaces = []
    wan = stack.networks.wan.ipv4
    for vm in stack.vms.values():
        if not isinstance(vm.os, NixOs):
            continue
        for nic in vm.nics:
            name = options.interface(nic.name) if vm.role == VmRole.ROUTER else nic.name
            ipv4, via = "dhcp", None
            network = stack.networks.get_internal(stack.network_of(nic.bridge, nic.vlan))
            if stack.network_of(nic.bridge, nic.vlan) == "wan" and isinstance(wan, StaticWan):
                ipv4, via = f"{wan.address}/{wan.prefix_length}", wan.gateway
            elif network is not None and isinstance(nic.ipv4, ipaddress.IPv4Address):
                ipv4 = f"{nic.ipv4}/{network.subnet.prefixlen}"
                # Not the router's: it is every network's gateway, and its default route comes from the WAN.
                via = network.gateway if vm.role != VmRole.ROUTER else None
            interfaces.append(
                host_data.BaseInterface(
                    vm=vm.name,
                    name=name,
                    mac=nic.mac.lower(),
                    ipv4=ipv4,
                    gateway=str(via) if via is not None else None,
                    # Resolving through the router; the router itself through the WAN's DHCP, until it runs Unbound.
                    dns=[str(via)] if via is not None and vm.role != VmRole.ROUTER else [],
                )
            )
    return interfaces


def render_base(stack: OrionStack, options: RenderOptions, keys: PublicKeys) -> dict[str, str]:
    """The base image's data: the release, the admin account with the deploy key, every NixOS VM's NICs."""
    base = host_data.Base(
        **system_data(stack, options, keys, None), credentials={}, interfaces=base_interfaces(stack, options)
    )
    return {"host.json": host_data.to_json(base)}
