"""The Pulumi program: stack config -> validated model -> resources -> stack outputs.

This is the only module that reads `pulumi.Config`; everything below it takes the validated model.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random
from pulumi.runtime import config as runtime_config

from orion_infra.components.idrac import IdracHost, IdracHostArgs
from orion_infra.model import OrionStack, RawConfig, StackConfigError, load_stack
from orion_infra.model.loading import PROJECT, SECTIONS
from orion_infra.outputs import (
    OUTPUT_CREDENTIALS,
    OUTPUT_ENDPOINTS,
    OUTPUT_IDRAC,
    OUTPUT_NETWORK,
    OUTPUT_VMS,
    endpoints,
    network_facts,
    vm_facts,
)


def read_config() -> RawConfig:
    """The project's config as the engine passed it, secret values kept only to refuse default credentials."""
    # pulumi.Config can only look keys up; listing every key (to catch a misspelt one) needs the raw map the
    # language host hands over, either set explicitly or in PULUMI_CONFIG.
    every_key = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    prefix = f"{PROJECT}:"
    values: dict[str, object] = {}
    secret_keys: set[str] = set()
    secret_values: dict[str, str] = {}
    config = pulumi.Config(PROJECT)
    for full_key in sorted(every_key):
        if not full_key.startswith(prefix):
            continue
        key = full_key.removeprefix(prefix)
        if runtime_config.is_config_secret(full_key):
            secret_keys.add(key)
            secret_values[key] = str(runtime_config.get_config(full_key))
        elif key in SECTIONS:
            values[key] = config.get_object(key)
        else:
            values[key] = config.get(key)  # not ours to parse: it is reported as unknown or misplaced
    return RawConfig(values=values, secret_keys=frozenset(secret_keys), secret_values=secret_values)


def main() -> None:
    try:
        stack, warnings = load_stack(read_config(), require_secrets=True)
    except StackConfigError as error:
        for line in error.problems:
            pulumi.log.error(line)
        raise pulumi.RunError(f"the stack configuration has {len(error.problems)} problem(s); see above") from None
    for line in warnings:
        pulumi.log.warn(line)
    build(stack, pulumi.Config(PROJECT))


def build(stack: OrionStack, config: pulumi.Config) -> None:
    """The resources of a validated stack, and the stack outputs (see orion_infra.outputs)."""
    idracs = {
        host.name: IdracHost(
            host.name, IdracHostArgs(host=host, current_password=config.require_secret(host.idrac.password.secret))
        )
        for host in stack.hosts
    }
    grafana_admin = _generated_password("grafana-admin-password", special=False)
    proxmox_root = {
        host.proxmox.node: _generated_password(f"{host.proxmox.node}-proxmox-root-password", special=True)
        for host in stack.hosts
        if host.proxmox.install
    }
    pulumi.export(OUTPUT_ENDPOINTS, endpoints(stack))
    pulumi.export(OUTPUT_VMS, vm_facts(stack))
    pulumi.export(OUTPUT_NETWORK, network_facts(stack))
    pulumi.export(
        OUTPUT_IDRAC,
        {
            name: {
                "endpoint": idrac.endpoint,
                "model": idrac.system.model,
                "service_tag": idrac.system.service_tag,
                "bios_version": idrac.system.bios_version,
                "idrac_firmware": idrac.system.idrac_firmware,
                "health": idrac.system.health,
            }
            for name, idrac in idracs.items()
        },
    )
    pulumi.export(
        OUTPUT_CREDENTIALS,
        pulumi.Output.secret(
            {
                "idrac_root": {name: idrac.password for name, idrac in idracs.items()},
                "proxmox_root": {node: password.result for node, password in proxmox_root.items()},
                "grafana_admin": grafana_admin.result,
            }
        ),
    )


def _generated_password(name: str, *, special: bool) -> random.RandomPassword:
    return random.RandomPassword(
        name,
        length=32,
        special=special,
        override_special="-_.~!#%+=" if special else None,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["result"]),
    )
