"""`orion trust`: the Proxmox API anchors the last deployment recorded, written where the program reads them."""

from __future__ import annotations

from pathlib import Path

import click

from orion_infra.cli_common import StackCli, stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.outputs import OUTPUT_TRUST
from orion_infra.trust import TRUST_DIR, node_trust_file


@click.command(context_settings=HELP_CONTEXT)
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
