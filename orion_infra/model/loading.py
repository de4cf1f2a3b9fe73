"""From raw stack configuration (the stack file, or Pulumi's config at run time) to a validated model.

Every problem is collected and reported at once as `<field.path>: <message>`, before anything is built.
"""

from __future__ import annotations

import datetime
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from orion_infra.model.advisories import advisories
from orion_infra.model.problems import Location, format_location
from orion_infra.model.secret_values import value_problem
from orion_infra.model.secrets import KNOWN_DEFAULT_PASSWORDS
from orion_infra.model.stack import OrionStack

PROJECT = "orion"
SECTIONS = tuple(OrionStack.model_fields)
# The iDRAC password is the one the machine has now; a factory default there is expected and gets rotated.
_ROTATED_SECRET = ("idrac", "password")


class StackConfigError(Exception):
    """The stack configuration is invalid; `problems` holds one `<field.path>: <message>` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  {line}" for line in problems))
        self.problems = problems


@dataclass(frozen=True)
class RawConfig:
    """The project's config keys (namespace stripped) as Pulumi holds them.

    `secret_keys` are the keys stored encrypted; `secret_values` are their plain values where known (at
    deploy time), so that default credentials can be refused.
    """

    values: Mapping[str, object]
    secret_keys: frozenset[str] = frozenset()
    secret_values: Mapping[str, str] | None = None


def read_stack_file(path: Path) -> RawConfig:
    """Reads a `Pulumi.<stack>.yaml` file; encrypted (`secure:`) values are kept as markers only."""
    document = yaml.safe_load(path.read_text()) or {}
    if not isinstance(document, dict):
        raise StackConfigError([f"{path}: expected a mapping with a 'config:' key, got {type(document).__name__}"])
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError([f"config: expected a mapping of config keys, got {type(config).__name__}"])
    values: dict[str, object] = {}
    secret_keys: set[str] = set()
    for full_key, value in config.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != PROJECT or not key:
            continue  # provider and pulumi: keys belong to others
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
        else:
            values[key] = value
    return RawConfig(values=values, secret_keys=frozenset(secret_keys))


def load_stack(
    raw: RawConfig, *, today: datetime.date | None = None, require_secrets: bool = False
) -> tuple[OrionStack, list[str]]:
    """Validates `raw`; returns the model and the warnings, or raises StackConfigError with every problem.

    With `require_secrets`, every referenced secret must be set (as it must be before a deployment).
    """
    today = today or datetime.date.today()
    sections = {key: value for key, value in raw.values.items() if key in SECTIONS}
    references = list(secret_references(sections))
    problems = _config_key_problems(raw, references)
    try:
        stack = OrionStack.model_validate(sections, context={"today": today})
    except ValidationError as error:
        raise StackConfigError(problems + format_errors(error)) from None
    warnings: list[str] = []
    problems += _secret_problems(raw, references, require_secrets, warnings)
    if problems:
        raise StackConfigError(problems)
    return stack, warnings + advisories(stack, today)


def secret_references(value: object, loc: Location = ()) -> Iterator[tuple[Location, str]]:
    """Every `{secret: key}` in raw configuration data, with its location."""
    if isinstance(value, dict):
        if set(value) == {"secret"} and isinstance(value["secret"], str):
            yield loc, value["secret"]
            return
        for key, item in value.items():
            yield from secret_references(item, (*loc, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_references(item, (*loc, index))


def _config_key_problems(raw: RawConfig, references: list[tuple[Location, str]]) -> list[str]:
    problems: list[str] = []
    needed_by = {key: format_location(loc) for loc, key in reversed(references)}
    for key in raw.values:
        if key in needed_by:
            problems.append(
                f"{key}: holds a plain value but {needed_by[key]} needs it secret; "
                f"run `pulumi config set --secret {key} <value>` (the plain value is not shown)"
            )
        elif key not in SECTIONS:
            problems.append(f"{key}: unknown config key orion:{key} (expected: {', '.join(SECTIONS)})")
    for key in sorted(raw.secret_keys & set(SECTIONS)):
        problems.append(f"{key}: the {key} section is facts, not a secret; set it as plain config")
    return problems


def _secret_problems(
    raw: RawConfig, references: list[tuple[Location, str]], require_secrets: bool, warnings: list[str]
) -> list[str]:
    problems: list[str] = []
    for loc, key in references:
        path = format_location(loc)
        if key in raw.values:
            continue  # reported as a plain value already
        if key not in raw.secret_keys:
            message = f"{path}: secret {key} is not set; run `pulumi config set --secret {key} <value>`"
            (problems if require_secrets else warnings).append(message)
        elif _is_default_credential(raw, loc, key):
            problems.append(f"{path}: secret {key} is a well-known default credential; choose a new one")
        elif raw.secret_values is not None and key in raw.secret_values:
            why = value_problem(loc, raw.secret_values[key])
            if why is not None:
                problems.append(f"{path}: secret {key}: {why} (the value is not shown)")
    referenced = {key for _, key in references}
    warnings.extend(
        f"{key}: secret orion:{key} is set but nothing references it"
        for key in sorted(raw.secret_keys - referenced - set(SECTIONS))
    )
    return problems


def _is_default_credential(raw: RawConfig, loc: Location, key: str) -> bool:
    if raw.secret_values is None or loc[-2:] == _ROTATED_SECRET:
        return False
    return raw.secret_values.get(key, "").strip().lower() in KNOWN_DEFAULT_PASSWORDS


def format_errors(error: ValidationError) -> list[str]:
    """One `<field.path>: <message>` line per problem; the failed alternatives of one union make one line."""
    lines: dict[tuple[str, int], list[str]] = {}
    for number, detail in enumerate(error.errors(include_url=False)):
        loc = tuple(part for part in detail["loc"] if _is_field_location(part))
        path = format_location(loc) or "(stack)"
        # Errors of union branches share their path and merge; any other error stands on its own line.
        key = (path, -1) if len(loc) < len(detail["loc"]) else (path, number)
        lines.setdefault(key, []).append(_describe(detail, loc))
    return [f"{path}: {_merge(messages)}" for (path, _), messages in lines.items()]


def _merge(messages: list[str]) -> str:
    """'expected A, got G' and 'expected B, got G' -> 'expected A or B, got G'."""
    unique = list(dict.fromkeys(messages))
    givens = {message.rpartition(", got ")[2] for message in unique}
    if len(unique) > 1 and len(givens) == 1 and all(m.startswith("expected ") and ", got " in m for m in unique):
        expectations = [message.removeprefix("expected ").rpartition(", got ")[0] for message in unique]
        return f"expected {' or '.join(expectations)}, got {givens.pop()}"
    return " or ".join(unique)


def _is_field_location(part: str | int) -> bool:
    # pydantic-core labels union branches ("literal['dhcp']", "function-after[...]", tags like "NixOS");
    # field names and map keys here are lower snake case, so anything else is a branch label.
    return isinstance(part, int) or (part == part.lower() and part.replace("_", "").isalnum())


_EXPECTED = {
    "ip_v4_address": "expected an IPv4 address",
    "ip_v6_address": "expected an IPv6 address",
    "ip_any_address": "expected an IPv4 or IPv6 address",
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected a whole number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "url_parsing": "expected a URL like https://192.168.1.10:8006/",
    "frozen_set_type": "expected a list of distinct values",
}


def _describe(detail: ErrorDetails, loc: Location) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        return f"unknown field {loc[-1]!r}" + (f" (expected one of: {', '.join(allowed)})" if allowed else "")
    if kind in _EXPECTED:
        message = _EXPECTED[kind]
    elif detail["msg"].startswith("Input should be "):
        message = "expected " + detail["msg"].removeprefix("Input should be ")
    elif detail["msg"].startswith("String should match pattern "):
        message = "expected text matching " + detail["msg"].removeprefix("String should match pattern ")
    else:
        # Our own errors already say what was expected and what was given.
        return detail["msg"].removeprefix("Value error, ")
    given = detail.get("input")
    if isinstance(given, str | int | float | bool) or given is None:
        return f"{message}, got {given!r}"
    return f"{message}, got a {type(given).__name__}"


def _allowed_fields(loc: Location) -> list[str]:
    """The fields of the model at `loc`; list indexes and map keys on the way are stepped over."""
    model: type[BaseModel] = OrionStack
    for part in loc:
        field_info = model.model_fields.get(part) if isinstance(part, str) else None
        if field_info is not None:
            inner = _model_in(field_info.annotation)
            if inner is None:
                return []
            model = inner
    return list(model.model_fields)


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The pydantic model inside an annotation like list[Host], dict[str, Vm] or Secret | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if origin in (list, dict, typing.Union, types.UnionType):
        for argument in reversed(typing.get_args(annotation)):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
