"""The scripts that make the Proxmox API trusted and ORION's token on it, run as the Command resources run them:
the token script against a pveum as strict as Proxmox VE 9's (tests/components/pveum_standin.py), the trust
anchor written on the operator's side, the CA read from a node's /etc/pve."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from orion_infra.components.proxmox import API_ACCOUNT, API_PRIVILEGES, API_ROLE, API_TOKEN, _api_token
from orion_infra.components.scripts import shell_command
from tests.fakes import fake_program, run_shell
from tests.render.checkers import in_namespace_with_tmpfs

STANDIN = Path(__file__).resolve().parent / "pveum_standin.py"
ACCOUNT = {"ACCOUNT": API_ACCOUNT, "TOKEN": API_TOKEN, "ROLE": API_ROLE}


@pytest.fixture
def node(tmp_path: Path) -> dict[str, str]:
    """The environment of a root shell on a node whose pveum is the stand-in."""
    bin_dir = tmp_path / "bin"
    fake_program(bin_dir, "pveum", f'#!/bin/sh\nexec {sys.executable} {STANDIN} "$@"\n')
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "PVEUM_STATE": str(tmp_path / "pveum.json")}


def make_token(
    environment: dict[str, str], privileges: str = ",".join(API_PRIVILEGES)
) -> subprocess.CompletedProcess[str]:
    return run_shell(shell_command("proxmox-api-token.sh", **ACCOUNT, PRIVILEGES=privileges), environment)


def state(environment: dict[str, str]) -> dict[str, object]:
    return json.loads(Path(environment["PVEUM_STATE"]).read_text())  # type: ignore[no-any-return]


@pytest.mark.programs
def test_the_token_is_made_with_the_role_and_nothing_but_the_token_on_stdout(node: dict[str, str]) -> None:
    made = make_token(node)
    assert made.returncode == 0, made.stderr
    token = _api_token(made.stdout)
    assert token.startswith("orion@pve!deploy=")
    pve = state(node)
    assert pve["roles"] == {API_ROLE: sorted(API_PRIVILEGES)}
    assert pve["acl"] == [{"path": "/", "ugid": API_ACCOUNT, "roleid": API_ROLE}]
    assert pve["tokens"] == {API_ACCOUNT: {API_TOKEN: {"privsep": "0", "value": token.split("=", 1)[1]}}}


@pytest.mark.programs
def test_a_second_run_replaces_the_token_and_keeps_one_account(node: dict[str, str]) -> None:
    first = _api_token(make_token(node).stdout)
    again = make_token(node)
    assert again.returncode == 0, again.stderr
    second = _api_token(again.stdout)
    assert second != first
    pve = state(node)
    assert list(pve["users"]) == [API_ACCOUNT]  # type: ignore[call-overload]
    assert len(pve["tokens"][API_ACCOUNT]) == 1  # type: ignore[index]


def test_the_role_holds_no_privilege_over_users_permissions_or_the_node_itself() -> None:
    forbidden = {"Permissions.Modify", "User.Modify", "Realm.Allocate", "Realm.AllocateUser", "Group.Allocate"}
    forbidden |= {"Sys.Console", "Sys.PowerMgmt", "Sys.Incoming", "VM.Console", "VM.Migrate"}
    forbidden |= {"VM.GuestAgent.FileRead", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted"}
    assert not forbidden & set(API_PRIVILEGES)


@pytest.mark.programs
def test_a_privilege_proxmox_ve_9_does_not_know_fails_the_step(node: dict[str, str]) -> None:
    refused = make_token(node, ",".join([*API_PRIVILEGES, "VM.Monitor"]))
    assert refused.returncode != 0
    assert "invalid privilege 'VM.Monitor'" in refused.stderr
    assert not refused.stdout


@pytest.mark.programs
def test_on_a_node_that_has_the_role_a_bad_privilege_is_named_too(node: dict[str, str]) -> None:
    """A second run (the role exists) reports pveum's own reason, not a misleading one from a fallback."""
    assert make_token(node).returncode == 0
    refused = make_token(node, ",".join([*API_PRIVILEGES, "VM.Monitor"]))
    assert refused.returncode != 0
    assert "invalid privilege 'VM.Monitor'" in refused.stderr
    assert "already exists" not in refused.stderr
    assert not refused.stdout


@pytest.mark.programs
def test_delete_removes_the_account_its_token_and_the_role(node: dict[str, str]) -> None:
    assert make_token(node).returncode == 0
    remove = shell_command("proxmox-api-token-remove.sh", ACCOUNT=API_ACCOUNT, ROLE=API_ROLE)
    removed = run_shell(remove, node)
    assert removed.returncode == 0, removed.stderr
    pve = state(node)
    assert pve["users"] == {}
    assert pve["roles"] == {}
    assert pve["acl"] == []
    # Again, with nothing left: a retried delete succeeds.
    assert run_shell(remove, node).returncode == 0


PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.programs
def test_the_trust_anchor_is_written_whole_and_only_if_it_is_a_certificate(tmp_path: Path) -> None:
    trust_file = tmp_path / "trust" / "orion-pve.pem"
    environment = {"PATH": os.environ["PATH"], "TRUST_FILE": str(trust_file)}
    written = run_shell(shell_command("write-trust.sh"), environment, PEM)
    assert written.returncode == 0, written.stderr
    assert trust_file.read_text() == PEM
    assert oct(trust_file.stat().st_mode & 0o777) == "0o644"
    refused = run_shell(shell_command("write-trust.sh"), environment, "<html>a captive portal</html>")
    assert refused.returncode != 0
    assert trust_file.read_text() == PEM  # the earlier anchor stays
    assert sorted(path.name for path in trust_file.parent.iterdir()) == ["orion-pve.pem"]
    assert run_shell(shell_command("remove-trust.sh", TRUST_FILE=str(trust_file)), environment).returncode == 0
    assert not trust_file.exists()


@pytest.mark.parametrize(("custom", "expected"), [(False, "pve-root-ca"), (True, "pveproxy-ssl")])
@pytest.mark.programs
def test_the_node_sends_its_ca_or_the_certificate_installed_for_its_api(custom: bool, expected: str) -> None:
    """As root on a node whose /etc/pve holds Proxmox's files (a mount namespace of its own; the machine's /etc is
    never touched)."""
    files = "mkdir -p /etc/pve/local && echo pve-root-ca > /etc/pve/pve-root-ca.pem"
    if custom:
        files += " && echo pveproxy-ssl > /etc/pve/local/pveproxy-ssl.pem"
    done = in_namespace_with_tmpfs("/etc", f"{files} && sh -c {shlex.quote(shell_command('proxmox-api-ca.sh'))}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
