"""pkgs.writeShellApplication's script, as nixpkgs writes it (pkgs/build-support/trivial-builders/default.nix, read
at NixOS/nixpkgs 00ee9b64aafebe333c3e33ffb093734092158728): the shebang, `set -o` for each bash option, each
runtimeEnv variable assigned and exported, PATH extended by the runtime inputs, then the text. The lab and the
deploy stand-in install ORION's scripts this way, and the tests shellcheck exactly this text."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

BASH_OPTIONS = ("errexit", "nounset", "pipefail")


def shell_application(
    text: str,
    *,
    path: Sequence[str] = (),
    runtime_env: Mapping[str, str] | None = None,
    shell: str = "/bin/bash",
) -> str:
    lines = [f"#!{shell}", *(f"set -o {option}" for option in BASH_OPTIONS)]
    for name, value in (runtime_env or {}).items():
        lines += [f"{name}={shlex.quote(value)}", f"export {name}"]
    if path:
        lines += ["", f'export PATH="{":".join(path)}:$PATH"']
    return "\n".join([*lines, "", text])


def install(target: Path, text: str, *, path: Sequence[str] = (), runtime_env: Mapping[str, str] | None = None) -> Path:
    """Writes the application to `target` (executable, like the package's bin/NAME)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(shell_application(text, path=path, runtime_env=runtime_env))
    target.chmod(0o755)
    return target
