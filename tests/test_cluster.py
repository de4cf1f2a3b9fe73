"""A two-host stack file: more hosts are a configuration change, and each VM lands on its own node."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from orion_infra.model import read_stack_file
from tests.pulumi_harness import PulumiUp
from tests.test_program import SECRETS

TWO_HOSTS = Path(__file__).parent / "fixtures" / "two-hosts.yaml"
SECOND_HOST_SECRETS = {"idracPassword2": "calvin", "proxmoxRootPassword2": "an-existing-root-password"}


def test_two_hosts_make_two_idracs_and_two_nodes(pulumi_up: PulumiUp) -> None:
    raw = read_stack_file(TWO_HOSTS)
    run = pulumi_up(raw.values, {**SECRETS, **SECOND_HOST_SECRETS})
    assert run.error is None, run.log
    types = Counter(r.type for r in run.registrations)
    assert types["orion:idrac:IdracHost"] == 2
    assert types["orion:proxmox:Node"] == 2
    assert types["proxmoxve:network/linux/bridge:Bridge"] == 10
    # Only the first host is installed by ORION; the second already runs Proxmox VE.
    assert types["orion:proxmox:Installer"] == 1
    assert [r.name for r in run.registrations if r.type == "pulumi-python:dynamic/idrac:PowerState"] == [
        "orion-pve-power"
    ]
    second_api = run.by_name("orion-pve2-proxmox-api")
    assert second_api.inputs["endpoint"] == "https://192.168.1.11:8006/"
    assert run.by_name("orion-pve2-proxmox-vmbr1").provider.startswith(second_api.urn)
    macos = run.by_name("hack-sequoia-01-vm")
    assert macos.inputs["nodeName"] == "orion-pve2"
    assert run.by_name("hack-sequoia-01-opencore").provider.startswith(second_api.urn)
    assert run.by_name("orion-router-vm").inputs["nodeName"] == "orion-pve"
    assert set(run.outputs["credentials"]["idrac_root"]) == {"orion-pve", "orion-pve2"}
    assert set(run.outputs["credentials"]["proxmox_root"]) == {"orion-pve"}
