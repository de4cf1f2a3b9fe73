"""`orion validate` and `orion schema`, as an operator runs them."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from orion_infra.cli import COMMANDS, main
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
    """Each line names the file and the line of the field, as a compiler's do: editors jump to it."""
    path = INVALID_DIR / "contradiction-2-router-mgmt-on-lan-bridge.yaml"
    code, out, err = invoke("validate", "--stack-file", str(path))
    assert code == 1
    assert out == ""
    nic_line = line_number(path, "{name: mgmt, bridge: vmbr1,")
    nics_line = nic_line - 4  # the router's `nics:`
    assert path.read_text().splitlines()[nics_line - 1].strip() == "nics:"
    assert err.splitlines() == [
        f"{path}:{nic_line}: vms.router.nics[3].ipv4: 192.168.1.1 is outside 192.168.100.0/24, the subnet of the lan "
        "network on vmbr1",
        f"{path}:{nics_line}: vms.router.nics: the router has no NIC on the management network",
        f"{path}: 2 problem(s)",
    ]


def line_number(path: Path, text: str) -> int:
    """The line (from 1) of the only line of `path` that holds `text`."""
    found = [number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1
    return found[0]


def test_validate_json_lists_path_line_and_message_with_the_same_exit_status(default_stack_file: Path) -> None:
    path = INVALID_DIR / "contradiction-2-router-mgmt-on-lan-bridge.yaml"
    code, out, err = invoke("validate", "--json", "--stack-file", str(path))
    assert code == 1
    assert err == ""
    report = json.loads(out)
    assert report["file"] == str(path)
    assert report["valid"] is False
    assert report["problems"][0] == {
        "path": "vms.router.nics[3].ipv4",
        "line": line_number(path, "{name: mgmt, bridge: vmbr1,"),
        "column": None,
        "message": "192.168.1.1 is outside 192.168.100.0/24, the subnet of the lan network on vmbr1",
    }
    assert len(report["problems"]) == 2
    code, out, _ = invoke("validate", "--json", "--stack-file", str(default_stack_file))
    assert code == 0
    report = json.loads(out)
    assert (report["valid"], report["problems"]) == (True, [])
    assert {
        "path": "access.authorized_keys",
        "line": line_number(default_stack_file, "authorized_keys: []"),
        "column": None,
        "message": "no operator key; only the deploy key can log in to the NixOS VMs",
    } in report["warnings"]


def test_warnings_name_their_line_too(tmp_path: Path, default_stack_file: Path) -> None:
    path = tmp_path / "Pulumi.orion.yaml"
    path.write_text(default_stack_file.read_text() + "  orion:grafanaPassword: {secure: v1:abc}\n")
    code, _, err = invoke("validate", "--stack-file", str(path))
    assert code == 0
    warnings = err.splitlines()
    assert (
        f"warning: {path}:{line_number(path, 'authorized_keys: []')}: access.authorized_keys: no operator key; only the deploy key can log in to the NixOS VMs"
        in warnings
    )
    assert (
        f"warning: {path}:{line_number(path, 'orion:grafanaPassword')}: grafanaPassword: secret orion:grafanaPassword is set but nothing references it"
        in warnings
    )
    # Not a field of the stack file: no file and line of it.
    assert any(line.startswith("warning: flake.lock: ") for line in warnings)


def broken_yaml(directory: Path, default_stack_file: Path) -> tuple[Path, int]:
    """The default stack with a list left open on one line: the parser stops at the line after it."""
    lines = default_stack_file.read_text().splitlines(keepends=True)
    broken_at = next(number for number, line in enumerate(lines, 1) if line.strip() == "memory_gib: 384")
    lines.insert(broken_at, "      reserve_nics: [eno1\n")
    path = directory / "Pulumi.orion.yaml"
    path.write_text("".join(lines))
    return path, broken_at + 2


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "--stack-file", "FILE"],
        ["validate", "--json", "--stack-file", "FILE"],
        ["render", "--stack-file", "FILE", "--out", "OUT"],
        ["lab", "up", "--stack-file", "FILE"],
        ["idrac", "--stack-file", "FILE", "status"],
    ],
    ids=["validate", "validate-json", "render", "lab", "idrac"],
)
def test_a_yaml_syntax_error_is_one_line_naming_file_line_and_column(
    tmp_path: Path, default_stack_file: Path, command: list[str]
) -> None:
    """Was a 26-frame traceback from the YAML parser in every command, without the file's name."""
    path, line = broken_yaml(tmp_path, default_stack_file)
    given = {"FILE": str(path), "OUT": str(tmp_path / "out")}
    result = CliRunner().invoke(main, [given.get(part, part) for part in command])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    expected = f"{path}:{line}:"
    if "--json" in command:
        problem = json.loads(result.stdout)["problems"][0]
        assert (problem["path"], problem["line"]) == (None, line)
        assert "expected ',' or ']'" in problem["message"]
        assert result.exit_code == 1
        return
    located = [entry for entry in result.stderr.splitlines() if entry.startswith(expected)]
    assert len(located) == 1, result.stderr
    assert "expected ',' or ']'" in located[0]
    assert result.exit_code == 1  # a problem in the file, for idrac too (ADR 0036)
    assert not (tmp_path / "out").exists()


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


@pytest.mark.programs
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


@pytest.mark.programs
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


@pytest.mark.programs
def test_trust_without_a_recorded_output_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_pulumi(tmp_path, a_stack_file(tmp_path)).path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["trust"])
    assert result.exit_code == 1
    assert "the stack has no `trust` output yet: run `pulumi up` first" in result.output
    assert not (tmp_path / ".orion").exists()


@pytest.mark.parametrize("cli", ["missing", "failing"])
@pytest.mark.programs
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


def test_version_comes_from_the_package_metadata() -> None:
    code, out, _ = invoke("--version")
    assert code == 0
    assert out == f"orion, version {importlib.metadata.version('orion-infra')}\n"


def every_command(group: click.Group, ctx: click.Context) -> list[list[str]]:
    """The argument paths of every command and subcommand, from the group down."""
    found: list[list[str]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append([name])
        if isinstance(command, click.Group):
            found += [[name, *path] for path in every_command(command, click.Context(command, parent=ctx))]
    return found


ALL_COMMANDS = [[], *every_command(main, click.Context(main))]


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=[" ".join(path) or "orion" for path in ALL_COMMANDS])
def test_h_is_help_on_every_command(path: list[str]) -> None:
    if path:
        # Each command run on its own first, as its own tests run it: click keeps the help option a command makes
        # at its first use, so `-h` must come from the command itself, not only from `orion`.
        CliRunner().invoke(COMMANDS[path[0]].load(), ["--help"])
    short = CliRunner().invoke(main, [*path, "-h"])
    assert short.exit_code == 0, short.output
    assert short.output == CliRunner().invoke(main, [*path, "--help"]).output
    assert short.output.startswith(f"Usage: main {' '.join(path)}".rstrip())


def test_every_registered_summary_is_the_commands_own_short_help() -> None:
    """`orion --help` prints the registry's summaries without importing the commands; they must not drift."""
    for name, entry in COMMANDS.items():
        real = entry.load()
        stand_in = click.Command(name, help=entry.summary)
        for limit in (30, 45, 60, 80, 120, 1000):
            assert stand_in.get_short_help_str(limit) == real.get_short_help_str(limit), (name, limit)


def test_help_lists_every_command_with_its_summary() -> None:
    out = invoke("--help")[1]
    listed = out.partition("Commands:\n")[2].splitlines()
    assert [line.split()[0] for line in listed] == sorted(COMMANDS)
    assert "  validate  Check a stack file; print one line per problem, with its file..." in listed


def imported_after(*arguments: str) -> set[str]:
    """The modules a fresh `orion ARGUMENTS` process has imported when it is done."""
    script = (
        "import sys\nfrom orion_infra.cli import main\n"
        f"try:\n    main({list(arguments)!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stderr.splitlines())


@pytest.mark.programs
def test_help_imports_no_command() -> None:
    """`orion --help` took 0.9 s: every command's imports (Pulumi, requests, the agent) were loaded to list them."""
    modules = imported_after("--help")
    assert not {"pulumi", "requests", "jinja2", "pydantic", "yaml", "orion_agent"} & modules
    assert not {name for name in modules if name.startswith("orion_infra.") and name != "orion_infra.cli"} - {
        "orion_infra.cli_lazy",
        "orion_infra.cli_options",
    }


@pytest.mark.programs
def test_validate_imports_neither_pulumi_nor_requests_nor_jinja(default_stack_file: Path) -> None:
    modules = imported_after("validate", "--stack-file", str(default_stack_file))
    assert not {"pulumi", "requests", "jinja2", "orion_agent", "grafana_foundation_sdk", "cryptography"} & modules


@pytest.mark.programs
def test_python_m_orion_infra_cli_runs_the_cli(default_stack_file: Path) -> None:
    """Exited 0 doing nothing."""
    done = subprocess.run(
        [sys.executable, "-m", "orion_infra.cli", "validate", "--stack-file", str(default_stack_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{default_stack_file}: valid (1 host(s), 3 VMs, 3 BGP peers)\n"
    broken = subprocess.run(
        [sys.executable, "-m", "orion_infra.cli", "validate", "--stack-file", "/nonexistent.yaml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 2


def test_the_stack_file_may_be_given_before_the_command(
    default_stack_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no Pulumi.orion.yaml here
    code, out, _ = invoke("--stack-file", str(default_stack_file), "validate")
    assert (code, out) == (0, f"{default_stack_file}: valid (1 host(s), 3 VMs, 3 BGP peers)\n")
    broken = INVALID_DIR / "bogon-prefix.yaml"
    assert invoke("--stack-file", str(default_stack_file), "validate", "--stack-file", str(broken))[0] == 1
    code, _, err = invoke("validate")
    assert code == 2
    assert "'Pulumi.orion.yaml' does not exist" in err


def complete(words: str) -> list[str]:
    """What bash completion offers for the last of `words`, as the script `_ORION_COMPLETE=bash_source orion`
    prints asks it."""
    orion = Path(sys.executable).with_name("orion")
    environment = {"COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1), "_ORION_COMPLETE": "bash_complete"}
    done = subprocess.run([orion], env=environment, capture_output=True, text=True, check=True)
    return [line.partition(",")[2] for line in done.stdout.splitlines()]


@pytest.mark.programs
def test_shell_completion_offers_commands_and_their_options() -> None:
    assert complete("orion va") == ["validate"]
    assert complete("orion validate --j") == ["--json"]
    assert complete("orion idrac power-") == ["power-off", "power-on"]
    orion = Path(sys.executable).with_name("orion")
    script = subprocess.run([orion], env={"_ORION_COMPLETE": "bash_source"}, capture_output=True, text=True, check=True)
    assert "complete -o nosort -F _orion_completion orion" in script.stdout


# `pulumi config set --secret KEY` followed by anything but the end of the command, a redirection or a comment: a
# value on the command line, which lands in the shell's history and `ps`.
SECRET_ON_THE_COMMAND_LINE = re.compile(r"config set --secret +[^\s`'\"]+ +(?!<(?!\w+>)|[#(|`'\"]|\\$)\S")
REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.mark.programs  # git, for the tracked files
def test_no_hint_anywhere_puts_a_secret_on_the_command_line() -> None:
    # The decision records tell the history, the old hint included; this file shows it to the check.
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".", ":!docs/decisions", ":!tests/test_cli.py"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offending = [
        f"{name}:{number}: {line.strip()}"
        for name in tracked
        if name.endswith((".py", ".md", ".yaml", ".yml", ".json", ".sh", ".nix"))
        for number, line in enumerate((REPOSITORY / name).read_text(errors="replace").splitlines(), start=1)
        if SECRET_ON_THE_COMMAND_LINE.search(line) and "SECRET_ON_THE_COMMAND_LINE" not in line
    ]
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize(
    ("line", "puts_it_there"),
    [
        ("pulumi config set --secret idracPassword <value>", True),
        ("run `pulumi config set --secret KEY hunter2`", True),
        ("pulumi config set --secret idracPassword          # the iDRAC's current password", False),
        ("pulumi config set --secret sshDeployKey < ~/.ssh/orion_deploy", False),
        ("set it with `pulumi config set --secret bgpPassword` (it prompts for the value)", False),
    ],
)
def test_the_secret_hint_check_tells_a_value_from_a_prompt(line: str, puts_it_there: bool) -> None:
    assert bool(SECRET_ON_THE_COMMAND_LINE.search(line)) is puts_it_there
