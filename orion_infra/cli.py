"""`orion`: the operator's command line. Thin: parses, calls the modules, prints.

Each command lives in its own module and is imported only when it runs (see cli_lazy): `orion --help` and
`orion validate` do not pay for Pulumi, requests or Jinja.
"""

from __future__ import annotations

from pathlib import Path

import click

from orion_infra.cli_lazy import LazyCommand, LazyGroup
from orion_infra.cli_options import HELP_CONTEXT, root_stack_file_option

# The commands, by name: where each lives and its summary for `orion --help` (tests/test_cli.py keeps each
# summary equal to the first sentence of the command's docstring). Registering a command is one line here.
COMMANDS = {
    "validate": LazyCommand(
        "orion_infra.cli_stack:validate", "Check a stack file; print one line per problem, with its file and line."
    ),
    "render": LazyCommand(
        "orion_infra.cli_render:render",
        "Write each system's flake under OUT (base/, router/, monitor/), for review: `nix flake check OUT/router` "
        "evaluates it, `nixos-rebuild build --flake OUT/router#orion` builds it.",
    ),
    "schema": LazyCommand("orion_infra.cli_stack:schema", "Print the JSON Schema of the stack file, for editors."),
    "trust": LazyCommand(
        "orion_infra.cli_trust:trust",
        "Write the Proxmox API anchors the last `pulumi up` recorded (the stack's `trust` output) to .orion/trust/ "
        "in the stack file's directory (the project directory, where the program reads them), the directory "
        "SSL_CERT_DIR names: a new machine, or a CI runner, verifies the API as the first one did.",
    ),
    "idrac": LazyCommand("orion_infra.cli_idrac:idrac", "Power, media and facts of a host's iDRAC over Redfish."),
    "lab": LazyCommand(
        "orion_infra.cli_lab:lab",
        "The ORION twin: the rendered configuration running with the real daemons in network namespaces.",
    ),
    "doctor": LazyCommand("orion_infra.cli_doctor:doctor", "Check this machine and the site before `pulumi up`."),
    "verify": LazyCommand(
        "orion_infra.cli_verify:verify",
        "Check the deployed site after `pulumi up`, as the seed's verification step does.",
    ),
    # The agent's own CLI (`orion-agent` on the monitoring VM), here too: `orion agent score IN.csv OUT.csv`, ...
    "agent": LazyCommand("orion_agent.cli:main", "ORION's autonomous agent on the monitoring VM."),
}


@click.group(
    cls=LazyGroup,
    registry=COMMANDS,
    context_settings=HELP_CONTEXT,
)
@click.version_option(package_name="orion-infra", prog_name="orion")
@root_stack_file_option
def main(stack_file: Path | None) -> None:
    """ORION: one Dell PowerEdge R730 from bare metal to a self-hosted network."""


if __name__ == "__main__":
    main()
