"""Secret references: the stack file names where a secret lives, never the secret itself."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from orion_infra.model.types import Facts

CONFIG_KEY_PATTERN = r"^[a-z][A-Za-z0-9]*$"
_CONFIG_KEY_RE = re.compile(CONFIG_KEY_PATTERN)

# How to set a secret, wherever one must be set: a value after the key on the command line would leave it in
# shell history and cannot carry a multi-line key; the prompt or a file does neither.
SET_SECRET = "`pulumi config set --secret {key}` (it prompts for the value) or `... --secret {key} < FILE`"  # noqa: S105

# Credentials the seed publishes; any of them surviving a deployment is an open door.
KNOWN_DEFAULT_PASSWORDS = frozenset({"calvin", "orion2025", "admin", "password", "changeme", "root"})


class SecretRef(Facts):
    """Names a Pulumi secret config key of this stack, set with `pulumi config set --secret <key>` (which prompts for
    the value) or `pulumi config set --secret <key> < FILE`."""

    secret: Annotated[str, Field(pattern=CONFIG_KEY_PATTERN, description="the secret's config key, camelCase")]


def _reject_plain(value: object) -> object:
    if isinstance(value, str | int | float):
        # The value itself is never echoed: it is a secret that was written in plain text.
        raise PydanticCustomError(
            "plain_secret",
            "expected a secret reference {secret: <configKey>}, got a plain value (not shown); store it with "
            + SET_SECRET.format(key="<configKey>")
            + " and reference it here",
        )
    return value


Secret = Annotated[SecretRef, BeforeValidator(_reject_plain)]
"""A field that holds a secret: only a reference to a secret config key is accepted."""


def is_config_key(name: str) -> bool:
    return bool(_CONFIG_KEY_RE.fullmatch(name))
