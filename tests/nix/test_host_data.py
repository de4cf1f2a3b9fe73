"""Every `host.*` field a NixOS module reads is declared in host.json's types (orion_infra/render/host_data.py),
for every role that module serves, and the rendered host.json of each system is of its type."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from orion_infra.model import OrionStack
from orion_infra.render import render_all
from orion_infra.render.host_data import HOST_DATA, System

ROOT = Path(__file__).resolve().parents[2]
# Which systems read each file's `host`: the modules each system's configuration imports.
READERS = {
    "nix/modules/orion-vm.nix": ("base", "router", "monitor"),
    "nix/modules/orion-host-key.nix": ("base", "router", "monitor"),
    "nix/modules/orion-common.nix": ("router", "monitor"),
    "nix/modules/orion-router.nix": ("router",),
    "nix/modules/orion-monitoring.nix": ("monitor",),
    "nix/hosts/monitor/configuration.nix": ("monitor",),
    "nix/hosts/base/configuration.nix": ("base",),
}
# Names the modules bind to parts of host.json: `nic` to an element of host.interfaces, `agent` to host.agent.
ALIASES = {"nic": "interfaces[]", "agent": "agent"}
FIELD = re.compile(r"(?<![\w./-])(host|nic|agent)((?:\.[a-z_][a-z0-9_]*)+)")
COMMENT = re.compile(r"#[^\n]*")


def fields_read(source: str) -> set[str]:
    """The host.json paths a Nix file reads, like `wan.interface` or `interfaces[].mac` (comments aside, and the
    file's own name)."""
    found = set()
    for name, path in FIELD.findall(COMMENT.sub("", source).replace("host.json", "")):
        prefix = "" if name == "host" else ALIASES[name]
        found.add(f"{prefix}{path}".lstrip("."))
    return found


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas `node` may be (through $ref and unions)."""
    if "$ref" in node:
        return _resolve(schema, schema["$defs"][node["$ref"].rsplit("/", 1)[1]])
    if "anyOf" in node:
        return [resolved for option in node["anyOf"] for resolved in _resolve(schema, option)]
    return [node]


def declared(model: type[System], path: str) -> bool:
    """Whether `path` (dotted, `[]` for a list element) names a field of `model`'s JSON."""
    schema = model.model_json_schema()
    nodes = [schema]
    for part in path.replace("[]", ".[]").split("."):
        following: list[dict[str, Any]] = []
        for node in nodes:
            for candidate in _resolve(schema, node):
                if part == "[]" and "items" in candidate:
                    following.append(candidate["items"])
                elif part in candidate.get("properties", {}):
                    following.append(candidate["properties"][part])
                elif isinstance(candidate.get("additionalProperties"), dict):
                    following.append(candidate["additionalProperties"])
        if not following:
            return False
        nodes = following
    return True


def undeclared(source: str, roles: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{role}: host.{path}" for path in fields_read(source) for role in roles if not declared(HOST_DATA[role], path)
    )


@pytest.mark.parametrize("name", READERS)
def test_every_field_a_module_reads_is_declared(name: str) -> None:
    source = (ROOT / name).read_text()
    assert fields_read(source), f"{name} reads nothing from host.json; READERS is stale"
    assert undeclared(source, READERS[name]) == []


def test_every_module_that_reads_host_json_is_checked() -> None:
    readers = {str(path.relative_to(ROOT)) for path in (ROOT / "nix").rglob("*.nix") if fields_read(path.read_text())}
    assert readers == set(READERS)


def test_a_misspelt_field_is_caught() -> None:
    module = "{ config = { services.prometheus.exporters.bird.port = host.exporters.birdd; x = nic.macc; }; }"
    assert undeclared(module, ("router",)) == ["router: host.exporters.birdd", "router: host.interfaces[].macc"]
    # Declared for the router, not for the base image, which has no interfaces.
    assert undeclared("{ y = host.wan.ipv4.gateway; }", ("router", "base")) == ["base: host.wan.ipv4.gateway"]


def test_each_rendered_host_json_is_of_its_systems_type(default_stack: OrionStack) -> None:
    files = render_all(default_stack)
    for role, model in HOST_DATA.items():
        text = files[f"{role}/host/host.json"]
        assert model.model_validate_json(text).role == role
        assert json.loads(text) == json.loads(model.model_validate_json(text).model_dump_json())
