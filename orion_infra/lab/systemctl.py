"""`systemctl restart UNIT` inside a lab machine, where no systemd runs: the unit's daemon restarted the way
units.py started it. The router's restart-bgp forced command calls it through its sudo rule, as it calls
systemctl on NixOS."""

from __future__ import annotations

import sys

from orion_infra.lab import units
from orion_infra.lab.machine import Machine
from orion_infra.lab.netns import LabError


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "restart" or argv[1].removesuffix(".service") not in units.UNITS:
        print(f"usage: systemctl restart UNIT.service (units: {', '.join(units.UNITS)})", file=sys.stderr)
        return 2
    try:
        units.restart(Machine.current(), units.UNITS[argv[1].removesuffix(".service")])
    except LabError as error:
        print(f"systemctl: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
