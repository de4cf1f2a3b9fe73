"""The real Pulumi CLI (`make engine` builds it into .engine/bin) on a temporary copy of the project: a local file
backend, a passphrase, a PULUMI_HOME of its own. Every CLI run a test makes is sealed in a network namespace of its
own (`unshare --net`); `orion idrac` runs in one with only a loopback, the emulated iDRAC beside it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orion_infra.cli_idrac import PASSWORD_VARIABLE
from orion_infra.model import read_stack_file
from orion_infra.model.loading import SECTIONS, secret_references
from orion_infra.model.problems import Location
from orion_infra.model.secret_values import value_problem
from tests.keys import private_key
from tests.sealing import seal

ROOT = Path(__file__).resolve().parents[2]
ENGINE_BIN = ROOT / ".engine" / "bin"
PULUMI = ENGINE_BIN / "pulumi"
STACK = "orion"
PASSPHRASE = "engine tests: a passphrase of their own"


@dataclass(frozen=True)
class Sealed:
    """What `orion idrac` did in its sealed namespace."""

    returncode: int
    stdout: str
    stderr: str
    seen: list[dict[str, Any]]
    """The requests the emulated iDRAC received."""
    interfaces: list[str]


@dataclass(frozen=True)
class EngineProject:
    """A copy of the project (Pulumi.yaml and the stack file) with the `orion` stack initialised by the real CLI."""

    directory: Path
    backend: Path
    home: Path
    env: dict[str, str]

    @property
    def stack_file(self) -> Path:
        return self.directory / f"Pulumi.{STACK}.yaml"

    def pulumi(
        self, *args: str, stdin: str = "", env: Mapping[str, str | None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The real CLI in the project directory, sealed; `stdin` is all it reads (never a terminal)."""
        environment = {**self.env, **(env or {})}
        return subprocess.run(
            [*seal(), str(PULUMI), *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.directory,
            env={name: value for name, value in environment.items() if value is not None},
            timeout=120,
            check=False,
        )

    def ok(self, *args: str, stdin: str = "") -> str:
        done = self.pulumi(*args, stdin=stdin)
        assert done.returncode == 0, f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout

    def set_secret(self, key: str, value: str) -> None:
        """As the README tells operators: `pulumi config set --secret KEY`, the value on stdin, never in argv."""
        self.ok("config", "set", "--secret", key, stdin=value)

    def import_outputs(self, outputs: Mapping[str, object], secret: Sequence[str] = ()) -> None:
        """Give the stack outputs as if `pulumi up` had exported them (`secret` ones as secrets): the real CLI
        imports the deployment on stdin and encrypts those with the stack's passphrase."""
        deployment = json.loads(self.ok("stack", "export"))
        values = {
            name: {
                "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                "plaintext": json.dumps(value),
            }
            if name in secret
            else value
            for name, value in outputs.items()
        }
        deployment["deployment"]["resources"] = [
            {
                "urn": f"urn:pulumi:{STACK}::orion::pulumi:pulumi:Stack::orion-{STACK}",
                "custom": False,
                "type": "pulumi:pulumi:Stack",
                "outputs": values,
            }
        ]
        self.ok("stack", "import", stdin=json.dumps(deployment))

    def orion_idrac(
        self,
        *args: str,
        idrac_password: str,
        state: Path,
        tls: tuple[Path, Path] | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> Sealed:
        """`orion idrac --endpoint <emulator> ARGS` in the project directory, with .engine/bin first on PATH and no
        ORION_IDRAC_PASSWORD, in a network namespace whose only interface is its loopback, where the emulated
        iDRAC 8 (accepting root/`idrac_password`, over HTTPS with `tls` = (cert, key) if given) runs too."""
        result = state.parent / f"{state.name}.result.json"
        spec = {
            "project": str(self.directory),
            "state": str(state),
            "idrac_password": idrac_password,
            "args": list(args),
            "tls": {"cert": str(tls[0]), "key": str(tls[1])} if tls else None,
        }
        environment = {**self.env, **(env or {})}
        done = subprocess.run(
            [
                *seal(),
                "sh",
                "-c",
                'ip link set lo up && exec "$@"',
                "sealed",
                sys.executable,
                "-m",
                "tests.engine.sealed_idrac",
                str(result),
            ],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={name: value for name, value in environment.items() if value is not None},
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"the sealed run failed ({done.returncode}):\n{done.stderr}"
        return Sealed(**json.loads(result.read_text()))


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The Pulumi CLI `make engine` builds; a missing one fails the tests (they are part of `make check`)."""
    if not os.access(PULUMI, os.X_OK):
        pytest.fail(f"{PULUMI} is missing: run `make engine` (it builds the Pulumi CLI from Go modules)", pytrace=False)
    missing = [tool for tool in ("unshare", "ip", "ssh-keygen") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make system-packages`", pytrace=False)
    return PULUMI


def engine_env(backend: Path, home: Path) -> dict[str, str]:
    """The environment of every CLI run: nothing of the caller's Pulumi settings or iDRAC password; a local
    backend, the passphrase, a private PULUMI_HOME, no update check, no plugin download; .engine/bin first on PATH."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PULUMI_") and name != PASSWORD_VARIABLE
    }
    return {
        **inherited,
        "PATH": f"{ENGINE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_HOME": str(home),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }


def new_project(root: Path) -> EngineProject:
    directory, backend, home = root / "project", root / "backend", root / "pulumi-home"
    for path in (directory, backend, home):
        path.mkdir()
    return EngineProject(directory, backend, home, engine_env(backend, home))


@pytest.fixture(scope="session")
def initialised_project(
    tmp_path_factory: pytest.TempPathFactory, pulumi_cli: Path
) -> tuple[EngineProject, dict[str, str]]:
    """Once per run, as the README tells operators, in a copy of the project (Pulumi.yaml and the stack file):
    `pulumi stack init orion`, then `pulumi config set --secret KEY` (the value on stdin) for every secret the
    default stack names. Returns the project and the values set (key -> value)."""
    project = new_project(tmp_path_factory.mktemp("engine"))
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml"):
        shutil.copy(ROOT / name, project.directory / name)
    project.ok("stack", "init", STACK)
    values: dict[str, str] = {}
    for key, loc in stack_secret_references(project.stack_file).items():
        values[key] = secret_value(key, loc)
        assert value_problem(loc, values[key]) is None, f"the test's value for {key} is not one the stack accepts"
        project.set_secret(key, values[key])
    return project, values


@pytest.fixture
def engine_project(tmp_path: Path, initialised_project: tuple[EngineProject, dict[str, str]]) -> EngineProject:
    """The test's own copy of the initialised project, its backend and PULUMI_HOME, the stack selected there."""
    template, _ = initialised_project
    project = new_project(tmp_path)
    for source, target in zip(
        (template.directory, template.backend, template.home),
        (project.directory, project.backend, project.home),
        strict=True,
    ):
        shutil.copytree(source, target, dirs_exist_ok=True)
    project.ok("stack", "select", STACK)
    return project


@pytest.fixture
def stack_secrets(initialised_project: tuple[EngineProject, dict[str, str]]) -> dict[str, str]:
    """The value of every secret the default stack names, as set in `engine_project` (key -> value)."""
    return dict(initialised_project[1])


def stack_secret_references(stack_file: Path) -> dict[str, Location]:
    """Every secret config key the stack file names (`{secret: key}`), with where it is first used."""
    raw = read_stack_file(stack_file)
    sections = {key: value for key, value in raw.values.items() if key in SECTIONS}
    found: dict[str, Location] = {}
    for loc, key in secret_references(sections):
        found.setdefault(key, loc)
    return found


def secret_value(key: str, loc: Location) -> str:
    """A fresh value of the kind the stack expects at `loc`: a private key for an SSH key, else a password."""
    if loc[-1] in ("deploy_key", "agent_key"):
        return private_key(f"engine-{key}")
    return f"{key[:6]}-{secrets.token_urlsafe(9)}"
