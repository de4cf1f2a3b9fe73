"""Running a test's program sealed: in a network namespace of its own, where nothing outside it is reachable."""

from __future__ import annotations

import os
import shutil


def seal() -> list[str]:
    """`unshare` into a new network namespace (its loopback down until raised); without root, in a user namespace
    too. The path is resolved here, on the test's PATH, because the sealed program may be given another."""
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "--net"] if os.geteuid() == 0 else [unshare, "--net", "--map-root-user"]
