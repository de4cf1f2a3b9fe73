"""bin/switch-to-configuration of a system the lab's nixos-rebuild built: `test` and `switch` activate it
(systems.activate) and make it /run/current-system, returning 4 when a unit failed, as the real one does; `boot`
changes nothing more here (the profile is the boot default, and there is no boot loader); `check` and
`dry-activate` report only."""

from __future__ import annotations

import os
import sys

from orion_infra.lab import systems
from orion_infra.lab.machine import Machine
from orion_infra.lab.netns import LabError

ACTIONS = ("switch", "boot", "test", "check", "dry-activate")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ACTIONS:
        print(f"Usage: switch-to-configuration [{'|'.join(ACTIONS)}]", file=sys.stderr)
        return 1
    system, action = argv
    if action in ("boot", "check", "dry-activate"):
        return 0
    if os.geteuid() != 0:
        print("switch-to-configuration: must be root", file=sys.stderr)
        return 1
    failed = None
    try:
        systems.activate(Machine.current(), system)
    except (LabError, ValueError) as error:
        failed = error
    link = "/run/current-system"
    os.symlink(system, f"{link}.new")
    os.replace(f"{link}.new", link)
    if failed is not None:
        print(f"warning: the following units failed: {failed}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
