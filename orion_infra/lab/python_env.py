"""A Python environment of a few distributions for a daemon that runs as a user of its own, as NixOS builds one
(`python3.withPackages`): their files copied out of this project's environment into a directory any user can
read, to be put on PYTHONPATH of this machine's /usr/bin/python3 (the same minor version)."""

from __future__ import annotations

import importlib.metadata
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
                shutil.copyfile(source, destination)
    return target
