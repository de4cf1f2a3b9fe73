"""`orion validate` and `orion schema`, as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from orion_infra.cli import main
from tests.fake_pulumi import fake_pulumi
from tests.fixtures.invalid_cases import INVALID_DIR


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_the_default_stack(default_stack_file: Path) -> None:
    code, out, err = invoke("validate", "--stack-file", str(default_stack_file))
    assert code == 0
    assert out == f"{default_stack_file}: valid (1 host(s), 3 VMs, 3 BGP peers)\n"
    assert all(line.startswith("warning: ") for line in err.splitlines())


def test_validate_reads_pulumi_orion_yaml_by_default(default_stack_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(default_stack_file.parent)
    assert invoke("validate")[0] == 0


def test_validate_prints_one_line_per_problem_and_fails() -> None:
    code, out, err = invoke(
        "validate", "--stack-file", str(INVALID_DIR / "contradiction-2-router-mgmt-on-lan-bridge.yaml")
    )
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "vms.router.nics[3].ipv4: 192.168.1.1 is outside 192.168.100.0/24, the subnet of the lan network on vmbr1",
        "vms.router.nics: the router has no NIC on the management network",
        f"{INVALID_DIR / 'contradiction-2-router-mgmt-on-lan-bridge.yaml'}: 2 problem(s)",
    ]


def test_validate_never_prints_a_plain_secret() -> None:
    code, _, err = invoke("validate", "--stack-file", str(INVALID_DIR / "default-credential-in-plain-text.yaml"))
    assert code == 1
    assert "calvin" not in err
    assert "pulumi config set --secret" in err


def test_require_secrets_turns_unset_secrets_into_errors(default_stack_file: Path) -> None:
    code, _, err = invoke("validate", "--stack-file", str(default_stack_file), "--require-secrets")
    assert code == 1
    assert "hosts[0].idrac.password: secret idracPassword is not set" in err


def test_a_missing_stack_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke("validate", "--stack-file", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "does not exist" in err


def test_the_committed_schema_is_current() -> None:
    """Editors read docs/stack-file.schema.json (see the stack file's first line); `make fixtures` renews it."""
    committed = Path(__file__).resolve().parents[1] / "docs" / "stack-file.schema.json"
    assert json.loads(committed.read_text()) == json.loads(invoke("schema")[1])


def test_schema_accepts_the_default_stack_file(default_stack_file: Path) -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(default_stack_file.read_text()), schema)


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (("orion:dns", "orion:dnz"), "'orion:dnz'"),
        (("password: {secret: idracPassword}", "password: calvin"), "calvin"),
        (("speed_gbps: 1,", "speed_gbps: 2,"), "2"),
    ],
)
def test_schema_rejects_what_the_model_rejects(default_stack_file: Path, edit: tuple[str, str], complaint: str) -> None:
    schema = json.loads(invoke("schema")[1])
    broken = yaml.safe_load(default_stack_file.read_text().replace(*edit, 1))
    with pytest.raises(jsonschema.ValidationError, match=complaint):
        jsonschema.validate(broken, schema)


def test_orion_agent_score_writes_a_score_per_row(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n" + "".join(f"2014-04-01 00:{m:02d}:00,{m % 7}\n" for m in range(60)))
    result = CliRunner().invoke(main, ["agent", "score", str(source), str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0] == "timestamp,value,anomaly_score"
    assert len(rows) == len(source.read_text().splitlines())
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2014-04-01 00:00:00,not-a-number\n")
    failed = CliRunner().invoke(main, ["agent", "score", str(bad), str(tmp_path / "bad-out.csv")])
    assert failed.exit_code != 0
    assert "not-a-number" in failed.output


ANCHOR = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KNOWN_HOSTS = ["192.168.1.10 ssh-ed25519 AAAAnode", "192.168.1.1 ssh-ed25519 AAAArouter"]
RECORDED = {"proxmox_api_ca": {"orion-pve": ANCHOR}, "ssh_known_hosts": KNOWN_HOSTS}


def a_stack_file(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stack_file = directory / "Pulumi.orion.yaml"
    stack_file.write_text("config: {}\n")
    return stack_file


def test_trust_writes_the_recorded_api_anchors_and_known_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack_file = a_stack_file(tmp_path)
    pulumi = fake_pulumi(tmp_path, stack_file, outputs={"trust": RECORDED})
    monkeypatch.setenv("PATH", pulumi.path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["trust", "--known-hosts", "known_hosts"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".orion/trust/orion-pve.pem").read_text() == ANCHOR
    assert (tmp_path / "known_hosts").read_text().splitlines() == KNOWN_HOSTS
    assert f"export SSL_CERT_DIR={tmp_path / '.orion/trust'}" in result.output
    assert pulumi.calls() == [["stack", "output", "trust", "--json", "--cwd", str(tmp_path), "--stack", "orion"]]


def test_trust_writes_beside_the_stack_file_whatever_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program reads <project dir>/.orion/trust (it runs there): `orion trust --stack-file` from elsewhere
    writes there too, and the export line names that directory."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    stack_file = a_stack_file(project)
    elsewhere.mkdir()
    monkeypatch.setenv("PATH", fake_pulumi(tmp_path, stack_file, outputs={"trust": RECORDED}).path)
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(main, ["trust", "--stack-file", "../project/Pulumi.orion.yaml"])
    assert result.exit_code == 0, result.output
    assert (project / ".orion/trust/orion-pve.pem").read_text() == ANCHOR
    assert not (elsewhere / ".orion").exists()
    assert result.output.splitlines() == [
        f"{project / '.orion/trust/orion-pve.pem'}: the API anchor of orion-pve",
        f"export SSL_CERT_DIR={project / '.orion/trust'}",
    ]


def test_trust_without_a_recorded_output_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_pulumi(tmp_path, a_stack_file(tmp_path)).path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["trust"])
    assert result.exit_code == 1
    assert "the stack has no `trust` output yet: run `pulumi up` first" in result.output
    assert not (tmp_path / ".orion").exists()


@pytest.mark.parametrize("cli", ["missing", "failing"])
def test_trust_gives_the_reason_when_the_cli_cannot_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: str
) -> None:
    """Not "run `pulumi up` first" when the CLI is not installed or fails: what is wrong."""
    stack_file = a_stack_file(tmp_path)
    reason = "error: no stack named 'orion' found"
    path = str(tmp_path / "empty") if cli == "missing" else fake_pulumi(tmp_path, stack_file, error=reason).path
    monkeypatch.setenv("PATH", path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["trust"])
    assert result.exit_code == 2
    assert "run `pulumi up` first" not in result.stderr
    if cli == "missing":
        assert "the stack's output trust needs the Pulumi CLI (`pulumi`), which is not installed" in result.stderr
    else:
        assert f"the Pulumi CLI could not read the stack's output trust: {reason}" in result.stderr
    assert not (tmp_path / ".orion").exists()
