"""SSH host keys the deploy makes before a machine first boots, so that every connection to it checks whom it talks
to from the first one on: a seed from pulumi-random (secret in the state), the key grown from it by
orion_infra/render/host_keys.py."""

from __future__ import annotations

import pulumi
import pulumi_random as random

from orion_infra.render.host_keys import SEED_BYTES, HostKey, host_key


def generated_host_key(name: str, comment: str) -> pulumi.Output[HostKey]:
    """A new Ed25519 host key for the machine `name`, the same on every run of the stack (secret)."""
    seed = random.RandomBytes(f"{name}-ssh-host-key-seed", length=SEED_BYTES)
    return pulumi.Output.secret(seed.base64.apply(lambda value: host_key(value, comment)))


def public_line(key: pulumi.Output[HostKey]) -> pulumi.Output[str]:
    """The key's public line, as pulumi-command's `host_key` takes it. Not secret: anyone who connects sees it."""
    return pulumi.Output.unsecret(key.apply(lambda value: value.public_line))
