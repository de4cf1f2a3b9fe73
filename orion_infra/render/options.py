"""What a renderer may adapt to where its files run: paths and interface names, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath


@dataclass(frozen=True)
class RenderOptions:
    """Production values by default; the lab points the paths into its own directories."""

    config_dir: PurePosixPath = PurePosixPath("/etc/orion")
    """Where the rendered files of a VM live on it (the deploy step copies them there)."""
    secrets_dir: PurePosixPath = PurePosixPath("/var/lib/orion/secrets")
    """Where the deploy step writes secret files (mode 0600, root only; on disk so a reboot keeps BGP up, never
    in the Nix store)."""
    state_dir: PurePosixPath = PurePosixPath("/var/lib")
    """Where daemons keep state, such as Kea's lease file."""
    run_dir: PurePosixPath = PurePosixPath("/run")
    """Control sockets and pid files."""
    interface_names: dict[str, str] = field(default_factory=dict)
    """Renames of the router's interfaces (model name -> name in the running system)."""

    def interface(self, name: str) -> str:
        return self.interface_names.get(name, name)

    def secret(self, name: str) -> PurePosixPath:
        return self.secrets_dir / name
