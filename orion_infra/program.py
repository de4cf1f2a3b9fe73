"""The Pulumi program: stack config -> validated model -> resources -> stack outputs.

This is the only module that reads `pulumi.Config`; everything below it takes the validated model.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from orion_infra.model import RawConfig, StackConfigError, load_stack
from orion_infra.model.loading import PROJECT, SECTIONS, secret_references
from orion_infra.stack import build


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
        raw = read_config()
        stack, warnings = load_stack(raw, require_secrets=True)
    except StackConfigError as error:
        for line in error.problems:
            pulumi.log.error(line)
        raise pulumi.RunError(f"the stack configuration has {len(error.problems)} problem(s); see above") from None
    for line in warnings:
        pulumi.log.warn(line)
    config = pulumi.Config(PROJECT)
    keys = sorted({key for _, key in secret_references(raw.values)})
    build(stack, {key: config.require_secret(key) for key in keys})
