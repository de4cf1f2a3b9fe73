"""Pure renderers: the validated stack model in, the VMs' configuration files out. No Pulumi here."""

from __future__ import annotations

from pathlib import Path

import orion_agent
from orion_infra.model.stack import OrionStack
from orion_infra.render.monitor import render_monitor
from orion_infra.render.options import RenderOptions
from orion_infra.render.router import render_router

# The hand-written NixOS modules, scripts and per-VM entry points, shipped next to the rendered data.
NIX_DIR = Path(__file__).resolve().parents[2] / "nix"
NIX_FILES = {
    "router": [
        "hosts/router/configuration.nix",
        "modules/orion-common.nix",
        "modules/orion-router.nix",
        "scripts/orion-trial",
    ],
    "monitor": [
        "hosts/monitor/configuration.nix",
        "modules/orion-common.nix",
        "modules/orion-monitoring.nix",
        "modules/orion-agent.nix",
    ],
}
# The agent's source, shipped to the monitoring VM, whose NixOS module runs it (`orion.agent.source`).
AGENT_SOURCE = Path(orion_agent.__file__).resolve().parent


def render_all(stack: OrionStack, options: RenderOptions | None = None) -> dict[str, str]:
    """Every file of every NixOS VM, keyed by path: `router/bird.conf`, `monitor/prometheus.yml`, ..."""
    options = options or RenderOptions()
    files: dict[str, str] = {}
    for role, rendered in (
        ("router", render_router(stack, options)),
        ("monitor", render_monitor(stack, options)),
    ):
        files.update({f"{role}/{name}": text for name, text in rendered.items()})
        for nix_file in NIX_FILES[role]:
            files[f"{role}/{Path(nix_file).name if nix_file.startswith('hosts/') else nix_file}"] = (
                NIX_DIR / nix_file
            ).read_text()
    for source in sorted(AGENT_SOURCE.rglob("*.py")):
        files[f"monitor/orion_agent/{source.relative_to(AGENT_SOURCE)}"] = source.read_text()
    return dict(sorted(files.items()))


def write_tree(files: dict[str, str], out: Path) -> list[Path]:
    """Writes `files` under `out`; returns the paths written."""
    written = []
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
