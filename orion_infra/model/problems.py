"""Collects every cross-field problem of a model, so that all of them are reported at once."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Location = tuple[str | int, ...]


def format_location(loc: Sequence[str | int]) -> str:
    """('hosts', 0, 'nics', 2) -> 'hosts[0].nics[2]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class Problems:
    """Problems found by a model validator, each at the location of the field it concerns."""

    def __init__(self) -> None:
        self._details: list[InitErrorDetails] = []

    def add(self, loc: Sequence[str | int], message: str, given: object = None) -> None:
        # No context is given, so pydantic-core substitutes nothing: braces in the message are kept as written.
        self._details.append(InitErrorDetails(type=PydanticCustomError("orion", message), loc=tuple(loc), input=given))

    def require_unique(self, entries: Iterable[tuple[Location, Hashable]]) -> None:
        """Each value may appear once; every repeat is reported where it repeats, naming the first use."""
        first: dict[Hashable, Location] = {}
        for loc, value in entries:
            if value in first:
                self.add(loc, f"{value} is already used by {format_location(first[value])}", str(value))
            else:
                first[value] = loc

    def raise_if_any(self, title: str) -> None:
        if self._details:
            raise ValidationError.from_exception_data(title, self._details)
