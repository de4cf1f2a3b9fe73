"""Shell scripts that Command resources run, kept as files so they read (and lint) as what they are."""

from __future__ import annotations

from importlib import resources


def script(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()
