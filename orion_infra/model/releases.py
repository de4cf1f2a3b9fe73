"""Operating system releases ORION can deploy, with their end of life."""

from __future__ import annotations

import datetime
import functools
import json
import re
from pathlib import Path

# NixOS supports each release for seven months: until the end of June (for .11) or December (for .05).
NIXOS_END_OF_LIFE = {
    "24.05": datetime.date(2024, 12, 31),
    "24.11": datetime.date(2025, 6, 30),
    "25.05": datetime.date(2025, 12, 31),
    "25.11": datetime.date(2026, 6, 30),
    "26.05": datetime.date(2026, 12, 31),
    "26.11": datetime.date(2027, 6, 30),
}

# Days before the end of life at which `orion validate` starts warning.
END_OF_LIFE_WARNING_DAYS = 60

# Every NixOS system ORION builds comes from the one nixpkgs this lock pins (decision 0021).
FLAKE_LOCK = Path(__file__).resolve().parents[2] / "flake.lock"


def pinned_original(lock: Path = FLAKE_LOCK) -> str:
    """The nixpkgs flake.lock pins, as flake.nix names it: `github:OWNER/REPO/REF` or the tarball's URL."""
    original = json.loads(lock.read_text())["nodes"]["nixpkgs"]["original"]
    if original.get("type") == "github":
        return f"github:{original['owner']}/{original['repo']}/{original.get('ref', '')}".rstrip("/")
    return str(original.get("url", ""))


def pinned_prerelease_problem(lock: Path = FLAKE_LOCK) -> str | None:
    """Why the pin is not a release branch yet, if it is not (decision 0021)."""
    original = pinned_original(lock)
    if "unstable" in original or re.search(r"nixos-[0-9]{2}\.[0-9]{2}pre", original):
        return (
            f"pins a pre-release of NixOS {pinned_nixos_release(lock)} ({original}); move it to the release branch "
            "before deploying (docs/decisions/0021-one-pinned-nixpkgs.md)"
        )
    return None


@functools.cache
def pinned_nixos_release(lock: Path = FLAKE_LOCK) -> str:
    """The NixOS release of the nixpkgs flake.lock pins, read from its `original` (a branch or a channel URL)."""
    original = json.loads(lock.read_text())["nodes"]["nixpkgs"]["original"]
    found = re.search(r"nixos-([0-9]{2}\.[0-9]{2})", json.dumps(original))
    if found is None:
        raise ValueError(f"{lock}: the nixpkgs input names no NixOS release (nixos-YY.MM): {original}")
    return found.group(1)


def nixos_release_problem(release: str, today: datetime.date) -> str | None:
    """Why `release` must not be deployed on `today`, or None when it may."""
    supported = [name for name, end in NIXOS_END_OF_LIFE.items() if end >= today]
    end = NIXOS_END_OF_LIFE.get(release)
    if end is None:
        return f"unknown NixOS release {release!r}; supported: {', '.join(supported) or 'none'}"
    if end < today:
        return (
            f"NixOS {release} reached its end of life on {end.isoformat()}; supported: {', '.join(supported) or 'none'}"
        )
    pinned = pinned_nixos_release()
    if release != pinned:
        return f"NixOS {release} is not the release flake.lock pins ({pinned}); every NixOS VM is built from it"
    return None


def nixos_release_warning(release: str, today: datetime.date) -> str | None:
    end = NIXOS_END_OF_LIFE.get(release)
    if end is not None and today <= end < today + datetime.timedelta(days=END_OF_LIFE_WARNING_DAYS):
        return f"NixOS {release} reaches its end of life on {end.isoformat()}; plan the upgrade"
    return None
