"""Shell scripts that Command resources run, kept as files so they read (and lint) as what they are, and the
one format in which files and secrets travel to them on stdin."""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pulumi
import pulumi_command as command

# Defines unpack_files, which reads file_lines' format.
UNPACK_FILES = "unpack-files.sh"


def script(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def shell_command(*scripts: str, **environment: object) -> str:
    """One command line for a remote or local shell: the parameters as assignments, then the scripts in order
    (assignments, not the environment: sshd passes no environment without AcceptEnv)."""
    assignments = "".join(f"{name}={shlex.quote(str(value))}\n" for name, value in environment.items())
    return assignments + "".join(script(name) for name in scripts)


def file_lines(files: dict[str, str]) -> str:
    """Files as stdin for write-secrets.sh and unpack-files.sh: "PATH<TAB>BASE64" per line, sorted by path."""
    return "".join(f"{path}\t{base64.b64encode(files[path].encode()).decode()}\n" for path in sorted(files))


def digest(files: dict[str, str]) -> str:
    """The SHA-256 of `file_lines(files)`: equal exactly when the files are, and what unpack-files.sh verifies."""
    return hashlib.sha256(file_lines(files).encode()).hexdigest()


def local_script(
    resource_name: str,
    script_name: str,
    environment: Mapping[str, pulumi.Input[str]] | None = None,
    opts: pulumi.ResourceOptions | None = None,
    *,
    prelude: tuple[str, ...] = (),
    **arguments: Any,
) -> command.local.Command:
    """A local Command that runs one of these scripts (after the `prelude` scripts) with /bin/sh, its parameters
    in the environment."""
    return command.local.Command(
        resource_name,
        create=shell_command(*prelude, script_name),
        interpreter=["/bin/sh", "-c"],
        environment=environment,
        opts=opts,
        **arguments,
    )
