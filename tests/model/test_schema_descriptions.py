"""The stack file's schema describes every field, from one home: the docstring under the field."""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orion_infra.model.stack import OrionStack
from orion_infra.model.types import Facts
from orion_infra.schema import configuration_reference, stack_file_schema, table_cell


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


def field_docstrings(model: type[Facts]) -> dict[str, str]:
    """The docstring written under each field of `model`, read from its source as pydantic reads it."""
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
    pending = [Facts]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("orion_infra.model."):
                found.append(model)
    assert OrionStack in found
    return found


def test_every_field_docstring_is_its_description() -> None:
    """A description on a field's type (Field(description=...) in an Annotated alias) wins over the docstring,
    which would then say one thing in the code and the schema another."""
    hidden = [
        f"{model.__name__}.{name}: the schema says {model.model_fields[name].description!r}"
        for model in stack_models()
        for name, docstring in field_docstrings(model).items()
        if model.model_fields[name].description != docstring
    ]
    assert not hidden, "docstrings hidden by another description:\n" + "\n".join(hidden)


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
