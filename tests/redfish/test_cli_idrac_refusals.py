"""`orion idrac` refusing what cannot work, at once and in plain words (issue 14's review): a CA bundle that is no
bundle, a certificate no CA vouches for, a password it has no way to read, a stack file it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from orion_infra.cli import main
from tests.redfish.conftest import FakeClock
from tests.redfish.emulator import HttpsIdrac, RunningService, openssl_sha256, self_signed_certificate
from tests.redfish.test_cli_idrac import free_port

FIRST_USE = "tls: {verify: first_use}"


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner(env=env or {"ORION_IDRAC_PASSWORD": "calvin"}).invoke(main, ["idrac", *args])


def stack_with(default_stack_file: Path, directory: Path, tls: str) -> Path:
    text = default_stack_file.read_text()
    assert text.count(FIRST_USE) == 1  # the default stack's
    stack = directory / "Pulumi.orion.yaml"
    stack.write_text(text.replace(FIRST_USE, tls))
    return stack


NOT_BUNDLES = {
    "csv": ("host,port\nidrac,443\n", "expected PEM certificates (-----BEGIN CERTIFICATE-----), found none"),
    "empty": ("", "expected PEM certificates (-----BEGIN CERTIFICATE-----), found none"),
    "broken-pem": (
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "a PEM certificate in it cannot be read (X509: PEM)",
    ),
}


@pytest.mark.parametrize("case", NOT_BUNDLES)
def test_a_ca_bundle_option_that_is_no_bundle_is_a_usage_error_before_anything_is_sent(
    clock: FakeClock, tmp_path: Path, case: str
) -> None:
    """It was taken for a connection failure: six handshakes and about a minute of backing off, urllib3's text."""
    content, expected = NOT_BUNDLES[case]
    bundle = tmp_path / "some.csv"
    bundle.write_text(content)
    endpoint = f"https://127.0.0.1:{free_port()}"  # nothing listens: a connection attempt would be retried
    result = run("status", "--ca-bundle", str(bundle), "--endpoint", endpoint, "--username", "root")
    assert (result.exit_code, result.stdout) == (2, ""), result.stderr
    assert result.stderr == f"Error: --ca-bundle: {bundle}: {expected}\n"
    assert clock.slept == []


def test_a_stack_files_ca_bundle_that_is_no_bundle_is_a_problem_of_the_file(
    clock: FakeClock, default_stack_file: Path, tmp_path: Path
) -> None:
    bundle = tmp_path / "some.csv"
    bundle.write_text("host,port\nidrac,443\n")
    stack = stack_with(default_stack_file, tmp_path, f"tls: {{verify: ca_bundle, ca_bundle: {bundle}}}")
    line = next(number for number, text in enumerate(stack.read_text().splitlines(), 1) if "ca_bundle:" in text)
    # An override, so that whatever the code did, nothing would go to the stack's own (real) address.
    result = run("--stack-file", str(stack), "--endpoint", f"127.0.0.1:{free_port()}", "status")
    assert (result.exit_code, result.stdout) == (1, ""), result.stderr
    assert result.stderr.splitlines() == [
        f"{stack}:{line}: hosts[0].idrac.tls.ca_bundle: {bundle}: expected PEM certificates "
        "(-----BEGIN CERTIFICATE-----), found none",
        f"{stack}: 1 problem(s)",
    ]
    assert clock.slept == []
    # Not a problem where the stack's TLS policy is not the one used: the options' own trust, or plain HTTP.
    overridden = run("--stack-file", str(stack), "--endpoint", f"127.0.0.1:{free_port()}", "--insecure", "status")
    plain = run("--stack-file", str(stack), "--endpoint", f"http://127.0.0.1:{free_port()}", "--insecure", "status")
    for other in (overridden, plain):
        assert other.exit_code == 1
        assert "connection refused" in other.stderr
        assert "ca_bundle" not in other.stderr


@pytest.mark.parametrize("verify", ["system", "ca_bundle"])
@pytest.mark.programs
def test_an_untrusted_certificate_is_refused_in_plain_words(
    clock: FakeClock, https_idrac_service: HttpsIdrac, tmp_path: Path, verify: str
) -> None:
    """What was presented and why it is not trusted, in one line: not urllib3's pool and "Max retries exceeded",
    which names retries that never happened."""
    fingerprint = openssl_sha256(tmp_path / "idrac.pem")
    other, _ = self_signed_certificate(tmp_path, "another-ca")
    trust = ["--ca-bundle", str(other)] if verify == "ca_bundle" else []
    result = run("--endpoint", https_idrac_service.url, "--username", "root", *trust, "status")
    assert (result.exit_code, result.stdout) == (1, "")
    where = str(other) if verify == "ca_bundle" else "the system's CA store"
    assert result.stderr == (
        f"Error: GET /redfish/v1/: {https_idrac_service.url}: its certificate (subject CN=idrac, issuer CN=idrac, "
        f"SHA-256 {fingerprint}) is not trusted: self-signed certificate, not signed by a CA in {where}. Nothing "
        "was sent to it (no request, no password)\n"
    )
    assert https_idrac_service.layer.seen == []
    assert clock.slept == []


@pytest.mark.programs
def test_an_override_refused_for_want_of_the_stacks_insecure_says_so_and_what_to_pass(
    clock: FakeClock, https_idrac_service: HttpsIdrac, default_stack_file: Path, tmp_path: Path
) -> None:
    fingerprint = openssl_sha256(tmp_path / "idrac.pem")
    stack = stack_with(default_stack_file, tmp_path, "tls: {verify: insecure}")
    target = ["--stack-file", str(stack), "--endpoint", https_idrac_service.url, "status"]
    refused = run(*target)
    assert refused.exit_code == 1
    assert refused.stderr.endswith(
        ". The stack's tls: insecure is for its own address, not for an --endpoint override (decision 0039): pass "
        f"--insecure, or --pin-sha256 {fingerprint} once that fingerprint is checked over a path you trust\n"
    ), refused.stderr
    assert https_idrac_service.layer.seen == []
    assert run(*target, "--pin-sha256", fingerprint).exit_code == 0


def test_a_password_it_cannot_read_names_both_ways_to_give_it(
    clock: FakeClock, default_stack_file: Path, tmp_path: Path
) -> None:
    """Without the Pulumi CLI the operator was told only that the stack's outputs need it."""
    stack = stack_with(default_stack_file, tmp_path, FIRST_USE)
    result = run(
        "status",
        *["--stack-file", str(stack), "--endpoint", "http://127.0.0.1:1", "--insecure"],
        env={"ORION_IDRAC_PASSWORD": None, "PATH": str(tmp_path / "empty")},
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: the iDRAC's password: set ORION_IDRAC_PASSWORD, or make the Pulumi CLI able to read the stack's "
        "outputs (install it, log in, and set the passphrase if the stack has one): the stack's output credentials "
        "needs the Pulumi CLI (`pulumi`), which is not installed (not on PATH)\n"
    )


BROKEN_STACKS = {
    "yaml-syntax": ("config:\n  orion:hosts: [\n", ":3:1: expected the node content, but found '<stream end>'"),
    "empty": ("", ": the file is empty;"),
    "rule": ("config:\n  orion:hosts: 3\n", ":2: hosts: expected a list, got 3"),
}


@pytest.mark.parametrize("case", BROKEN_STACKS)
def test_a_stack_file_it_cannot_use_exits_1_with_the_lines_validate_prints(
    clock: FakeClock, tmp_path: Path, case: str
) -> None:
    """ADR 0036: a problem in the stack file is exit 1 for every command; idrac said 2, and printed its own lines."""
    stack = tmp_path / "Pulumi.orion.yaml"
    stack.write_text(BROKEN_STACKS[case][0])
    result = run("--stack-file", str(stack), "status")
    validate = CliRunner().invoke(main, ["validate", "--stack-file", str(stack)])
    assert (result.exit_code, validate.exit_code, result.stdout) == (1, 1, "")
    assert result.stderr == validate.stderr
    assert result.stderr.startswith(f"{stack}{BROKEN_STACKS[case][1]}")
    assert result.stderr.endswith(" problem(s)\n")


def test_one_attempt_is_one_attempt(clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("--endpoint", url, "--username", "root", "--insecure", "status", "--retries", "0")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: GET /redfish/v1/ at {url}: no usable answer after 1 attempt (last: connection refused)\n"
    )


def test_every_error_starts_as_clicks_do(clock: FakeClock, idrac: RunningService) -> None:
    """A usage error (click's) and a failure (idrac's own) read alike: `Error: ...`."""
    usage = run("--endpoint", idrac.url, "--username", "root", "--insecure", "--retries", "-1", "status")
    failure = run("--endpoint", idrac.url, "--username", "nobody", "--insecure", "status")
    assert (usage.exit_code, failure.exit_code) == (2, 1)
    assert usage.stderr.startswith("Error: --retries")
    assert failure.stderr.startswith("Error: GET /redfish/v1/Systems: HTTP 401")
