"""The stack file's schema describes every field, from one home: the docstring under the field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orion_infra.model.loading import PROJECT
from orion_infra.model.stack import OrionStack
from orion_infra.schema import configuration_reference, field_docstrings, stack_file_schema, stack_models, table_cell


def properties(node: object, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every (location, schema) of a property anywhere in `node`: the sections, their $defs, pattern properties."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            for name, schema in node["properties"].items():
                yield f"{where}.{name}", schema
        for key, child in node.items():
            yield from properties(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from properties(child, f"{where}[{index}]")


def test_every_property_has_a_description() -> None:
    undescribed = [where for where, schema in properties(stack_file_schema()) if not schema.get("description")]
    assert not undescribed, f"{len(undescribed)} properties without a description:\n" + "\n".join(undescribed)


def test_every_field_docstring_is_its_description() -> None:
    """The docstring under each field is what the schema says of it, whatever its type describes."""
    schema = stack_file_schema()
    definitions = {definition["title"]: definition for definition in schema["$defs"].values()}
    sections = schema["properties"]["config"]["properties"]
    definitions[OrionStack.__name__] = {
        "properties": {key.removeprefix(f"{PROJECT}:"): section for key, section in sections.items()}
    }
    models = stack_models()
    assert OrionStack in models
    differing = [
        f"{model.__name__}.{name}: the schema says {described!r}"
        for model in models
        if model.__name__ in definitions
        for name, docstring in field_docstrings(model).items()
        if (described := definitions[model.__name__]["properties"][name].get("description"))
        != " ".join(docstring.split())
    ]
    assert not differing, "docstrings the schema does not say:\n" + "\n".join(differing)


REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_committed_reference_is_current() -> None:
    """docs/configuration.md is written from the schema; `make fixtures` renews it after a model change."""
    assert REFERENCE.read_text() == configuration_reference(stack_file_schema())


def test_the_reference_has_a_row_for_every_field_of_every_model() -> None:
    schema = stack_file_schema()
    reference = configuration_reference(schema)
    missing = [
        f"{name}.{field}"
        for name, definition in schema["$defs"].items()
        for field, field_schema in definition.get("properties", {}).items()
        if not re.search(
            rf"^\| `[^`]*\b{field}` \| [^\n]* \| {re.escape(table_cell(field_schema['description']))} \|$",
            reference,
            re.MULTILINE,
        )
    ]
    assert not missing, "fields without a row in the reference:\n" + "\n".join(missing)
