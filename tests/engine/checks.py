"""What the engine tests check on the files the real CLI writes: secrets only as ciphertext, no plain value anywhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from orion_infra.model.loading import PROJECT

# A fragment shorter than this could match by chance; every value the tests set is longer.
_SHORTEST_FRAGMENT = 12


def fragments(value: str) -> list[str]:
    """What of `value` must never appear in plain text: a one-line value whole; of a multi-line one (a private key)
    each line of its content, since a file may hold it with its line ends escaped (JSON) or re-wrapped."""
    lines = [line.strip() for line in value.splitlines()]
    if len(lines) <= 1:
        return [value]
    return [line for line in lines if len(line) >= _SHORTEST_FRAGMENT and not line.startswith("-----")]


def leaks(text: str, secrets: Mapping[str, str]) -> list[str]:
    """The keys of the secrets whose value (or a fragment of it) is in `text`."""
    return sorted(key for key, value in secrets.items() if any(part in text for part in fragments(value)))


def plaintext_hits(roots: Iterable[Path], secrets: Mapping[str, str]) -> list[str]:
    """`<file>: <key>` for every file under `roots` that holds a secret's value in plain text."""
    needles = {key: [part.encode() for part in fragments(value)] for key, value in secrets.items()}
    hits: list[str] = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            hits.extend(f"{path}: {key}" for key, parts in needles.items() if any(part in data for part in parts))
    return hits


def not_ciphertext(stack_file: Path, keys: Iterable[str]) -> list[str]:
    """`orion:<key>: <why>` for every key the stack file does not hold as `secure: v1:...` ciphertext alone."""
    document = yaml.safe_load(stack_file.read_text()) or {}
    config = document.get("config") or {}
    problems: list[str] = []
    for key in keys:
        value = config.get(f"{PROJECT}:{key}")
        if value is None:
            problems.append(f"{PROJECT}:{key}: not set")
        elif not (isinstance(value, dict) and set(value) == {"secure"} and str(value["secure"]).startswith("v1:")):
            problems.append(f"{PROJECT}:{key}: not stored as `secure:` ciphertext")
    return problems
