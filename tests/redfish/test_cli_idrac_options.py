"""`orion idrac` as issue 14 found it: options where the README and operators put them, endpoints as they type
them, arguments checked before anything is sent, failures that cannot pass reported at once, retries of those that
can reported and bounded, and an --endpoint override that does not inherit `tls: insecure`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from orion_infra.cli import main
from orion_infra.cli_idrac import resolve_target
from tests.redfish.conftest import FakeClock
from tests.redfish.emulator import HttpsIdrac, RunningService, openssl_sha256
from tests.redfish.test_cli_idrac import free_port


def run(*args: str) -> Result:
    """`orion idrac ARGS` in-process (on the test's clock when the `clock` fixture is used)."""
    return CliRunner(env={"ORION_IDRAC_PASSWORD": "calvin"}).invoke(main, ["idrac", *args])


@pytest.fixture
def fingerprint(https_idrac_service: HttpsIdrac, tmp_path: Path) -> str:
    return openssl_sha256(tmp_path / "idrac.pem")


@pytest.mark.parametrize("trust", ["--pin-sha256", "--ca-bundle", "--insecure"])
@pytest.mark.parametrize("placement", ["before", "after"])
@pytest.mark.programs
def test_every_option_goes_before_or_after_the_subcommand(
    *, clock: FakeClock, https_idrac_service: HttpsIdrac, tmp_path: Path, fingerprint: str, trust: str, placement: str
) -> None:
    trusted = {
        "--pin-sha256": ["--pin-sha256", fingerprint],
        "--ca-bundle": ["--ca-bundle", str(tmp_path / "idrac.pem")],
        "--insecure": ["--insecure"],
    }[trust]
    options = [
        *["--stack-file", str(tmp_path / "no-stack.yaml"), "--host", "orion-pve"],
        *["--endpoint", https_idrac_service.url, "--username", "root", *trusted, "--json"],
        *["--poll-interval", "1.5", "--timeout", "30", "--retries", "2"],
    ]
    result = run(*options, "power-on") if placement == "before" else run("power-on", *options)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"power_state": "On"}
    assert set(clock.slept) == {1.5}  # the poll interval given, wherever it was given


def test_the_subcommands_value_wins_over_the_groups(clock: FakeClock, idrac: RunningService) -> None:
    assert (
        run("--endpoint", idrac.url, "--username", "nobody", "status", "--username", "root", "--insecure").exit_code
        == 0
    )
    refused = run("--endpoint", idrac.url, "--username", "root", "--insecure", "status", "--username", "nobody")
    assert refused.exit_code == 1
    assert "HTTP 401" in refused.stderr


@pytest.mark.parametrize("form", ["127.0.0.1:{port}", "https://127.0.0.1:{port}", "https://127.0.0.1:{port}/"])
@pytest.mark.programs
def test_an_endpoint_without_a_scheme_is_https(
    clock: FakeClock, https_idrac_service: HttpsIdrac, fingerprint: str, form: str
) -> None:
    endpoint = form.format(port=https_idrac_service.port)
    result = run("--endpoint", endpoint, "--username", "root", "--pin-sha256", fingerprint, "status", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["model"] == "PowerEdge R730"


USAGE_ERRORS: dict[str, tuple[list[str], str]] = {
    "ftp-endpoint": (["--endpoint", "ftp://127.0.0.1", "power-on"], "Error: --endpoint: expected the iDRAC's address"),
    "no-host": (["--endpoint", "https://", "power-on"], "Error: --endpoint: expected"),
    "bad-port": (["--endpoint", "127.0.0.1:http", "power-on"], "Error: --endpoint: expected"),
    "negative-poll": (["--poll-interval", "-1", "power-on"], "Error: --poll-interval: expected seconds more than 0"),
    "zero-poll": (["--poll-interval", "0", "power-off"], "Error: --poll-interval: expected seconds more than 0"),
    "negative-timeout": (["power-on", "--timeout", "-5"], "Error: --timeout: expected seconds, 0 or more, got -5"),
    "negative-retries": (["power-on", "--retries", "-1"], "Error: --retries: expected 0 or more, got -1"),
    "short-pin": (["--pin-sha256", "AB:CD", "status"], "Error: --pin-sha256: expected a SHA-256 fingerprint"),
    "pin-on-http": (["--pin-sha256", "AB" * 32, "status"], "Error: --pin-sha256 is for https://: http://"),
    "ca-on-http": (["--ca-bundle", "{bundle}", "status"], "Error: --ca-bundle is for https://: http://"),
    "two-trusts": (["--insecure", "--pin-sha256", "AB" * 32, "status"], "Error: choose one of --insecure"),
    "two-trusts-apart": (["--insecure", "status", "--pin-sha256", "AB" * 32], "Error: choose one of --insecure"),
    "ftp-media": (["--insecure", "insert-media", "ftp://127.0.0.1/x.iso"], "Error: URL: expected an http(s):// URL"),
    # Plain HTTP carries the password readable to a server nobody verified: only with --insecure (review).
    "http-without-insecure": (["status"], "Error: --endpoint http://127.0.0.1:"),
    "poll-forever": (["--poll-interval", "inf", "power-on"], "Error: --poll-interval: expected seconds more than 0"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_a_usage_error_is_one_line_exit_2_and_nothing_is_sent(
    clock: FakeClock, idrac: RunningService, tmp_path: Path, case: str
) -> None:
    arguments, expected = USAGE_ERRORS[case]
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("")
    filled = [argument.format(bundle=bundle) for argument in arguments]
    result = run("--endpoint", idrac.url, "--username", "root", *filled)
    assert (result.exit_code, result.stdout) == (2, ""), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(expected), result.stderr
    assert idrac.layer is not None
    assert idrac.layer.seen == []  # checked before acting: no power-on sent, then a traceback


def test_a_refused_connection_is_retried_visibly_within_the_attempts_given(clock: FakeClock) -> None:
    """An iDRAC rebooting refuses connections for a while: worth retrying, but saying so, and not for ever."""
    url = f"http://127.0.0.1:{free_port()}"
    result = run("--endpoint", url, "--username", "root", "--insecure", "status", "--retries", "3")
    assert (result.exit_code, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 4
    for attempt, (line, slept) in enumerate(zip(lines[:3], clock.slept, strict=True), start=1):
        assert line == (
            f"GET /redfish/v1/ at {url}: connection refused (attempt {attempt} of 4); next in {slept:.1f} s"
        )
    assert lines[3] == f"Error: GET /redfish/v1/ at {url}: no usable answer after 4 attempts (last: connection refused)"


def test_retries_stop_at_the_timeout_given(clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("--endpoint", url, "--username", "root", "--insecure", "--timeout", "5", "status")
    assert result.exit_code == 1
    assert sum(clock.slept) <= 5
    assert result.stderr.splitlines()[-1].startswith(
        f"Error: GET /redfish/v1/ at {url}: no usable answer within the 5 s allowed for retries, after "
    )


def test_an_image_the_idrac_cannot_fetch_is_posted_once_and_the_reason_given(
    clock: FakeClock, idrac: RunningService
) -> None:
    image = f"http://127.0.0.1:{free_port()}/proxmox-ve.iso"  # nothing listens there
    result = run("--endpoint", idrac.url, "--username", "root", "--insecure", "insert-media", image)
    assert (result.exit_code, result.stdout) == (1, "")
    assert "InsertMedia: HTTP 500: Failed fetching image from URL" in result.stderr
    assert idrac.layer is not None
    inserts = [seen for seen in idrac.layer.seen if seen.path.endswith("/VirtualMedia.InsertMedia")]
    assert len(inserts) == 1
    assert clock.slept == []


@pytest.mark.programs
def test_certificate_failures_are_not_retried_and_name_what_was_seen(
    clock: FakeClock, https_idrac_service: HttpsIdrac, fingerprint: str
) -> None:
    target = ["--endpoint", https_idrac_service.url, "--username", "root", "status"]
    untrusted = run(*target)
    assert untrusted.exit_code == 1
    assert (
        f"{https_idrac_service.url}: its certificate (subject CN=idrac, issuer CN=idrac, SHA-256 {fingerprint}) is not"
        in (untrusted.stderr)
    )
    wrong_pin = run(*target, "--pin-sha256", "00" * 32)
    assert wrong_pin.exit_code == 1
    assert f"presented a certificate with SHA-256 fingerprint {fingerprint}, but 00:00:" in wrong_pin.stderr
    assert clock.slept == []
    assert https_idrac_service.layer.seen == []


@pytest.fixture
def insecure_stack(default_stack_file: Path, tmp_path: Path) -> Path:
    text = default_stack_file.read_text()
    assert text.count("tls: {verify: first_use}") == 1  # the default stack's
    stack = tmp_path / "Pulumi.orion.yaml"
    stack.write_text(text.replace("tls: {verify: first_use}", "tls: {verify: insecure}"))
    return stack


@pytest.mark.programs
def test_the_stacks_insecure_is_not_applied_to_another_endpoint(
    clock: FakeClock, https_idrac_service: HttpsIdrac, insecure_stack: Path
) -> None:
    """`tls: insecure` was decided for the stack's iDRAC address; an --endpoint override is verified (system store)
    unless --insecure is given for it."""
    target = ["--stack-file", str(insecure_stack), "--endpoint", https_idrac_service.url, "status"]
    refused = run(*target)
    assert refused.exit_code == 1
    assert "is not trusted: self-signed certificate, not signed by a CA in the system's CA store. Nothing was sent" in (
        refused.stderr
    )
    assert https_idrac_service.layer.seen == []
    assert run(*target, "--insecure").exit_code == 0


def given(**options: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "stack_file": Path("Pulumi.orion.yaml"),
        "host_name": None,
        "endpoint": None,
        "username": None,
        "insecure": False,
        "ca_bundle": None,
        "pin_sha256": None,
        "as_json": False,
        "poll_interval": 5.0,
        "retry_seconds": 120.0,
        "retries": 5,
    }
    return {**defaults, **options}


def test_the_stacks_own_address_keeps_its_policy_and_an_override_keeps_a_pin(
    insecure_stack: Path, tmp_path: Path
) -> None:
    """No request: what would be used, from the stack file alone."""
    own = resolve_target(given(stack_file=insecure_stack))
    assert (own.endpoint, own.username) == ("https://192.168.1.2", "root")
    assert own.tls is not None
    assert own.tls.verify == "insecure"
    pinned = tmp_path / "pinned" / "Pulumi.orion.yaml"
    pinned.parent.mkdir()
    fingerprint = ":".join(["AB"] * 32)
    pinned.write_text(
        insecure_stack.read_text().replace(
            "tls: {verify: insecure}", f"tls: {{verify: fingerprint, sha256_fingerprint: '{fingerprint}'}}"
        )
    )
    # A pin only narrows trust: the same iDRAC reached another way (a tunnel) passes, anything else is refused.
    override = resolve_target(given(stack_file=pinned, endpoint="127.0.0.1:8443"))
    assert override.endpoint == "https://127.0.0.1:8443"
    assert override.tls is not None
    assert (override.tls.verify, override.tls.sha256_fingerprint) == ("fingerprint", fingerprint)


def test_power_on_without_waiting_sends_what_redfishtool_sends_and_returns(
    clock: FakeClock, idrac: RunningService
) -> None:
    """`--no-wait`: the service root, the systems, the system (its state and resets), the reset; no read-back."""
    assert idrac.layer is not None
    target = ["--endpoint", idrac.url, "--username", "root", "--insecure", "--json"]
    asked = run(*target, "power-on", "--no-wait")
    assert asked.exit_code == 0, asked.stderr
    assert json.loads(asked.stdout) == {"power_state": "Off", "requested": "On"}
    system = idrac.layer.system
    assert [(seen.method, seen.path) for seen in idrac.layer.seen] == [
        ("GET", "/redfish/v1"),
        ("GET", "/redfish/v1/Systems"),
        ("GET", system),
        ("POST", f"{system}/Actions/ComputerSystem.Reset"),
    ]
    assert clock.slept == []
    clock.sleep(12)  # past sushy's 1-11 s
    again = run(*target, "power-on", "--no-wait")
    assert json.loads(again.stdout) == {"power_state": "On"}
    assert [seen.method for seen in idrac.layer.seen[4:]] == ["GET", "GET", "GET"]


LOADED = """
import json, sys
from orion_infra.cli_idrac import idrac
try:
    idrac(sys.argv[1:], prog_name="orion idrac")
except SystemExit as done:
    code = done.code
heavy = ("pydantic", "orion_infra.model", "orion_infra.cli_common", "cryptography", "pulumi", "yaml")
print(json.dumps({"code": code, "loaded": sorted(name for name in heavy if name in sys.modules)}))
"""


@pytest.mark.programs
def test_a_command_given_the_endpoint_and_user_loads_no_stack_model_and_no_pulumi(idrac: RunningService) -> None:
    """What `orion idrac power-on` costs to start: the CLI's lazy group imports cli_idrac only, and cli_idrac
    imports the stack model (pydantic), cryptography or Pulumi only when a command needs them."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LOADED,
            "--endpoint",
            idrac.url,
            "--username",
            "root",
            "--insecure",
            "power-on",
            "--no-wait",
        ],
        env={**os.environ, "ORION_IDRAC_PASSWORD": "calvin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {"code": 0, "loaded": []}, done.stderr
