"""Tools the Redfish tests need from the machine; a missing one fails the test, never skips it."""

from __future__ import annotations

import shutil


def require_program(name: str) -> str:
    path = shutil.which(name)
    assert path is not None, f"{name} is not installed; `make test` and .ci/run install the Debian packages"
    return path
