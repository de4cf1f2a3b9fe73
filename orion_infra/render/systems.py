"""What every ORION NixOS system's host.json holds, and the base image's, which holds nothing else."""

from __future__ import annotations

from typing import Any

from orion_infra.model.releases import pinned_nixos_release
from orion_infra.model.stack import OrionStack
from orion_infra.model.vms import NixOs, Vm
from orion_infra.render import host_data
from orion_infra.render.options import PublicKeys, RenderOptions


def system_data(stack: OrionStack, options: RenderOptions, keys: PublicKeys, vm: Vm | None) -> dict[str, Any]:
    """What every ORION NixOS system reads: its release, the admin account and its keys, where secrets are.
    `vm` is None for the base image, a fresh install of the release the NixOS VMs run."""
    release = pinned_nixos_release()
    installed_with = vm.os.installed_with if vm is not None and isinstance(vm.os, NixOs) else release
    return {
        "nixos_release": vm.os.release if vm is not None and isinstance(vm.os, NixOs) else release,
        "state_version": installed_with,
        "admin_user": stack.access.admin_user,
        "authorized_keys": [*stack.access.authorized_keys, *([keys.deploy] if keys.deploy else [])],
        "secrets_dir": str(options.secrets_dir),
    }


def render_base(stack: OrionStack, options: RenderOptions, keys: PublicKeys) -> dict[str, str]:
    """The base image's data: the admin account with the deploy key, and the release (cloud-init does the rest)."""
    return {"host.json": host_data.to_json(host_data.Base(**system_data(stack, options, keys, None), credentials={}))}
