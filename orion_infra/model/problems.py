"""Collects every cross-field problem of a model, so that all of them are reported at once."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Location = tuple[str | int, ...]


def format_location(loc: Sequence[str | int]) -> str:
    """('hosts', 0, 'nics', 2) -> 'hosts[0].nics[2]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class StackProblem:
    """One problem of a stack file: the field it concerns, what is wrong, and where the file says it."""

    loc: Location
    """The field, as ("vms", "router", "nics", 3, "bridge"); empty for a problem of the file as a whole (its YAML)."""
    message: str
    line: int | None = None
    """The line of the stack file (from 1) that holds the field, or its nearest enclosing one; None when the
    configuration came from elsewhere (Pulumi's, at deploy time)."""
    column: int | None = None
    source: str | None = None
    """The stack file, as the operator named it."""

    @property
    def path(self) -> str:
        """The field as `vms.router.nics[3].bridge`."""
        return format_location(self.loc)

    def __str__(self) -> str:
        """`<field.path>: <message>`; a problem of the file as a whole is located, as it names no field."""
        return f"{self.path}: {self.message}" if self.loc else self.located()

    def located(self) -> str:
        """`<file>:<line>: <field.path>: <message>`, as compilers print it, so editors can jump to the line."""
        where = ":".join(str(part) for part in (self.source, self.line, self.column) if part is not None)
        return ": ".join(part for part in (where, self.path, self.message) if part)

    def as_json(self) -> dict[str, object]:
        return {"path": self.path or None, "line": self.line, "column": self.column, "message": self.message}


_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def parse_location(path: str) -> Location | None:
    """'hosts[0].nics[2]' -> ('hosts', 0, 'nics', 2); None for text that is no field path (`flake.lock`'s is one by
    its shape, and simply has no line in a stack file)."""
    loc: list[str | int] = []
    for part in path.split("."):
        matches = list(_PATH_PART.finditer(part))
        if not matches or "".join(match.group(0) for match in matches) != part or matches[0].group(1) is None:
            return None
        loc += [match.group(1) or int(match.group(2)) for match in matches]
    return tuple(loc)


def line_of(lines: Mapping[Location, int], loc: Location) -> int | None:
    """The line of `loc`, else of the nearest enclosing field the file has (a missing field is reported at the
    mapping that lacks it)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


class Problems:
    """Problems found by a model validator, each at the location of the field it concerns.

    A problem that is only a consequence of another (a NIC "on no network" because the network names a bridge that
    does not exist) names the fields it follows from in `because`: it is left out when any of them is reported, so
    the operator reads the root cause once instead of its echoes.
    """

    def __init__(self) -> None:
        self._found: list[tuple[InitErrorDetails, tuple[Location, ...]]] = []

    def add(
        self, loc: Sequence[str | int], message: str, given: object = None, *, because: Iterable[Location] = ()
    ) -> None:
        # No context is given, so pydantic-core substitutes nothing: braces in the message are kept as written.
        detail = InitErrorDetails(type=PydanticCustomError("orion", message), loc=tuple(loc), input=given)
        self._found.append((detail, tuple(because)))

    def require_unique(self, entries: Iterable[tuple[Location, Hashable]]) -> None:
        """Each value may appear once; every repeat is reported where it repeats, naming the first use."""
        first: dict[Hashable, Location] = {}
        for loc, value in entries:
            if value in first:
                self.add(loc, f"{value} is already used by {format_location(first[value])}", str(value))
            else:
                first[value] = loc

    def raise_if_any(self, title: str) -> None:
        # A suppressed problem still marks its field as wrong, so a consequence of a consequence goes too.
        wrong = [tuple(detail["loc"]) for detail, _ in self._found]
        details = [
            detail
            for number, (detail, because) in enumerate(self._found)
            if not any(
                loc[: len(cause)] == cause for cause in because for other, loc in enumerate(wrong) if other != number
            )
        ]
        if details:
            raise ValidationError.from_exception_data(title, details)
