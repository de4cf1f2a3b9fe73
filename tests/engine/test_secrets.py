"""Secrets as the README tells operators to set them, with the real Pulumi CLI: what it writes, what `orion validate
--require-secrets` makes of its stack file, what it gives back, and what the stack's state holds."""

from __future__ import annotations

import contextvars
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pulumi.runtime import config as runtime_config

from orion_infra import program
from orion_infra.cli import main
from orion_infra.components.scripts import shell_command
from orion_infra.model import RawConfig, load_stack, read_stack_file
from tests.engine.checks import leaks, not_ciphertext, plaintext_hits
from tests.engine.conftest import ROOT, STACK, EngineProject

# The secrets the README's "Secrets" section lists for the default stack (proxmoxRootPassword only with
# proxmox.install: false, which the default stack does not have).
README_SECRETS = {
    "idracPassword",
    "bgpPasswordHePrimary",
    "bgpPasswordHeSecondary",
    "bgpPasswordHeTertiary",
    "sshDeployKey",
}


def validate(project: EngineProject) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", "--require-secrets", "--stack-file", str(project.stack_file)])
    return result.exit_code, result.stdout, result.stderr


def unlocated(line: str, stack_file: Path) -> str:
    """A line of `orion validate` without its `<file>:<line>: ` (the CLI rewrites the file: lines move)."""
    prefix, _, rest = line.partition(": ")
    file, _, number = prefix.rpartition(":")
    return rest if file == str(stack_file) and number.isdigit() else line


def test_every_secret_is_stored_only_as_ciphertext(
    engine_project: EngineProject, stack_secrets: dict[str, str]
) -> None:
    assert set(stack_secrets) == README_SECRETS
    assert not_ciphertext(engine_project.stack_file, stack_secrets) == []
    roots = (engine_project.directory, engine_project.backend, engine_project.home)
    assert plaintext_hits(roots, stack_secrets) == []
    # The CLI rewrites the whole stack file (it drops blank lines and joins wrapped flow mappings onto one line) and
    # adds `encryptionsalt`: the configuration it holds is the same.
    assert read_stack_file(engine_project.stack_file).values == read_stack_file(ROOT / f"Pulumi.{STACK}.yaml").values
    assert "encryptionsalt" in yaml.safe_load(engine_project.stack_file.read_text())


def test_config_get_returns_each_value(engine_project: EngineProject, stack_secrets: dict[str, str]) -> None:
    for key, value in stack_secrets.items():
        # `config get` prints the value and a newline, and exits 0: what `orion idrac` reads.
        assert engine_project.ok("config", "get", key) == value.rstrip("\n") + "\n"
        stored = json.loads(engine_project.ok("config", "get", key, "--json"))
        # A value read from stdin loses its trailing newlines (unless --raw): the private key file ends with one,
        # the stored key does not.
        assert stored == {"value": value.rstrip("\n"), "secret": True}
    assert stack_secrets["sshDeployKey"].endswith("\n")
    missing = engine_project.pulumi("config", "get", "noSuchKey")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert "configuration key 'noSuchKey' not found for stack 'orion'" in missing.stderr


def test_validate_require_secrets_passes_on_the_cli_file_and_names_a_removed_secret(
    engine_project: EngineProject, stack_secrets: dict[str, str]
) -> None:
    code, out, err = validate(engine_project)
    assert (code, out) == (0, f"{engine_project.stack_file}: valid (1 host(s), 3 VMs, 3 BGP peers)\n"), err
    assert all(line.startswith("warning: ") for line in err.splitlines())
    engine_project.ok("config", "rm", "bgpPasswordHeTertiary")
    code, out, err = validate(engine_project)
    assert (code, out) == (1, "")
    assert [unlocated(line, engine_project.stack_file) for line in err.splitlines()] == [
        "bgp.peers[2].password: secret bgpPasswordHeTertiary is not set; "
        "set it with `pulumi config set --secret bgpPasswordHeTertiary` (it prompts for the value) or `... --secret bgpPasswordHeTertiary < FILE`",
        f"{engine_project.stack_file}: 1 problem(s)",
    ]
    assert leaks(out + err, stack_secrets) == []


def test_a_secret_set_without_secret_is_caught(engine_project: EngineProject, stack_secrets: dict[str, str]) -> None:
    """The operator forgets --secret. The CLI refuses only a value that looks random under a key named like a
    password (pass, secret, token...): it stores a guessable password, and any value of sshDeployKey, in plain
    text. ORION's checks catch both."""
    refused = engine_project.pulumi("config", "set", "bgpPasswordHePrimary", stdin="Xq9-hE7pRimary-Bgp")
    assert refused.returncode == 1
    assert "looks like a secret; rerun with --secret to encrypt it, or --plaintext" in refused.stderr
    plain = {"idracPassword": "calvin-factory", "sshDeployKey": stack_secrets["sshDeployKey"]}
    for key, value in plain.items():
        engine_project.ok("config", "set", key, stdin=value)
    assert not_ciphertext(engine_project.stack_file, stack_secrets) == [
        "orion:idracPassword: not stored as `secure:` ciphertext",
        "orion:sshDeployKey: not stored as `secure:` ciphertext",
    ]
    stack_file = engine_project.stack_file
    assert plaintext_hits([engine_project.directory], plain) == [
        f"{stack_file}: idracPassword",
        f"{stack_file}: sshDeployKey",
    ]
    code, _, err = validate(engine_project)
    assert code == 1
    for key, where in (("idracPassword", "hosts[0].idrac.password"), ("sshDeployKey", "access.deploy_key")):
        assert (
            f"{key}: holds a plain value but {where} needs it secret; "
            f"set it with `pulumi config set --secret {key}` (it prompts for the value) or `... --secret {key} < FILE` (the plain value is not shown)"
        ) in [unlocated(line, engine_project.stack_file) for line in err.splitlines()]
    assert leaks(err, plain) == []


def test_the_plaintext_scan_finds_a_value_anywhere(
    engine_project: EngineProject, stack_secrets: dict[str, str]
) -> None:
    with engine_project.stack_file.open("a") as stack_file:
        stack_file.write(f"# {stack_secrets['bgpPasswordHeSecondary']}\n")
    key_line = stack_secrets["sshDeployKey"].splitlines()[2]
    (engine_project.backend / "notes.json").write_text(json.dumps({"key": f"...\\n{key_line}\\n..."}))
    assert plaintext_hits([engine_project.directory, engine_project.backend], stack_secrets) == [
        f"{engine_project.stack_file}: bgpPasswordHeSecondary",
        f"{engine_project.backend / 'notes.json'}: sshDeployKey",
    ]


def test_the_values_the_cli_hands_to_the_program_pass_its_checks(
    engine_project: EngineProject, stack_secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The program reads its config as the language host hands it over (PULUMI_CONFIG, objects as JSON text,
    PULUMI_CONFIG_SECRET_KEYS): here, what the real CLI decrypts (`pulumi config --json --show-secrets`)."""
    listed = json.loads(engine_project.ok("config", "--json", "--show-secrets"))
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({key: entry["value"] for key, entry in listed.items()}))
    monkeypatch.setenv(
        "PULUMI_CONFIG_SECRET_KEYS", json.dumps([key for key, entry in listed.items() if entry["secret"]])
    )

    def read() -> RawConfig:
        # What the SDK's pulumi-language-python-exec does with them before it runs the program.
        runtime_config.set_all_config(runtime_config.get_config_env(), runtime_config.get_config_secret_keys_env())
        return program.read_config()

    raw = contextvars.copy_context().run(read)
    assert raw.secret_values == {key: value.rstrip("\n") for key, value in stack_secrets.items()}
    stack, _ = load_stack(raw, require_secrets=True)
    assert [host.idrac.password.secret for host in stack.hosts] == ["idracPassword"]


def test_the_deploy_key_as_the_cli_stores_it_gives_its_public_half(
    engine_project: EngineProject, stack_secrets: dict[str, str], tmp_path: Path
) -> None:
    stored = json.loads(engine_project.ok("config", "get", "sshDeployKey", "--json"))["value"]
    key_file = tmp_path / "deploy-key"
    key_file.touch(mode=0o600)
    key_file.write_text(stack_secrets["sshDeployKey"])
    expected = subprocess.run(["ssh-keygen", "-y", "-f", str(key_file)], capture_output=True, text=True, check=True)
    # The command the program's deploy-public-key resource runs, with the stored value as its stdin.
    derived = subprocess.run(
        ["/bin/sh", "-c", shell_command("public-key.sh")], input=stored, capture_output=True, text=True, check=False
    )
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.strip() == expected.stdout.strip()


def test_the_stack_state_holds_no_secret_in_plain_text(
    engine_project: EngineProject, stack_secrets: dict[str, str]
) -> None:
    exported = engine_project.ok("stack", "export")
    deployment = json.loads(exported)["deployment"]
    assert deployment["secrets_providers"]["type"] == "passphrase"
    salt = yaml.safe_load(engine_project.stack_file.read_text())["encryptionsalt"]
    assert deployment["secrets_providers"]["state"] == {"salt": salt}
    assert leaks(exported, stack_secrets) == []
    # A secret output, as `pulumi up` records the rotated iDRAC password: encrypted in the state and its export.
    rotated = {"rotatedIdrac": "Rotated-Pw-0123"}
    engine_project.import_outputs(
        {"credentials": {"idrac_root": {"orion-pve": rotated["rotatedIdrac"]}}}, ["credentials"]
    )
    exported = engine_project.ok("stack", "export")
    credentials = json.loads(exported)["deployment"]["resources"][0]["outputs"]["credentials"]
    assert str(credentials["ciphertext"]).startswith("v1:")
    assert leaks(exported, rotated) == []
    assert plaintext_hits([engine_project.directory, engine_project.backend, engine_project.home], rotated) == []
    # The check sees it where it is in plain text.
    assert leaks(engine_project.ok("stack", "export", "--show-secrets"), rotated) == ["rotatedIdrac"]
