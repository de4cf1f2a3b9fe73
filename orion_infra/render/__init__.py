"""Pure renderers: the validated stack model in, the NixOS systems' files out. No Pulumi here."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import orion_agent
from orion_infra.model.stack import OrionStack
from orion_infra.render.monitor import render_monitor
from orion_infra.render.options import PublicKeys, RenderOptions
from orion_infra.render.router import render_router
from orion_infra.render.systems import render_base

REPOSITORY = Path(__file__).resolve().parents[2]
# Each system is built from a flake of its own: the repository's flake.nix and flake.lock, the hand-written NixOS
# files it needs (at their repository paths), and its rendered data in host/ (and, for the monitor, the agent).
FLAKE_FILES = ["flake.nix", "flake.lock"]
# What every system is built with: the VM module (with its host key's first boot) and orion-trial.
VM_FILES = [
    "nix/modules/orion-vm.nix",
    "nix/modules/orion-host-key.nix",
    "nix/scripts/orion-trial",
    "nix/scripts/orion-host-key",
]
NIX_FILES = {
    "base": ["nix/hosts/base/configuration.nix", *VM_FILES],
    "router": [
        "nix/hosts/router/configuration.nix",
        *VM_FILES,
        "nix/modules/orion-common.nix",
        "nix/modules/orion-router.nix",
        "nix/scripts/orion-restart-bgp",
    ],
    "monitor": [
        "nix/hosts/monitor/configuration.nix",
        *VM_FILES,
        "nix/modules/orion-common.nix",
        "nix/modules/orion-monitoring.nix",
        "nix/modules/orion-agent.nix",
        "nix/scripts/orion-agent",
        "nix/scripts/orion-grafana",
    ],
}
# The data directory inside each system's flake (flake.nix builds `nixosConfigurations.orion` from it).
DATA_DIR = "host"
# The agent's source, shipped to the monitoring VM, whose NixOS module runs it (`orion.agent.source`).
AGENT_SOURCE = Path(orion_agent.__file__).resolve().parent
NO_KEYS = PublicKeys(deploy=None)


def render_data(
    stack: OrionStack, options: RenderOptions, keys: PublicKeys, secrets: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """The rendered data of each system (what goes into its host/ directory), by role. `secrets` names, per role,
    the set of secrets its system reads (RenderOptions.with_secrets); the base image reads none."""
    generation = secrets or {}
    return {
        "base": render_base(stack, options, keys),
        "router": render_router(stack, options.with_secrets(generation.get("router")), keys),
        "monitor": render_monitor(stack, options.with_secrets(generation.get("monitor")), keys),
    }


def render_all(
    stack: OrionStack,
    options: RenderOptions | None = None,
    keys: PublicKeys = NO_KEYS,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every file of every system's flake, keyed by path: `router/host/bird.conf`, `monitor/flake.nix`, ..."""
    files: dict[str, str] = {}
    for role, data in render_data(stack, options or RenderOptions(), keys, secrets).items():
        files.update({f"{role}/{DATA_DIR}/{name}": text for name, text in data.items()})
        for name in (*FLAKE_FILES, *NIX_FILES[role]):
            files[f"{role}/{name}"] = (REPOSITORY / name).read_text()
    for source in sorted(AGENT_SOURCE.rglob("*.py")):
        files[f"monitor/orion_agent/{source.relative_to(AGENT_SOURCE)}"] = source.read_text()
    return dict(sorted(files.items()))


def system_files(files: dict[str, str], role: str) -> dict[str, str]:
    """One system's flake out of `render_all`'s files, by path inside it."""
    return {path.removeprefix(f"{role}/"): text for path, text in files.items() if path.startswith(f"{role}/")}


def write_tree(files: dict[str, str], out: Path) -> list[Path]:
    """Writes `files` under `out`; returns the paths written."""
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
