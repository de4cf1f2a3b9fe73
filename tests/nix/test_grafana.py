"""A rotated Grafana admin password reaches Grafana, and a changed secret key does not slip by: orion-grafana, as
NixOS installs it (writeShellApplication) and the grafana unit runs it before its server, against a stand-in
`grafana` that records how Grafana's CLI is called (its arguments and what it reads on stdin)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from orion_infra.lab.shell_application import shell_application
from tests.fakes import fake_program
from tests.nix.nix_reader import module_values
from tests.nix.test_shell_scripts import shell_applications

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "nix" / "scripts" / "orion-grafana"
MODULE = ROOT / "nix" / "modules" / "orion-monitoring.nix"
PASSWORD = "rotated0password0of0thirty0two00"
KEY = "the0secret0key0grafana0was0made0"

# Grafana's CLI as the stand-in: it records its arguments and its stdin, and fails if asked to.
FAKE_GRAFANA = """#!/bin/bash
printf '%s\\n' "$@" > "$CALLS/args"
cat > "$CALLS/stdin"
exit "${FAIL:-0}"
"""


@dataclass(frozen=True)
class Run:
    status: int
    output: str
    args: list[str] | None
    stdin: str | None
    record: str | None


def run(tmp_path: Path, *, database: bool, record: str | None = None, key: str = KEY, fail: bool = False) -> Run:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "grafana-admin-password").write_text(PASSWORD)
    (credentials / "grafana-secret-key").write_text(key)
    home = tmp_path / "grafana"
    (home / "data").mkdir(parents=True)
    database_path = home / "data" / "grafana.db"
    if database:
        database_path.write_bytes(b"SQLite format 3\x00")
    if record is not None:
        Path(f"{database_path}.secret-key.sha256").write_text(record)
    calls = tmp_path / "calls"
    calls.mkdir()
    grafana = fake_program(tmp_path, "grafana-bin", FAKE_GRAFANA)
    script = tmp_path / "orion-grafana"
    script.write_text(
        shell_application(
            SCRIPT.read_text(),
            runtime_env={
                "GRAFANA": str(grafana),
                "GRAFANA_HOME": str(home),
                "GRAFANA_CONFIG": "/nix/store/0000000000000000000000000000000-config.ini",
                "GRAFANA_DATABASE": str(database_path),
                "ADMIN_PASSWORD_FILE": str(credentials / "grafana-admin-password"),
                "SECRET_KEY_FILE": str(credentials / "grafana-secret-key"),
            },
        )
    )
    done = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "CALLS": str(calls), "FAIL": "1" if fail else "0"},
    )
    recorded = Path(f"{database_path}.secret-key.sha256")
    return Run(
        done.returncode,
        done.stdout + done.stderr,
        (calls / "args").read_text().splitlines() if (calls / "args").exists() else None,
        (calls / "stdin").read_text() if (calls / "stdin").exists() else None,
        recorded.read_text().strip() if recorded.exists() else None,
    )


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@pytest.mark.programs
def test_an_existing_database_gets_the_credentials_password_from_stdin(tmp_path: Path) -> None:
    done = run(tmp_path, database=True, record=fingerprint(KEY))
    assert done.status == 0, done.output
    assert done.args == [
        "cli",
        "--homepath",
        str(tmp_path / "grafana"),
        "--config",
        "/nix/store/0000000000000000000000000000000-config.ini",
        "admin",
        "reset-admin-password",
        "--password-from-stdin",
    ]
    assert done.stdin == PASSWORD
    assert PASSWORD not in "\n".join(done.args)
    assert PASSWORD not in done.output


@pytest.mark.programs
def test_a_new_database_is_left_to_grafana_with_the_key_recorded(tmp_path: Path) -> None:
    """No database yet: Grafana creates it with admin_password (the credential) and the key; the CLI, which finds
    no admin to reset, is not run."""
    done = run(tmp_path, database=False)
    assert (done.status, done.args, done.record) == (0, None, fingerprint(KEY)), done.output
    assert KEY not in done.output


@pytest.mark.programs
def test_a_database_from_before_the_check_records_its_key_and_resets(tmp_path: Path) -> None:
    done = run(tmp_path, database=True)
    assert (done.status, done.record, done.stdin) == (0, fingerprint(KEY), PASSWORD), done.output


@pytest.mark.programs
def test_a_changed_secret_key_stops_grafana_before_it_starts(tmp_path: Path) -> None:
    done = run(tmp_path, database=True, record=fingerprint(KEY), key="another0key0made0by0a0replaced00")
    assert done.status != 0
    assert "not the one its database was made with" in done.output
    assert (done.args, done.record) == (None, fingerprint(KEY))


@pytest.mark.programs
def test_a_failing_reset_fails_the_start(tmp_path: Path) -> None:
    done = run(tmp_path, database=True, record=fingerprint(KEY), fail=True)
    assert done.status != 0
    assert "the admin's password is the one" not in done.output


def test_the_grafana_unit_runs_it_before_its_server_with_the_servers_own_paths() -> None:
    """Wired as the unit's ExecStartPre (after the module's own), given the server's -homepath and -config, the
    database path and the two credentials the settings name; the text of the server's command line is the nixpkgs
    module's (an assertion in the module compares the two when NixOS evaluates it)."""
    module = MODULE.read_text()
    values = module_values(module)
    assert ("systemd", "services", "grafana", "serviceConfig", "ExecStartPre") in values
    assert re.search(r"ExecStartPre = lib\.mkAfter \[ \(lib\.getExe grafanaSecrets\) \];", module)
    (application,) = [app for app in shell_applications() if app.name == "orion-grafana"]
    assert application.text_file == SCRIPT
    read = set(re.findall(r"\$\{?([A-Z_]+)\b", SCRIPT.read_text()))
    assert (
        set(application.runtime_env)
        == read
        == {
            "GRAFANA",
            "GRAFANA_HOME",
            "GRAFANA_CONFIG",
            "GRAFANA_DATABASE",
            "ADMIN_PASSWORD_FILE",
            "SECRET_KEY_FILE",
        }
    )
    # The same files the settings hand Grafana ($__file{...}), and the server's own home path and config file.
    assert 'admin_password = "$__file{${host.grafana.admin_password_file}}";' in module
    assert "ADMIN_PASSWORD_FILE = host.grafana.admin_password_file;" in module
    assert "SECRET_KEY_FILE = host.grafana.secret_key_file;" in module
    server = '"${lib.getExe grafana.package} server -homepath ${grafana.dataDir} -config ${grafanaIni}"'
    assert f"grafanaServer = {server};" in module
    assert "GRAFANA_HOME = grafana.dataDir;" in module
    assert "GRAFANA_CONFIG = grafanaIni;" in module
