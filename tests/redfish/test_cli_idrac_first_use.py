"""`orion idrac` with a stack whose iDRAC is trusted on first use: the pin `pulumi up` recorded (the stack's
`idrac.<host>.tls_sha256` output) or --pin-sha256, never a silent fallback to trusting whatever answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orion_infra.cli import main
from tests.fake_pulumi import fake_pulumi
from tests.redfish.emulator import HttpsIdrac, openssl_sha256, self_signed_certificate

HOST = "orion-pve"


@pytest.fixture
def first_use_stack(default_stack_file: Path, tmp_path: Path) -> Path:
    text = default_stack_file.read_text()
    assert text.count("tls: {verify: first_use}") == 1  # the default stack's
    stack = tmp_path / "Pulumi.orion.yaml"
    stack.write_text(text)
    return stack


def pulumi_with_outputs(tmp_path: Path, stack: Path, idrac: dict[str, object] | None) -> str:
    """The PATH of a strict fake `pulumi` whose stack has `idrac` as its `idrac` output (none, as before the first
    `pulumi up`, when None)."""
    return fake_pulumi(tmp_path, stack, outputs={} if idrac is None else {"idrac": idrac}).path


def status(stack: Path, service: HttpsIdrac, path: str, *extra: str) -> tuple[int, str, str]:
    """`orion idrac status` for the stack's host, at the emulator's address (the stack's TLS policy applies)."""
    result = CliRunner(env={"ORION_IDRAC_PASSWORD": "calvin", "PATH": path}).invoke(
        main, ["idrac", "--stack-file", str(stack), "--endpoint", service.url, *extra, "--json", "status"]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "outputs",
    [None, {"other-host": {"tls_sha256": "AB:CD"}}],
    ids=["no-stack-output-yet", "no-output-for-this-host"],
)
@pytest.mark.programs
def test_without_a_recorded_fingerprint_or_a_pin_nothing_is_sent(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path, outputs: dict[str, object] | None
) -> None:
    path = pulumi_with_outputs(tmp_path, first_use_stack, outputs)
    code, out, err = status(first_use_stack, https_idrac_service, path)
    assert code == 1
    assert out == ""
    assert (
        f"host {HOST}: its iDRAC's certificate is trusted on first use (tls verify: first_use), and no fingerprint "
        f"is recorded: `pulumi stack output idrac` has no {HOST}.tls_sha256"
    ) in err
    assert "Pass --pin-sha256" in err
    assert "Nothing was sent to the iDRAC." in err
    assert https_idrac_service.layer.seen == []


@pytest.mark.parametrize("cli", ["no-pulumi-cli", "failing-pulumi-cli"])
@pytest.mark.programs
def test_when_the_recorded_fingerprint_cannot_be_read_the_reason_is_given_and_nothing_is_sent(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path, cli: str
) -> None:
    """Not "no fingerprint is recorded" when the CLI is missing or fails: what is wrong, and the way around it."""
    reason = "error: no stack named 'orion' found"
    if cli == "no-pulumi-cli":
        path = str(tmp_path / "empty")
        Path(path).mkdir()
    else:
        path = fake_pulumi(tmp_path, first_use_stack, error=reason).path
    code, out, err = status(first_use_stack, https_idrac_service, path)
    assert code == 2
    assert out == ""
    assert "no fingerprint is recorded" not in err
    assert (
        f"host {HOST}: its iDRAC's certificate is trusted on first use (tls verify: first_use), and the fingerprint "
        "recorded cannot be read: "
    ) in err
    if cli == "no-pulumi-cli":
        assert "the stack's output idrac needs the Pulumi CLI (`pulumi`), which is not installed" in err
    else:
        assert f"the Pulumi CLI could not read the stack's output idrac: {reason}" in err
    assert "Pass --pin-sha256" in err
    assert "Nothing was sent to the iDRAC." in err
    assert https_idrac_service.layer.seen == []


@pytest.mark.programs
def test_the_fingerprint_recorded_by_pulumi_up_is_trusted(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path
) -> None:
    recorded = openssl_sha256(tmp_path / "idrac.pem")
    path = pulumi_with_outputs(
        tmp_path, first_use_stack, {HOST: {"endpoint": "https://192.168.1.2", "tls_sha256": recorded}}
    )
    code, out, err = status(first_use_stack, https_idrac_service, path)
    assert code == 0, err
    assert json.loads(out)["service_tag"] == "CQ5QBM2"


@pytest.mark.programs
def test_another_certificate_than_the_recorded_one_is_refused_before_the_password_is_sent(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path
) -> None:
    recorded = openssl_sha256(tmp_path / "idrac.pem")
    path = pulumi_with_outputs(tmp_path, first_use_stack, {HOST: {"tls_sha256": recorded}})
    replacement, key = self_signed_certificate(tmp_path, "replacement")
    https_idrac_service.start(replacement, key)
    code, _, err = status(first_use_stack, https_idrac_service, path)
    assert code == 1
    assert f"presented a certificate with SHA-256 fingerprint {openssl_sha256(replacement)}" in err
    assert f"but {recorded} is the one pinned" in err
    assert f"`pulumi up --replace` on the TlsIdentity resource of {HOST}" in err
    assert err.rstrip().endswith("or pass --pin-sha256")
    assert https_idrac_service.layer.seen == []
    # The operator checked the new certificate out of band and pins it for this command.
    code, out, err = status(first_use_stack, https_idrac_service, path, "--pin-sha256", openssl_sha256(replacement))
    assert code == 0, err
    assert json.loads(out)["model"] == "PowerEdge R730"
