"""The JSON Schema of a `Pulumi.<stack>.yaml` file for ORION, so editors can complete and check it, and the
configuration reference (docs/configuration.md) written from it.

Every description comes from the docstring under a field of the model (orion_infra/model/): one home, read by
editors, by the reference and by whoever reads the code.

`python -m orion_infra.schema` prints the schema (as `orion schema` does); `--markdown` prints the reference.
"""

from __future__ import annotations

import argparse
import ast
import functools
import html
import inspect
import itertools
import json
import textwrap
from collections.abc import Callable, Iterator
from typing import Any, cast

from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from orion_infra.model.loading import PROJECT, SECTIONS
from orion_infra.model.secrets import CONFIG_KEY_PATTERN
from orion_infra.model.stack import OrionStack
from orion_infra.model.types import Facts

JsonSchema = dict[str, Any]


class _WithFactoryDefaults(GenerateJsonSchema):
    """Shows what a field left out becomes, a default_factory's value too (pydantic leaves those out)."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return cast(Callable[[], Any], factory)()
        return super().get_default_value(schema)


def _unwrapped(node: object) -> object:
    """`node` with each description on one line: the docstrings it comes from are wrapped at the line length."""
    if isinstance(node, dict):
        return {
            key: " ".join(value.split()) if key == "description" and isinstance(value, str) else _unwrapped(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_unwrapped(item) for item in node]
    return node


@functools.cache  # a class's source does not change while the process runs
def field_docstrings(model: type[Facts]) -> dict[str, str]:
    """The docstring written under each field of `model`, read from its source as pydantic's
    use_attribute_docstrings reads it."""
    body = ast.parse(textwrap.dedent(inspect.getsource(model))).body[0]
    assert isinstance(body, ast.ClassDef)
    found = {}
    for statement, following in itertools.pairwise(body.body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.target.id] = inspect.cleandoc(following.value.value)
    return found


def stack_models() -> list[type[Facts]]:
    """Every model of the stack file (orion_infra.model's subclasses of Facts)."""
    found: list[type[Facts]] = []
    pending: list[type[Facts]] = [Facts]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("orion_infra.model."):
                found.append(model)
    return found


def _described(model_schema: JsonSchema) -> JsonSchema:
    """`model_schema` with each model's field docstrings as its properties' descriptions (over any a type gives)."""
    by_title = {model.__name__: model for model in stack_models()}
    for definition in [model_schema, *model_schema.get("$defs", {}).values()]:
        model = by_title.get(definition.get("title", ""))
        if model is None or "properties" not in definition:
            continue
        for name, docstring in field_docstrings(model).items():
            if name in definition["properties"]:
                definition["properties"][name]["description"] = docstring
    return model_schema


def stack_file_schema() -> JsonSchema:
    generated = OrionStack.model_json_schema(schema_generator=_WithFactoryDefaults)
    model_schema = cast(JsonSchema, _unwrapped(_described(generated)))
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
                "description": f"the stack's configuration: ORION's sections ({PROJECT}:<section>), its secrets "
                f"({PROJECT}:<configKey>, set with `pulumi config set --secret`), and other namespaces' keys "
                "(providers, pulumi:tags), which ORION does not check",
                "type": "object",
                "properties": {f"{PROJECT}:{name}": sections[name] for name in SECTIONS},
                "required": [f"{PROJECT}:{name}" for name in SECTIONS],
                "patternProperties": {
                    # Secrets: only ever the ciphertext `pulumi config set --secret` writes.
                    secret_key: {
                        "type": "object",
                        "properties": {
                            "secure": {
                                "description": "the encrypted value `pulumi config set --secret` writes",
                                "type": "string",
                            }
                        },
                        "required": ["secure"],
                        "additionalProperties": False,
                    },
                    # Other namespaces (providers, pulumi:tags) belong to Pulumi and are not checked here.
                    f"^(?!{PROJECT}:)[^:]+:.+$": {},
                },
                "additionalProperties": False,
            },
            "encryptionsalt": {
                "description": "written by Pulumi's passphrase secrets provider: leave it as it is",
                "type": "string",
            },
            "secretsprovider": {
                "description": "the secrets provider that encrypts this stack's secrets, written by `pulumi stack "
                "init --secrets-provider` or `pulumi stack change-secrets-provider`",
                "type": "string",
            },
            "encryptedkey": {
                "description": "the stack's data key, encrypted by a cloud secrets provider; written by Pulumi",
                "type": "string",
            },
            "environment": {"description": "Pulumi ESC environments the stack imports; not checked here"},
        },
        "required": ["config"],
        "additionalProperties": False,
        "$defs": definitions,
    }


# The reference: one table per section, one row per field, in the order the model declares them.

_FORMATS = {
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "ipv4network": "IPv4 network (CIDR)",
    "ipv6network": "IPv6 network (CIDR)",
    "uri": "URL",
}


class _Reference:
    def __init__(self, schema: JsonSchema) -> None:
        self.definitions: dict[str, JsonSchema] = schema["$defs"]

    def resolve(self, node: JsonSchema) -> JsonSchema:
        """The schema a $ref names, or `node` itself."""
        ref = node.get("$ref")
        return self.definitions[ref.removeprefix("#/$defs/")] if isinstance(ref, str) else node

    def type_of(self, node: JsonSchema) -> str:
        node = self.resolve(node)
        union = next((node[key] for key in ("anyOf", "oneOf") if key in node), None)
        if union is not None:
            variants = [variant for variant in union if variant != {"type": "null"}]
            text = " or ".join(self.type_of(variant) for variant in variants)
            return f"{text}, or null" if len(variants) < len(union) else text
        if node.get("type") == "array":
            noun = "set" if node.get("uniqueItems") else "list"
            return f"{noun} of {self.type_of(node['items'])}" + _at_least(node, "minItems")
        if node.get("type") == "object" and "patternProperties" in node:
            ((key, value),) = node["patternProperties"].items()
            return f"map of key `{key}` to {self.type_of(value)}" + _at_least(node, "minProperties")
        return _plain_type(node)

    def objects_in(self, node: JsonSchema) -> list[JsonSchema]:
        """The object schemas a value of `node` may be, through unions, lists and maps."""
        node = self.resolve(node)
        for union in ("anyOf", "oneOf"):
            if union in node:
                return [found for variant in node[union] for found in self.objects_in(variant)]
        if node.get("type") == "array":
            return self.objects_in(node["items"])
        if node.get("type") == "object" and "patternProperties" in node:
            return [found for value in node["patternProperties"].values() for found in self.objects_in(value)]
        return [node] if "properties" in node else []

    def path_below(self, path: str, node: JsonSchema) -> str:
        """Where the fields of `node`'s objects sit: a list's item is `path[]`, a map's entry `path.<key>`."""
        node = self.resolve(node)
        for union in ("anyOf", "oneOf"):
            if union in node:
                return next(
                    (self.path_below(path, variant) for variant in node[union] if self.objects_in(variant)), path
                )
        if node.get("type") == "array":
            return self.path_below(f"{path}[]", node["items"])
        if node.get("type") == "object" and "patternProperties" in node:
            return self.path_below(f"{path}.<key>", next(iter(node["patternProperties"].values())))
        return path

    def rows(self, path: str, node: JsonSchema, required: bool) -> Iterator[tuple[str, str, str, str]]:
        """(path, type, default, description) of the field at `path` and of every field below it."""
        default = "required" if required else _default(node)
        yield f"`{path}`", self.type_of(node), default, node.get("description", "")
        objects = self.objects_in(node)
        below = self.path_below(path, node)
        for model in objects:
            if len(objects) > 1:
                # A union of objects: each variant's fields under a row that names it.
                yield f"`{below}` ({model['title']})", "object", "", model.get("description", "")
            needed = set(model.get("required", []))
            for name, field in model["properties"].items():
                yield from self.rows(f"{below}.{name}", field, name in needed)


def _plain_type(node: JsonSchema) -> str:
    """The type of a value that is no union, list or map."""
    kind = node.get("type")
    if "const" in node:
        text = f"`{node['const']}`"
    elif "enum" in node:
        text = "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    elif kind == "object":
        text = f"object ({node['title']})" if "title" in node else "object"
    elif kind == "integer":
        text = "integer" + _range(node)
    elif kind == "string":
        text = _FORMATS.get(node.get("format", ""), "string")
        if "pattern" in node:
            text += f" matching `{node['pattern']}`"
        if "maxLength" in node and "format" not in node:
            text += f", at most {node['maxLength']} characters"
    else:
        text = str(kind) if kind else "any"
    return text


def _at_least(node: JsonSchema, keyword: str) -> str:
    return f" (at least {node[keyword]})" if keyword in node else ""


def _range(node: JsonSchema) -> str:
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        return f" {low} to {high}"
    if low is not None:
        return f" ≥ {low}"
    return f" ≤ {high}" if high is not None else ""


def _default(node: JsonSchema) -> str:
    if "default" not in node:
        return "optional"
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def table_cell(text: str) -> str:
    """`text` as one line of a table cell: docstrings are wrapped at the line length, and outside `code` a `<name>`
    would be taken for an HTML tag."""
    parts = " ".join(text.split()).replace("|", "\\|").split("`")
    return "`".join(part if index % 2 else html.escape(part, quote=False) for index, part in enumerate(parts))


def configuration_reference(schema: JsonSchema) -> str:
    """docs/configuration.md: every section and field of the stack file, with its type, default and description."""
    reference = _Reference(schema)
    config = schema["properties"]["config"]
    sections = config["properties"]
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated from the stack file's JSON Schema by `python -m orion_infra.schema --markdown` (`make "
        "fixtures`); the descriptions are the docstrings of the fields in orion_infra/model/. Do not edit by hand. -->",
        "",
        "The stack file `Pulumi.<stack>.yaml` holds ORION's configuration under `config:`, one key per section, "
        f"`{PROJECT}:<section>`. `uv run orion validate` checks it; `uv run orion schema` prints the JSON Schema "
        "this reference is written from (docs/stack-file.schema.json), for editors.",
        "",
        "A secret is never written in the file: a field that takes one holds `{secret: <configKey>}`, naming a "
        "key set with `pulumi config set --secret <configKey>` (it prompts for the value, which so stays out of your "
        f"shell's history) or `... --secret <configKey> < FILE` (stored as `{PROJECT}:<configKey>` with its `secure` "
        "ciphertext).",
        "",
        "In a path, `[]` is any item of a list and `<key>` any key of a map. *required* fields have no default; "
        "`null` means left out.",
        "",
        "| section | what it holds |",
        "|---|---|",
    ]
    lines += [
        f"| [`{key}`](#{_anchor(key)}) | {table_cell(section.get('description', ''))} |"
        for key, section in sections.items()
    ]
    for key, section in sections.items():
        name = key.removeprefix(f"{PROJECT}:")
        lines += ["", f"## `{key}`"]
        lines += [
            "",
            *(table_cell(model["description"]) for model in reference.objects_in(section) if "description" in model),
        ]
        lines += ["", "| path | type | default | description |", "|---|---|---|---|"]
        lines += [
            "| " + " | ".join(table_cell(cell) for cell in row) + " |"
            for row in reference.rows(name, section, key in config["required"])
        ]
    return "\n".join(lines) + "\n"


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading `<heading>` written as code: lowercase, punctuation but '-' and '_' gone."""
    return "".join(character for character in heading.lower() if character.isalnum() or character in "-_")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m orion_infra.schema", description="Print the stack file's JSON Schema, or its reference."
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the configuration reference (docs/configuration.md) instead"
    )
    arguments = parser.parse_args(argv)
    schema = stack_file_schema()
    print(configuration_reference(schema) if arguments.markdown else json.dumps(schema, indent=2) + "\n", end="")


if __name__ == "__main__":
    main()
