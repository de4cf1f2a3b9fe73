"""`orion idrac` with a stack whose iDRAC is trusted on first use: the pin `pulumi up` recorded (the stack's
`idrac.<host>.tls_sha256` output) or --pin-sha256, never a silent fallback to trusting whatever answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orion_infra.cli import main
from tests.redfish.emulator import HttpsIdrac, openssl_sha256, self_signed_certificate

HOST = "orion-pve"


@pytest.fixture
def first_use_stack(default_stack_file: Path, tmp_path: Path) -> Path:
    text = default_stack_file.read_text()
    assert text.count("tls: {verify: first_use}") == 1  # the default stack's
    stack = tmp_path / "Pulumi.orion.yaml"
    stack.write_text(text.replace("tls: {verify: insecure}", "tls: {verify: first_use}"))
    return stack


def pulumi_with_outputs(tmp_path: Path, idrac: dict[str, object] | None) -> str:
    """A directory holding a `pulumi` that answers `stack output idrac --json` with `idrac` (or fails, as before
    the first `pulumi up`), and nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pulumi"
    answer = "exit 1" if idrac is None else f"printf '%s' '{json.dumps(idrac)}'"
    script.write_text(f"#!/bin/sh\ncase \"$1 $2 $3\" in 'stack output idrac') {answer} ;; *) exit 1 ;; esac\n")
    script.chmod(0o755)
    return str(bin_dir)


def status(stack: Path, service: HttpsIdrac, path: str, *extra: str) -> tuple[int, str, str]:
    """`orion idrac status` for the stack's host, at the emulator's address (the stack's TLS policy applies)."""
    result = CliRunner(env={"ORION_IDRAC_PASSWORD": "calvin", "PATH": path}).invoke(
        main, ["idrac", "--stack-file", str(stack), "--endpoint", service.url, *extra, "--json", "status"]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "outputs",
    ["no pulumi", None, {"other-host": {"tls_sha256": "AB:CD"}}],
    ids=["no-pulumi-cli", "no-stack-output-yet", "no-output-for-this-host"],
)
def test_without_a_recorded_fingerprint_or_a_pin_nothing_is_sent(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path, outputs: object
) -> None:
    if outputs == "no pulumi":
        path = str(tmp_path / "empty")
        Path(path).mkdir()
    else:
        path = pulumi_with_outputs(tmp_path, outputs if isinstance(outputs, dict) else None)
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


def test_the_fingerprint_recorded_by_pulumi_up_is_trusted(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path
) -> None:
    recorded = openssl_sha256(tmp_path / "idrac.pem")
    path = pulumi_with_outputs(tmp_path, {HOST: {"endpoint": "https://192.168.1.2", "tls_sha256": recorded}})
    code, out, err = status(first_use_stack, https_idrac_service, path)
    assert code == 0, err
    assert json.loads(out)["service_tag"] == "CQ5QBM2"


def test_another_certificate_than_the_recorded_one_is_refused_before_the_password_is_sent(
    first_use_stack: Path, https_idrac_service: HttpsIdrac, tmp_path: Path
) -> None:
    recorded = openssl_sha256(tmp_path / "idrac.pem")
    path = pulumi_with_outputs(tmp_path, {HOST: {"tls_sha256": recorded}})
    replacement, key = self_signed_certificate(tmp_path, "replacement")
    https_idrac_service.start(replacement, key)
    code, _, err = status(first_use_stack, https_idrac_service, path)
    assert code == 1
    assert f"presented a certificate with SHA-256 fingerprint {openssl_sha256(replacement)}" in err
    assert f"but {recorded} is the one pinned" in err
    assert f"`pulumi up --replace` on the TlsIdentity resource of {HOST}" in err
    assert https_idrac_service.layer.seen == []
    # The operator checked the new certificate out of band and pins it for this command.
    code, out, err = status(first_use_stack, https_idrac_service, path, "--pin-sha256", openssl_sha256(replacement))
    assert code == 0, err
    assert json.loads(out)["model"] == "PowerEdge R730"
