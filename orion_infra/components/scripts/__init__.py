"""Shell scripts that Command resources run, kept as files so they read (and lint) as what they are."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pulumi
import pulumi_command as command


def script(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text()


def local_script(
    resource_name: str,
    script_name: str,
    environment: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
    **arguments: Any,
) -> command.local.Command:
    """A local Command that runs one of these scripts with /bin/sh, its parameters in the environment."""
    return command.local.Command(
        resource_name,
        create=script(script_name),
        interpreter=["/bin/sh", "-c"],
        environment=environment,
        opts=opts,
        **arguments,
    )
