"""Every shell script ORION ships passes shellcheck the way it will be checked where it runs: the scripts NixOS
installs with writeShellApplication as the script that builder writes (its prelude and runtimeEnv, at shellcheck's
default severity, as nixpkgs runs it), and every command a Command resource runs as the whole command line it gets."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from orion_infra.lab.shell_application import shell_application
from orion_infra.model import RawConfig
from tests.keys import private_key
from tests.pulumi_harness import PulumiUp, Registration
from tests.render.checkers import require
from tests.test_program import SECRETS

ROOT = Path(__file__).resolve().parents[2]
NIX_FILES = sorted([ROOT / "flake.nix", *(ROOT / "nix").rglob("*.nix")])
AGENT_KEY = private_key("agent")


@dataclass(frozen=True)
class ShellApplication:
    """One `pkgs.writeShellApplication { ... }` of a NixOS module."""

    where: str
    name: str
    text_file: Path
    runtime_env: tuple[str, ...]


def _block(text: str, start: int) -> str:
    """The `{ ... }` that opens at or after `start`, braces balanced."""
    opening = text.index("{", start)
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[opening : index + 1]
    raise ValueError("unbalanced braces")


def shell_applications() -> list[ShellApplication]:
    found = []
    for nix_file in NIX_FILES:
        text = nix_file.read_text()
        for match in re.finditer(r"writeShellApplication\s*\{", text):
            block = _block(text, match.start())
            where = f"{nix_file.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
            name = re.search(r'name = "([^"]+)";', block)
            source = re.search(r"text = builtins\.readFile (\S+);", block)
            # Inline text would hide its Nix interpolations from shellcheck: scripts live in files.
            assert name is not None, f"{where}: no name"
            assert source is not None, f"{where}: text must be `builtins.readFile FILE`"
            env = re.search(r"runtimeEnv\s*=\s*\{([^}]*)\}", block)
            names = re.findall(r"(\w+)\s*=", env.group(1)) if env else re.findall(r"runtimeEnv\.(\w+)\s*=", block)
            found.append(
                ShellApplication(where, name.group(1), (nix_file.parent / source.group(1)).resolve(), tuple(names))
            )
    return found


def shellcheck(text: str, shell: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    require("shellcheck")
    script = tmp_path / "script"
    script.write_text(text)
    return subprocess.run(["shellcheck", f"--shell={shell}", str(script)], capture_output=True, text=True, check=False)


def as_installed(application: ShellApplication) -> str:
    return shell_application(
        application.text_file.read_text(),
        path=["/nix/store/0000000000000000000000000000000-runtime-inputs/bin"],
        runtime_env={
            name: f"/nix/store/0000000000000000000000000000000-{name.lower()}" for name in application.runtime_env
        },
    )


def test_every_nix_script_is_found() -> None:
    names = {application.name for application in shell_applications()}
    assert names == {"orion-trial", "orion-restart-bgp", "orion-agent", "orion-host-key", "orion-grafana"}


@pytest.mark.parametrize("application", shell_applications(), ids=lambda application: application.where)
@pytest.mark.programs
def test_each_shell_application_passes_shellcheck(application: ShellApplication, tmp_path: Path) -> None:
    checked = shellcheck(as_installed(application), "bash", tmp_path)
    assert checked.returncode == 0, checked.stdout


@pytest.mark.programs
def test_the_check_is_the_one_nixpkgs_runs(tmp_path: Path) -> None:
    """orion-trial's earlier watchdog (`setsid sh -c '...'`) is an info-level finding, SC2016, and failed the
    build of the router and the base image: the check here fails on it too."""
    old_watchdog = 'dir=/run\nsetsid sh -c \'\n  sleep "$1"\n\' watchdog 3 "$dir" &\n'
    checked = shellcheck(shell_application(old_watchdog), "bash", tmp_path)
    assert checked.returncode != 0
    assert "SC2016" in checked.stdout


# The command lines a Command resource (pulumi-command, local and remote) can carry: the one it runs when it is
# created, when its inputs change, and when it is deleted or replaced.
COMMAND_LINES = ("create", "update", "delete")


def command_lines(registrations: list[Registration]) -> dict[str, str]:
    """Every command line the Command resources among `registrations` carry, by `RESOURCE:WHEN` (WHEN one of
    COMMAND_LINES)."""
    return {
        f"{registration.name}:{when}": registration.inputs[when]
        for registration in registrations
        if registration.type in ("command:local:Command", "command:remote:Command")
        for when in COMMAND_LINES
        if registration.inputs.get(when)
    }


def commands(pulumi_up: PulumiUp, default_raw: RawConfig) -> dict[str, str]:
    """Every command line a Command resource of the default stack carries (with the agent's key, so that every
    kind of step is there), by `RESOURCE:WHEN`."""
    access = {**default_raw.values["access"], "agent_key": {"secret": "sshAgentKey"}}  # type: ignore[dict-item]
    run = pulumi_up({**default_raw.values, "access": access}, {**SECRETS, "sshAgentKey": AGENT_KEY})
    assert run.error is None, run.log
    return command_lines(run.registrations)


def shellcheck_findings(lines: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """shellcheck's findings on each command line that has any, by its name. Local commands run under /bin/sh;
    remote ones under the admin's (or root's) login shell: checked as POSIX sh, which holds for both."""
    findings = {}
    for name, line in lines.items():
        checked = shellcheck(line, "sh", tmp_path)
        if checked.returncode != 0:
            findings[name] = checked.stdout
    return findings


@pytest.mark.programs
def test_every_command_a_resource_runs_passes_shellcheck(
    pulumi_up: PulumiUp, default_raw: RawConfig, tmp_path: Path
) -> None:
    lines = commands(pulumi_up, default_raw)
    assert {
        "orion-router-config-trial:create",
        "orion-monitor-config-confirm:create",
        "nixos-base-image:create",
    } <= set(lines)
    # The steps that undo something when their resource goes: the trust anchor, the API token, a VM's snippet.
    deletes = {name.rsplit(":", 1)[0] for name in lines if name.endswith(":delete")}
    assert {
        "orion-pve-proxmox-api-trust",
        "orion-pve-proxmox-api-token",
        "orion-router-first-boot-data",
        "orion-monitor-first-boot-data",
    } <= deletes, sorted(deletes)
    assert shellcheck_findings(lines, tmp_path) == {}


@pytest.mark.programs
def test_a_command_with_a_finding_fails(tmp_path: Path) -> None:
    assert shellcheck("set -eu\nrm -rf $DIR/*\n", "sh", tmp_path).returncode != 0


@pytest.mark.programs
def test_a_broken_delete_or_update_line_is_caught(tmp_path: Path) -> None:
    """Not only what a resource runs when it is created: what it runs when it changes or goes is checked too."""
    command = Registration(
        type="command:remote:Command",
        name="orion-pve-api-token",
        urn="",
        parent="",
        dependencies=[],
        inputs={"create": "set -eu\necho made\n", "update": "rm -rf $DIR/*\n", "delete": 'if [ -n "$X" ]; then\n'},
        secret_inputs=frozenset(),
        custom=True,
        protect=False,
        additional_secret_outputs=[],
        import_id="",
        provider="",
        replace_with=[],
    )
    lines = command_lines([command])
    assert set(lines) == {"orion-pve-api-token:create", "orion-pve-api-token:update", "orion-pve-api-token:delete"}
    assert set(shellcheck_findings(lines, tmp_path)) == {"orion-pve-api-token:update", "orion-pve-api-token:delete"}


def shell_scripts() -> list[Path]:
    """The repository's other shell scripts: executables with a sh or bash shebang."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = []
    for name in tracked.split():
        path = ROOT / name
        if path.suffix == "" and path.is_file():
            first = path.read_text(errors="replace").split("\n", 1)[0]
            if re.match(r"#!\s*/(usr/)?bin/(env )?(ba)?sh\b", first):
                found.append(path)
    return found


@pytest.mark.parametrize("path", shell_scripts(), ids=lambda path: str(path.relative_to(ROOT)))
@pytest.mark.programs
def test_every_shell_script_passes_shellcheck(path: Path, tmp_path: Path) -> None:
    shell = "bash" if "bash" in path.read_text().split("\n", 1)[0] else "sh"
    checked = shellcheck(path.read_text(), shell, tmp_path)
    assert checked.returncode == 0, checked.stdout
