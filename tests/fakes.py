"""Stand-ins for the programs a script under test calls, and running such a script as its caller runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path


def fake_program(directory: Path, name: str, text: str) -> Path:
    """An executable `name` in `directory` (made if need be) whose content is `text` (a script with its #! line)."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text(text)
    program.chmod(0o755)
    return program


def run_shell(
    command: str, environment: dict[str, str], stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`command` run by /bin/sh -c in `environment` alone, with `stdin`, as a Command resource runs its script;
    never raises on a failure (the caller reads its status and output)."""
    return subprocess.run(
        ["/bin/sh", "-c", command],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
