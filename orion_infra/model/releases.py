"""Operating system releases ORION can deploy, with their end of life."""

from __future__ import annotations

import datetime

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


def nixos_release_problem(release: str, today: datetime.date) -> str | None:
    """Why `release` must not be deployed on `today`, or None when it may."""
    supported = [name for name, end in NIXOS_END_OF_LIFE.items() if end >= today]
    end = NIXOS_END_OF_LIFE.get(release)
    if end is None:
        return f"unknown NixOS release {release!r}; supported: {', '.join(supported)}"
    if end < today:
        return f"NixOS {release} reached its end of life on {end.isoformat()}; supported: {', '.join(supported)}"
    return None


def nixos_release_warning(release: str, today: datetime.date) -> str | None:
    end = NIXOS_END_OF_LIFE.get(release)
    if end is not None and today <= end < today + datetime.timedelta(days=END_OF_LIFE_WARNING_DAYS):
        return f"NixOS {release} reaches its end of life on {end.isoformat()}; plan the upgrade"
    return None
