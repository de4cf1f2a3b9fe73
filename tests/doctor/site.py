"""A site that passes every check, built in a temporary directory, and `orion doctor` run against it sealed.

The stack is the default one with serve_dir moved into the temporary directory; its addresses stay the stack's own
(192.168.1.x), because `orion doctor` runs in a network namespace of its own whose loopback holds the management
subnet: the iDRAC's and the Proxmox API's addresses, serve_url's host are the namespace's, and no packet can leave.
Each test breaks one thing of the healthy site and reads which check fails."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orion_infra.model import RawConfig, read_stack_file
from orion_infra.model.loading import secret_references
from orion_infra.trust import TRUST_DIR
from tests.fake_pulumi import FakePulumi, fake_pulumi
from tests.fixtures.invalid_cases import DEFAULT_STACK
from tests.redfish.emulator import self_signed_certificate
from tests.sealing import seal
from tests.stack_edits import edited

ROOT = Path(__file__).resolve().parents[2]
SERVE_ADDRESS = "192.168.1.50"
SERVE_PORT = 8080
IDRAC = "192.168.1.2"
PROXMOX = "192.168.1.10"
PROXMOX_PORT = 8006
MEDIA_PORT = 8443
MANAGEMENT = "192.168.1.50/24"
"""On the namespace's loopback, a /24 makes every address of the subnet the namespace's own."""
NIX_VERSION = "nix (Nix) 2.24.14"
TOOLS = ("uv", "nix", "proxmox-auto-install-assistant", "curl", "sha256sum", "openssl", "ssh-keygen")
IMAGES = {
    "orion-nixos-base.qcow2": b"qcow2 " * 1000,
    "opencore-osx-proxmox-vm.iso": b"opencore " * 700,
    "sequoia-recovery.img": b"recovery " * 900,
}


def tool_stub(bin_dir: Path, name: str, said: str = "") -> None:
    """A program of that name: it prints `said` and succeeds (the doctor looks tools up and asks nix its version)."""
    stub = bin_dir / name
    stub.write_text(f"#!/bin/sh\nprintf '%s\\n' '{said}'\n" if said else "#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)


@dataclass
class Site:
    root: Path
    project: Path
    serve_dir: Path
    web_root: Path
    tools: Path
    pulumi: FakePulumi
    cert: Path
    key: Path
    values: dict[str, Any]
    secret_keys: set[str]
    env: dict[str, str]
    addresses: list[str] = field(default_factory=lambda: [MANAGEMENT])
    web: bool = True
    listeners: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stack_file(self) -> Path:
        return self.project / "Pulumi.orion.yaml"

    def edit(self, *changes: tuple[tuple[str | int, ...], object]) -> None:
        self.values = dict(edited(RawConfig(values=self.values), *changes).values)
        self.write()

    def write(self) -> None:
        config: dict[str, object] = {f"orion:{key}": value for key, value in self.values.items()}
        config.update({f"orion:{key}": {"secure": "v1:c2VjcmV0"} for key in sorted(self.secret_keys)})
        self.stack_file.write_text(yaml.safe_dump({"encryptionsalt": "v1:c2FsdA==:v1:AAAA", "config": config}))

    def repulumi(self, **options: Any) -> None:
        self.pulumi = fake_pulumi(self.root / "pulumi", self.stack_file, **options)
        self.env["PATH"] = f"{self.pulumi.path}:{self.tools}"

    def doctor(self, *args: str, mode: str = "runner", env: Mapping[str, str | None] | None = None) -> Doctored:
        """`orion doctor --stack-file <the stack file> --json ARGS` in the sealed namespace."""
        result = self.root / "result.json"
        result.unlink(missing_ok=True)
        spec = {
            "ip": shutil.which("ip"),
            "addresses": self.addresses,
            "web": {"address": SERVE_ADDRESS, "port": SERVE_PORT, "root": str(self.web_root)} if self.web else None,
            "listeners": self.listeners,
            "mode": mode,
            "args": ["--stack-file", str(self.stack_file), *args],
        }
        environment = {**self.env, **(env or {})}
        done = subprocess.run(
            [*seal(), sys.executable, "-m", "tests.doctor.sealed_doctor", str(result)],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={name: value for name, value in environment.items() if value is not None},
            timeout=120,
            check=False,
        )
        assert result.exists(), f"the sealed run wrote nothing (exit {done.returncode}):\n{done.stderr}"
        return Doctored(**json.loads(result.read_text()))


@dataclass(frozen=True)
class Doctored:
    exit_code: int
    output: str
    errors: str
    seconds: float
    addresses: str

    @property
    def checks(self) -> dict[str, dict[str, str]]:
        """The findings by name (with --json)."""
        return {check["name"]: check for check in json.loads(self.output)["checks"]}

    def verdicts(self) -> dict[str, str]:
        return {name: check["verdict"] for name, check in self.checks.items()}

    def failed(self) -> list[str]:
        return [name for name, verdict in self.verdicts().items() if verdict == "fail"]


def healthy_site(root: Path) -> Site:
    """Every check passes: tools on PATH, logged in, the stack and its secrets, SSL_CERT_DIR, the images in
    serve_dir and served, the iDRAC's and the Proxmox API's TLS listeners at the stack's addresses."""
    project, serve_dir, tools = root / "project", root / "srv", root / "tools"
    for directory in (project, serve_dir, tools):
        directory.mkdir(parents=True)
    for name, content in IMAGES.items():
        (serve_dir / name).write_bytes(content)
    for name in TOOLS:
        tool_stub(tools, name, NIX_VERSION if name == "nix" else "")
    cert, key = self_signed_certificate(root, "site")
    raw = read_stack_file(DEFAULT_STACK)
    secret_keys = {key for _, key in secret_references(dict(raw.values))}
    site = Site(
        root=root,
        project=project,
        serve_dir=serve_dir,
        web_root=serve_dir,
        tools=tools,
        pulumi=FakePulumi(tools),
        cert=cert,
        key=key,
        values=dict(raw.values),
        secret_keys=secret_keys,
        env={
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "SSL_CERT_DIR": str(project / TRUST_DIR),
            "PULUMI_CONFIG_PASSPHRASE": "doctor tests",
            "PYTHONPATH": str(ROOT),
        },
        listeners=[
            {"address": IDRAC, "port": 443, "cert": str(cert), "key": str(key)},
            {"address": PROXMOX, "port": PROXMOX_PORT, "cert": str(cert), "key": str(key)},
        ],
    )
    site.edit((("bootstrap", "serve_dir"), str(serve_dir)))
    site.repulumi()
    return site
