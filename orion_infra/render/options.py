"""What a renderer may adapt to where its files run: paths and interface names, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath


@dataclass(frozen=True)
class RenderOptions:
    """Production values by default; the lab points the paths into its own directories."""

    config_dir: PurePosixPath = PurePosixPath("/etc/orion")
    """Where a VM's services find the rendered files they read by a fixed path (the modules link them there with
    environment.etc: Prometheus's rule file, Grafana's dashboards)."""
    secrets_dir: PurePosixPath = PurePosixPath("/var/lib/orion/secrets")
    """Where the deploy step writes secret files (mode 0600, root only; on disk so a reboot keeps BGP up, never
    in the Nix store), one directory per set (with_secrets). Services read them as systemd credentials."""
    seed_dir: PurePosixPath = PurePosixPath("/run/orion-seed")
    """Where the VM's cloud-init drive (its host key's way in) is mounted at boot."""
    credentials_dir: PurePosixPath = PurePosixPath("/run/credentials")
    """Where systemd hands each unit its credentials: `<credentials_dir>/<unit>.service/<name>`."""
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

    def with_secrets(self, generation: str | None) -> RenderOptions:
        """For a system that reads the set of secrets `generation` (a directory of secrets_dir of its own): a new set
        makes a new system, whose switch restarts exactly the units that read it, and a switch back returns to the
        set the older system read (ADR 0033)."""
        return self if generation is None else replace(self, secrets_dir=self.secrets_dir / generation)

    def credentials(self, unit: str) -> PurePosixPath:
        """The directory in which `unit` (e.g. "bird") reads its credentials."""
        return self.credentials_dir / f"{unit}.service"

    def credential(self, unit: str, name: str) -> PurePosixPath:
        return self.credentials(unit) / name


@dataclass(frozen=True)
class PublicKeys:
    """Public keys the systems must carry, derived at deploy time from the stack's private keys."""

    deploy: str | None
    """The deploy key's public half: the admin user keeps accepting it after every switch."""
    agent: str | None = None
    """The monitoring agent's public half: the router accepts it for restart-bgp only."""
