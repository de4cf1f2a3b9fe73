"""`orion`: the operator's command line. Thin: parses, calls the modules, prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orion_agent.cli import main as agent
from orion_infra.cli_common import StackCli, load_or_exit, stack_file_option
from orion_infra.cli_idrac import idrac
from orion_infra.cli_lab import lab
from orion_infra.outputs import OUTPUT_TRUST
from orion_infra.render import render_all, write_tree
from orion_infra.render.options import PublicKeys
from orion_infra.schema import stack_file_schema
from orion_infra.trust import TRUST_DIR, node_trust_file


@click.group()
def main() -> None:
    """ORION: one Dell PowerEdge R730 from bare metal to a self-hosted network."""


@main.command()
@stack_file_option
@click.option("--require-secrets", is_flag=True, help="also fail when a referenced secret is not set yet")
def validate(stack_file: Path, require_secrets: bool) -> None:
    """Check a stack file; print one line per problem as `<field.path>: <message>`."""
    stack, warnings = load_or_exit(stack_file, require_secrets=require_secrets)
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    summary = f"{len(stack.hosts)} host(s), {len(stack.vms)} VMs, {len(stack.bgp.peers)} BGP peers"
    click.echo(f"{stack_file}: valid ({summary})")


@main.command()
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


main.add_command(idrac)
main.add_command(lab)
# The agent's own CLI (`orion-agent` on the monitoring VM), here too: `orion agent score IN.csv OUT.csv`, ...
main.add_command(agent, name="agent")


@main.command()
@click.option(
    "--known-hosts",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the nodes' and VMs' SSH host keys there, as known_hosts lines",
)
@stack_file_option
def trust(known_hosts: Path | None, stack_file: Path) -> None:
    """Write the Proxmox API anchors the last `pulumi up` recorded (the stack's `trust` output) to .orion/trust/ in
    the stack file's directory (the project directory, where the program reads them), the directory SSL_CERT_DIR
    names: a new machine, or a CI runner, verifies the API as the first one did."""
    recorded = StackCli(stack_file).output(OUTPUT_TRUST)
    if not isinstance(recorded, dict):
        raise click.ClickException(f"the stack has no `{OUTPUT_TRUST}` output yet: run `pulumi up` first")
    trust_dir = stack_file.resolve().parent / TRUST_DIR
    trust_dir.mkdir(parents=True, exist_ok=True)
    for node, anchor in sorted(recorded.get("proxmox_api_ca", {}).items()):
        path = Path(node_trust_file(str(trust_dir), node))
        path.write_text(anchor)
        click.echo(f"{path}: the API anchor of {node}")
    if known_hosts is not None:
        known_hosts.write_text("".join(f"{line}\n" for line in recorded.get("ssh_known_hosts", [])))
        click.echo(f"{known_hosts}: {len(recorded.get('ssh_known_hosts', []))} host keys")
    click.echo(f"export SSL_CERT_DIR={trust_dir}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of the stack file, for editors."""
    click.echo(json.dumps(stack_file_schema(), indent=2))
