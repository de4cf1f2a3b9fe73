"""Things an operator should know about a valid stack: not errors, but worth a line in `orion validate`."""

from __future__ import annotations

import datetime

from orion_infra.model.releases import nixos_release_warning, pinned_prerelease_problem
from orion_infra.model.stack import OrionStack
from orion_infra.model.vms import NixOs


def advisories(stack: OrionStack, today: datetime.date) -> list[str]:
    notes: list[str] = []
    for index, host in enumerate(stack.hosts):
        if host.idrac.tls.verify == "insecure":
            notes.append(
                f"hosts[{index}].idrac.tls.verify: insecure accepts any certificate and sends the iDRAC's passwords "
                "to it; use verify: first_use (recorded on the first `pulumi up`) or fingerprint"
            )
    for key, vm in stack.vms.items():
        if isinstance(vm.os, NixOs) and (note := nixos_release_warning(vm.os.release, today)):
            notes.append(f"vms.{key}.os.release: {note}")
    if (note := pinned_prerelease_problem()) is not None:
        notes.append(f"flake.lock: {note}")
    if not stack.access.authorized_keys:
        notes.append("access.authorized_keys: no operator key; only the deploy key can log in to the NixOS VMs")
    return notes
