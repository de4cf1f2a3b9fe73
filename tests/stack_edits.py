"""Small, explicit edits of the default stack's raw config for tests."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from orion_infra.model import RawConfig


def edited(raw: RawConfig, *changes: tuple[tuple[str | int, ...], object]) -> RawConfig:
    """A copy of `raw` with each (path, value) set; a path names config key, then fields and indexes.

    A callable value is applied to the value found at the path.
    """
    values: dict[str, Any] = copy.deepcopy(dict(raw.values))
    for path, value in changes:
        target: Any = values
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value
    return dataclasses.replace(raw, values=values)
