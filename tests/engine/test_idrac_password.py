"""`orion idrac` reading the iDRAC's password (and, with first_use, its recorded certificate) through the real Pulumi
CLI, as an operator runs it in the project directory without ORION_IDRAC_PASSWORD. Each run is sealed: the command,
the CLI and the emulated iDRAC 8 share a network namespace whose only interface is its loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.checks import leaks
from tests.engine.conftest import EngineProject, Sealed
from tests.redfish.emulator import openssl_sha256, self_signed_certificate

HOST = "orion-pve"


def assert_sealed(run: Sealed) -> None:
    assert run.interfaces == ["lo"]


def test_status_json_with_the_password_from_pulumi_config_get(
    engine_project: EngineProject, stack_secrets: dict[str, str], tmp_path: Path
) -> None:
    password = stack_secrets["idracPassword"]
    run = engine_project.orion_idrac(
        "--json", "--insecure", "status", idrac_password=password, state=tmp_path / "sushy"
    )
    assert_sealed(run)
    assert run.returncode == 0, run.stderr
    facts = json.loads(run.stdout)
    assert (facts["model"], facts["service_tag"], facts["health"]) == ("PowerEdge R730", "CQ5QBM2", "OK")
    assert run.seen
    assert all(request["authorization"] for request in run.seen)
    assert leaks(run.stdout + run.stderr, stack_secrets) == []


def test_a_wrong_secret_is_a_clear_failure(
    engine_project: EngineProject, stack_secrets: dict[str, str], tmp_path: Path
) -> None:
    engine_project.set_secret("idracPassword", "Not-The-Idrac-Pw1")
    run = engine_project.orion_idrac(
        "--json", "--insecure", "status", idrac_password=stack_secrets["idracPassword"], state=tmp_path / "sushy"
    )
    assert_sealed(run)
    assert (run.returncode, run.stdout) == (1, "")
    assert "HTTP 401: Authentication failed. (RAC0178)" in run.stderr
    assert leaks(run.stderr, {**stack_secrets, "wrong": "Not-The-Idrac-Pw1"}) == []


def test_after_a_rotation_the_password_comes_from_the_secret_stack_output(
    engine_project: EngineProject, stack_secrets: dict[str, str], tmp_path: Path
) -> None:
    """`pulumi up` rotated the iDRAC's password and exported it in the secret `credentials` output: the real
    `pulumi stack output credentials --show-secrets --json` gives it; the config secret (factory) no longer works."""
    rotated = "Rotated-Idrac-Pw-7"
    engine_project.import_outputs({"credentials": {"idrac_root": {HOST: rotated}}}, secret=["credentials"])
    run = engine_project.orion_idrac("--json", "--insecure", "status", idrac_password=rotated, state=tmp_path / "sushy")
    assert_sealed(run)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["power_state"] == "Off"


@pytest.fixture
def first_use_project(engine_project: EngineProject) -> EngineProject:
    text = engine_project.stack_file.read_text()
    assert text.count("tls: {verify: first_use}") == 1  # the default stack's
    return engine_project


def test_first_use_trusts_the_fingerprint_in_the_real_stack_output(
    first_use_project: EngineProject, stack_secrets: dict[str, str], tmp_path: Path
) -> None:
    certificate = self_signed_certificate(tmp_path, "idrac")
    password = stack_secrets["idracPassword"]
    # Before the first `pulumi up` the stack has no `idrac` output (the real CLI exits 1): nothing is sent.
    run = first_use_project.orion_idrac("status", idrac_password=password, state=tmp_path / "a", tls=certificate)
    assert_sealed(run)
    assert run.returncode == 1
    assert f"`pulumi stack output idrac` has no {HOST}.tls_sha256" in run.stderr
    assert run.seen == []
    first_use_project.import_outputs({"idrac": {HOST: {"tls_sha256": openssl_sha256(certificate[0])}}})
    run = first_use_project.orion_idrac(
        "--json", "status", idrac_password=password, state=tmp_path / "b", tls=certificate
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["service_tag"] == "CQ5QBM2"


def test_without_the_passphrase_the_cli_reason_reaches_the_operator(
    engine_project: EngineProject, stack_secrets: dict[str, str], tmp_path: Path
) -> None:
    """Without PULUMI_CONFIG_PASSPHRASE the real CLI cannot decrypt the stack's secret: the command stops with the
    CLI's own reason (a usage error), before anything is sent to the iDRAC."""
    run = engine_project.orion_idrac(
        "--insecure",
        "status",
        idrac_password=stack_secrets["idracPassword"],
        state=tmp_path / "sushy",
        env={"PULUMI_CONFIG_PASSPHRASE": None},
    )
    assert_sealed(run)
    assert (run.returncode, run.stdout) == (2, "")
    assert "the Pulumi CLI could not read the stack's secret idracPassword: error: " in run.stderr
    assert "passphrase must be set with PULUMI_CONFIG_PASSPHRASE" in run.stderr
    assert run.seen == []
    assert leaks(run.stderr, stack_secrets) == []
