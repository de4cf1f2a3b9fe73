"""The Pulumi program: stack config -> validated model -> resources -> stack outputs.

This is the only module that reads `pulumi.Config`; everything below it takes the validated model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from orion_infra.model import RawConfig, StackConfigError, load_stack
from orion_infra.model.loading import PROJECT, SECTIONS, secret_references
from orion_infra.model.stack import OrionStack
from orion_infra.stack import build
from orion_infra.trust import TRUST_DIR


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


def api_trust_problems(stack: OrionStack, trust_dir: Path, environment: Mapping[str, str]) -> list[str]:
    """The Proxmox provider verifies a node's API with this machine's trust store alone, which Go reads from
    SSL_CERT_DIR: with verify: node_ca the directory of the nodes' anchors must be in it before anything starts,
    or the first API call would fail half-way through a deployment (ADR 0031)."""
    if str(trust_dir) in environment.get("SSL_CERT_DIR", "").split(":"):
        return []
    return [
        f"hosts[{index}].proxmox.tls: verify: node_ca checks the node's API against its CA kept in {trust_dir}, "
        f"which the Proxmox provider reads through SSL_CERT_DIR only: `export SSL_CERT_DIR={trust_dir}` (the "
        "system's CA bundle stays trusted) and run pulumi again"
        for index, host in enumerate(stack.hosts)
        if host.proxmox.tls.verify == "node_ca"
    ]


def main() -> None:
    trust_dir = Path.cwd() / TRUST_DIR
    try:
        raw = read_config()
        stack, warnings = load_stack(raw, require_secrets=True)
        problems = api_trust_problems(stack, trust_dir, os.environ)
        if problems:
            raise StackConfigError(problems)
    except StackConfigError as error:
        for line in error.problems:
            pulumi.log.error(line)
        raise pulumi.RunError(f"the stack configuration has {len(error.problems)} problem(s); see above") from None
    for line in warnings:
        pulumi.log.warn(line)
    config = pulumi.Config(PROJECT)
    keys = sorted({key for _, key in secret_references(raw.values)})
    build(stack, {key: config.require_secret(key) for key in keys}, str(trust_dir))
