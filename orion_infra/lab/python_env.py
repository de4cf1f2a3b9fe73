"""A Python environment of a few distributions for a daemon that runs as a user of its own, as NixOS builds one
(`python3.withPackages`): their files copied out of this project's environment into a directory any user can
read, to be put on PYTHONPATH of this machine's /usr/bin/python3 (the same minor version)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shutil
from pathlib import Path


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]


def closure(names: list[str]) -> set[str]:
    """The distributions `names` need, their dependencies with them (those without an extra)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            requirements = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # a dependency of another platform only (colorama on Windows)
        seen.add(key)
        for requirement in requirements:
            if "extra ==" not in requirement:
                todo.append(_name(requirement))
    return seen


def install(target: Path, names: list[str]) -> Path:
    """Copies `names` and what they need into `target`; returns it (for PYTHONPATH)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in sorted(closure(names)):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            source = Path(str(distribution.locate_file(file)))
            if source.is_file() and "__pycache__" not in file.parts and ".." not in file.parts:
                destination = target / file
                destination.parent.mkdir(parents=True, exist_ok=True)
                # With its modification time, so that the compiled file copied beside it stays valid.
                shutil.copy2(source, destination)
                if source.suffix == ".py":
                    _copy_compiled(source, destination)
    return target


def _copy_compiled(source: Path, destination: Path) -> None:
    """The bytecode this environment compiled for `source`, if any: without it every daemon that runs as a user
    who cannot write beside the module (the agent, the Kea exporter) compiles pydantic and the rest at each start,
    seconds of CPU."""
    compiled = Path(importlib.util.cache_from_source(str(source)))
    if compiled.is_file():
        target = Path(importlib.util.cache_from_source(str(destination)))
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(compiled, target)
