"""The JSON Schema of a `Pulumi.<stack>.yaml` file for ORION, so editors can complete and check it."""

from __future__ import annotations

from typing import Any

from orion_infra.model.loading import PROJECT, SECTIONS
from orion_infra.model.secrets import CONFIG_KEY_PATTERN
from orion_infra.model.stack import OrionStack


def stack_file_schema() -> dict[str, Any]:
    model_schema = OrionStack.model_json_schema()
    definitions = model_schema.pop("$defs", {})
    sections = model_schema["properties"]
    sections_alternation = "|".join(SECTIONS)
    secret_key = f"^{PROJECT}:(?!({sections_alternation})$){CONFIG_KEY_PATTERN.removeprefix('^')}"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ORION Pulumi stack file",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": {f"{PROJECT}:{name}": sections[name] for name in SECTIONS},
                "required": [f"{PROJECT}:{name}" for name in SECTIONS],
                "patternProperties": {
                    # Secrets: only ever the ciphertext `pulumi config set --secret` writes.
                    secret_key: {
                        "type": "object",
                        "properties": {"secure": {"type": "string"}},
                        "required": ["secure"],
                        "additionalProperties": False,
                    },
                    # Other namespaces (providers, pulumi:tags) belong to Pulumi and are not checked here.
                    f"^(?!{PROJECT}:)[^:]+:.+$": {},
                },
                "additionalProperties": False,
            },
            "encryptionsalt": {"type": "string"},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "environment": {},
        },
        "required": ["config"],
        "additionalProperties": False,
        "$defs": definitions,
    }
