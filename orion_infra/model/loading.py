"""From raw stack configuration (the stack file, or Pulumi's config at run time) to a validated model.

Every problem is collected and reported at once as `<field.path>: <message>`, before anything is built.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from orion_infra.model.advisories import advisories
from orion_infra.model.problems import Location, StackProblem, format_location, line_of, parse_location
from orion_infra.model.secret_values import value_problem
from orion_infra.model.secrets import KNOWN_DEFAULT_PASSWORDS, SET_SECRET, is_config_key
from orion_infra.model.stack import OrionStack

PROJECT = "orion"
SECTIONS = tuple(OrionStack.model_fields)
# The iDRAC password is the one the machine has now; a factory default there is expected and gets rotated.
_ROTATED_SECRET = ("idrac", "password")
# The shape of the stack file, for messages about a file that has none of it.
_EXPECTED_SHAPE = f"expected `config:` with ORION's keys ({', '.join(f'{PROJECT}:{name}' for name in SECTIONS)})"
# How close a config key's namespace must be to `orion` to be taken for a misspelling of it (difflib's ratio):
# `orin`, `oiron` and `orion2` are; the providers' (proxmoxve, command, random, pulumi) are far below.
_NAMESPACE_LIKENESS = 0.8


class StackConfigError(Exception):
    """The stack configuration is invalid.

    `located` holds each problem with its field and, for a stack file, its line; `problems` the same as
    `<field.path>: <message>` lines.
    """

    def __init__(self, problems: Sequence[str | StackProblem]) -> None:
        self.located = [
            problem if isinstance(problem, StackProblem) else StackProblem((), problem) for problem in problems
        ]
        self.problems = [str(problem) for problem in self.located]
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  {line}" for line in self.problems))


@dataclass(frozen=True)
class RawConfig:
    """The project's config keys (namespace stripped) as Pulumi holds them.

    `secret_keys` are the keys stored encrypted; `secret_values` are their plain values where known (at
    deploy time), so that default credentials can be refused. Read from a stack file, `source` names it, `lines`
    gives the line of each field (by its location, as problems name it) and `stray_keys` the config keys that look
    meant for ORION but are not read as its own (`orin:bgp`, `bgp`), by full key and what they look meant for.
    """

    values: Mapping[str, object]
    secret_keys: frozenset[str] = frozenset()
    secret_values: Mapping[str, str] | None = None
    source: str | None = None
    lines: Mapping[Location, int] = field(default_factory=dict)
    stray_keys: Mapping[str, str] = field(default_factory=dict)


def read_stack_file(path: Path) -> RawConfig:
    """Reads a `Pulumi.<stack>.yaml` file; encrypted (`secure:`) values are kept as markers only.

    A file that cannot be read as one YAML mapping (a syntax error, a repeated key, an empty file) raises
    StackConfigError with one located problem each, naming the file and line.
    """
    source = str(path)
    document, lines = _parse(path, source)
    if document is None:
        raise StackConfigError([StackProblem((), f"the file is empty; {_EXPECTED_SHAPE}", source=source)])
    if not isinstance(document, dict):
        message = f"expected a mapping with a 'config:' key, got {_kind(document)}"
        raise StackConfigError([StackProblem((), message, source=source)])
    config = document.get("config") or {}
    if not isinstance(config, dict):
        message = f"expected a mapping of config keys, got {_kind(config)}"
        raise StackConfigError([StackProblem(("config",), message, line=lines.get(("config",)), source=source)])
    values: dict[str, object] = {}
    secret_keys: set[str] = set()
    stray: dict[str, str] = {}
    for full_key, value in config.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != PROJECT or not key:
            if (meant := _meant_for_orion(namespace, key)) is not None:
                stray[str(full_key)] = meant
            continue  # provider and pulumi: keys belong to others
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
        else:
            values[key] = value
    return RawConfig(values=values, secret_keys=frozenset(secret_keys), source=source, lines=lines, stray_keys=stray)


def _meant_for_orion(namespace: str, key: str) -> str | None:
    """The ORION key a config key outside the project's namespace looks meant as, if it looks meant as one."""
    if not key:  # no namespace at all: Pulumi refuses it; `bgp` is surely orion:bgp
        return f"{PROJECT}:{namespace}" if namespace in SECTIONS or is_config_key(namespace) else None
    if key in SECTIONS or difflib.SequenceMatcher(None, namespace, PROJECT).ratio() >= _NAMESPACE_LIKENESS:
        return f"{PROJECT}:{key}"
    return None


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _parse(path: Path, source: str) -> tuple[object, dict[Location, int]]:
    """The YAML document of `path` and the line of each field in it; any YAML problem raised as StackConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        before = error.object[: error.start]
        line, column = before.count(b"\n") + 1, error.start - before.rfind(b"\n")
        message = f"not UTF-8 text: byte {error.object[error.start]:#04x}"
        raise StackConfigError([StackProblem((), message, line=line, column=column, source=source)]) from None
    except OSError as error:
        raise StackConfigError([StackProblem((), f"cannot read the file: {error.strerror}", source=source)]) from None
    try:
        return _compose(text, source, _FAST_LOADER)
    except yaml.MarkedYAMLError as error:
        raise StackConfigError([_syntax_problem(_wordier(text, source) or error, source)]) from None
    except RecursionError:
        # Hundreds of nested brackets: valid YAML, but deeper than any stack file and than Python recurses.
        message = "nested too deeply to be read (hundreds of levels); a stack file needs a handful"
        raise StackConfigError([StackProblem((), message, source=source)]) from None


# libyaml parses the stack file in a tenth of the time PyYAML's Python parser takes (2 ms, not 25); the Python
# parser's words are the clearer ones (it quotes the character it cannot read), so a file that fails is read again
# with it for the message.
_FAST_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _wordier(text: str, source: str) -> yaml.MarkedYAMLError | None:
    try:
        _compose(text, source, yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        return error
    except RecursionError:  # nesting libyaml refused as too deep, which the Python parser recurses on
        return None
    return None


def _compose(
    text: str, source: str, loader_class: type[yaml.SafeLoader] | type[yaml.CSafeLoader]
) -> tuple[object, dict[Location, int]]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        index = _FileIndex(source)
        index.walk(node)
        if index.repeated:
            raise StackConfigError(index.repeated)
        return loader.construct_document(node), {_field_location(loc): line for loc, line in index.lines.items()}
    finally:
        loader.dispose()


def _syntax_problem(error: yaml.MarkedYAMLError, source: str) -> StackProblem:
    """`Pulumi.orion.yaml:12:5: expected <block end>, but found '-' (while parsing a block mapping from line 9)`."""
    mark = error.problem_mark or error.context_mark
    message = error.problem or "not valid YAML"
    if error.context:
        since = f" from line {error.context_mark.line + 1}" if error.context_mark is not None else ""
        message += f" ({error.context}{since})"
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return StackProblem((), message, line=line, column=column, source=source)


@dataclass
class _FileIndex:
    """The line of every key and list item of a YAML document, and every key that repeats in its mapping."""

    source: str
    lines: dict[Location, int] = field(default_factory=dict)
    repeated: list[StackProblem] = field(default_factory=list)
    _open: set[int] = field(default_factory=set)

    def walk(self, node: yaml.Node, loc: Location = ()) -> None:
        if id(node) in self._open:
            # An alias of an enclosing node: a structure that contains itself, which no field can hold (and which
            # would recurse without end wherever it is read).
            self.repeated.append(
                StackProblem(
                    _field_location(loc),
                    "an alias refers to a node that contains it, a value without end: write the value out",
                    line=node.start_mark.line + 1,
                    source=self.source,
                )
            )
            return
        self._open.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key, line = key_node.value, key_node.start_mark.line + 1
                if key in first:
                    message = (
                        f"{key!r} is given twice, on lines {first[key]} and {line}; YAML would silently keep the "
                        "last: remove one"
                    )
                    self.repeated.append(
                        StackProblem(_field_location((*loc, key)), message, line=line, source=self.source)
                    )
                    continue
                first[key] = line
                self.lines[(*loc, key)] = line
                self.walk(value_node, (*loc, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*loc, index)] = item.start_mark.line + 1
                self.walk(item, (*loc, index))
        self._open.discard(id(node))


def _field_location(loc: Location) -> Location:
    """A place in the file, ("config", "orion:vms", "router"), as problems name it: ("vms", "router")."""
    if len(loc) >= 2 and loc[0] == "config":
        namespace, _, key = str(loc[1]).partition(":")
        return (key, *loc[2:]) if namespace == PROJECT and key else loc[1:]
    return loc


def load_stack(
    raw: RawConfig, *, today: datetime.date | None = None, require_secrets: bool = False
) -> tuple[OrionStack, list[str]]:
    """Validates `raw`; returns the model and the warnings, or raises StackConfigError with every problem.

    With `require_secrets`, every referenced secret must be set (as it must be before a deployment).
    """
    today = today or datetime.date.today()
    sections = {key: value for key, value in raw.values.items() if key in SECTIONS}
    references = list(secret_references(sections))
    problems = _stray_key_problems(raw) + _config_key_problems(raw, references)
    if not sections and not raw.stray_keys:
        # Nothing of ORION's at all: one line, not one "is required" per section.
        problems.append(StackProblem(("config",), f"no ORION configuration; {_EXPECTED_SHAPE}"))
        raise StackConfigError(_locate(raw, problems))
    try:
        stack = OrionStack.model_validate(sections, context={"today": today})
    except ValidationError as error:
        # A section missing because its key is misspelt is reported once, as the misspelling.
        meant = {*raw.stray_keys.values(), *(f"{PROJECT}:{section}" for section in _misspelt_sections(raw).values())}
        errors = [
            problem
            for problem in format_errors(error)
            if not (problem.message == _MISSING and f"{PROJECT}:{problem.path}" in meant)
        ]
        raise StackConfigError(_locate(raw, problems + errors)) from None
    warnings: list[str] = []
    problems += _secret_problems(raw, references, require_secrets, warnings)
    if problems:
        raise StackConfigError(_locate(raw, problems))
    return stack, warnings + advisories(stack, today)


def located_warnings(raw: RawConfig, warnings: list[str]) -> list[StackProblem]:
    """`load_stack`'s warnings (`<field.path>: <message>` lines) with the stack file's name and their fields' lines;
    one about something else (`flake.lock: ...`) is left as it is."""
    found: list[StackProblem] = []
    for warning in warnings:
        path, _, message = warning.partition(": ")
        loc = parse_location(path)
        if loc is not None and message and loc[0] in (*SECTIONS, *raw.secret_keys):
            found.append(StackProblem(loc, message))
        else:
            found.append(StackProblem((), warning))
    return [problem if problem.loc else dataclasses.replace(problem, source=None) for problem in _locate(raw, found)]


def _missing_section_line(raw: RawConfig, loc: Location) -> int | None:
    """A section that is missing altogether is missing from `config:`."""
    return raw.lines.get(("config",)) if loc[:1] and loc[0] in SECTIONS else None


def _locate(raw: RawConfig, problems: list[StackProblem]) -> list[StackProblem]:
    """The problems with the stack file's name and each one's line, when the configuration came from a file."""
    return [
        dataclasses.replace(
            problem,
            source=raw.source,
            line=problem.line or line_of(raw.lines, problem.loc) or _missing_section_line(raw, problem.loc),
        )
        for problem in problems
    ]


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


def _stray_key_problems(raw: RawConfig) -> list[StackProblem]:
    problems: list[StackProblem] = []
    for full_key, meant in sorted(raw.stray_keys.items()):
        namespace, _, key = full_key.partition(":")
        why = "has no namespace" if not key else f"is in namespace {namespace!r}, not this project's"
        problems.append(StackProblem((full_key,), f"{why}, so ORION does not read it; did you mean {meant}?"))
    return problems


def _misspelt_sections(raw: RawConfig) -> dict[str, str]:
    """Unknown plain keys of the project that look like a section's name, and the section."""
    found: dict[str, str] = {}
    for key in raw.values:
        close = difflib.get_close_matches(key, SECTIONS, n=1) if key not in SECTIONS else []
        if close:
            found[key] = close[0]
    return found


def _config_key_problems(raw: RawConfig, references: list[tuple[Location, str]]) -> list[StackProblem]:
    problems: list[StackProblem] = []
    needed_by = {key: format_location(loc) for loc, key in reversed(references)}
    for key in raw.values:
        if key in needed_by:
            problems.append(
                StackProblem(
                    (key,),
                    f"holds a plain value but {needed_by[key]} needs it secret; set it with "
                    f"{SET_SECRET.format(key=key)} (the plain value is not shown)",
                )
            )
        elif key not in SECTIONS:
            close = _misspelt_sections(raw).get(key)
            hint = f"did you mean {PROJECT}:{close}? " if close else ""
            problems.append(
                StackProblem((key,), f"unknown config key {PROJECT}:{key} ({hint}expected: {', '.join(SECTIONS)})")
            )
    for key in sorted(raw.secret_keys & set(SECTIONS)):
        problems.append(StackProblem((key,), f"the {key} section is facts, not a secret; set it as plain config"))
    return problems


def _secret_problems(
    raw: RawConfig, references: list[tuple[Location, str]], require_secrets: bool, warnings: list[str]
) -> list[StackProblem]:
    problems: list[StackProblem] = []
    for loc, key in references:
        if key in raw.values:
            continue  # reported as a plain value already
        if key not in raw.secret_keys:
            problem = StackProblem(loc, f"secret {key} is not set; set it with {SET_SECRET.format(key=key)}")
            if require_secrets:
                problems.append(problem)
            else:
                warnings.append(str(problem))
        elif _is_default_credential(raw, loc, key):
            problems.append(StackProblem(loc, f"secret {key} is a well-known default credential; choose a new one"))
        elif raw.secret_values is not None and key in raw.secret_values:
            why = value_problem(loc, raw.secret_values[key])
            if why is not None:
                problems.append(StackProblem(loc, f"secret {key}: {why} (the value is not shown)"))
    referenced = {key for _, key in references}
    warnings.extend(
        f"{key}: secret {PROJECT}:{key} is set but nothing references it"
        for key in sorted(raw.secret_keys - referenced - set(SECTIONS))
    )
    return problems


def _is_default_credential(raw: RawConfig, loc: Location, key: str) -> bool:
    if raw.secret_values is None or loc[-2:] == _ROTATED_SECRET:
        return False
    return raw.secret_values.get(key, "").strip().lower() in KNOWN_DEFAULT_PASSWORDS


_MISSING = "is required but missing"


def format_errors(error: ValidationError) -> list[StackProblem]:
    """One problem per field; the failed alternatives of one union make one."""
    found: dict[tuple[Location, int], list[str]] = {}
    for number, detail in enumerate(error.errors(include_url=False)):
        loc = tuple(part for part in detail["loc"] if _is_field_location(part))
        # Errors of union branches share their path and merge; any other error stands on its own line.
        key = (loc, -1) if len(loc) < len(detail["loc"]) else (loc, number)
        found.setdefault(key, []).append(_describe(detail, loc))
    # A problem of the stack as a whole still names where it is, for the `<path>: <message>` shape.
    return [StackProblem(loc or ("(stack)",), _merge(messages)) for (loc, _), messages in found.items()]


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
        return _MISSING
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
