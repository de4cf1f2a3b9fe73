"""`orion render`: the NixOS flakes ORION deploys, written out for review."""

from __future__ import annotations

from pathlib import Path

import click

from orion_infra.cli_common import load_or_exit, stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.render import render_all, write_tree
from orion_infra.render.options import PublicKeys


@click.command(context_settings=HELP_CONTEXT)
@stack_file_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="where to write")
@click.option(
    "--deploy-public-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="the deploy key's public half (e.g. ~/.ssh/orion_deploy.pub): the systems keep accepting it; `pulumi up` "
    "derives it from the sshDeployKey secret",
)
def render(stack_file: Path, out: Path, deploy_public_key: Path | None) -> None:
    """Write each system's flake under OUT (base/, router/, monitor/), for review: `nix flake check OUT/router`
    evaluates it, `nixos-rebuild build --flake OUT/router#orion` builds it."""
    stack, _ = load_or_exit(stack_file)
    deploy = deploy_public_key.read_text().strip() if deploy_public_key else None
    written = write_tree(render_all(stack, keys=PublicKeys(deploy=deploy)), out)
    click.echo(f"wrote {len(written)} files under {out}")
