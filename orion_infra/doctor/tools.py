"""The programs `pulumi up` runs on the operator's machine (README, Quickstart step 1), found on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from orion_infra.doctor.findings import Finding, fail, ok, skip, warn

MINIMUM_NIX = (2, 18)
"""The NixOS base image is built with flakes and the images attribute as the pinned nixpkgs lays them out."""
_NIX_VERSION = re.compile(r"\(Nix\) (\d+)\.(\d+)(?:\.(\d+))?")
VERSION_SECONDS = 10.0


@dataclass(frozen=True)
class Tool:
    name: str
    why: str
    install: str


TOOLS: tuple[Tool, ...] = (
    Tool("pulumi", "runs the deployment", "install the Pulumi CLI: https://www.pulumi.com/docs/install/"),
    Tool("uv", "runs the program (Pulumi.yaml's toolchain)", "pip install uv (https://docs.astral.sh/uv/)"),
    Tool("nix", "builds the NixOS base image", "install Nix 2.18 or later: https://nixos.org/download/"),
    Tool(
        "proxmox-auto-install-assistant",
        "prepares the Proxmox installer",
        "apt install proxmox-auto-install-assistant, from Proxmox's repository",
    ),
    Tool("curl", "downloads the Proxmox ISO", "apt install curl"),
    Tool("sha256sum", "verifies the images", "apt install coreutils"),
    Tool("openssl", "makes the installer server's certificate", "apt install openssl"),
    Tool("ssh-keygen", "makes the nodes' and VMs' host keys", "apt install openssh-client"),
)
INSTALLER_TOOL = "proxmox-auto-install-assistant"


def tool_findings(installs_proxmox: bool) -> list[Finding]:
    """One finding per tool, looked up on PATH (the one `pulumi up` will run with, from the same shell)."""
    findings = []
    for tool in TOOLS:
        name = f"tool {tool.name}"
        if tool.name == INSTALLER_TOOL and not installs_proxmox:
            findings.append(skip(name, "no host has proxmox.install: true"))
            continue
        found = shutil.which(tool.name)
        if found is None:
            findings.append(fail(name, f"not on PATH; it {tool.why}", tool.install))
        elif tool.name == "nix":
            findings.append(nix_finding(found))
        else:
            findings.append(ok(name, found))
    return findings


def nix_finding(nix: str) -> Finding:
    name = "tool nix"
    upgrade = f"install Nix {MINIMUM_NIX[0]}.{MINIMUM_NIX[1]} or later: https://nixos.org/download/"
    try:
        done = subprocess.run(
            [nix, "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return fail(name, f"{nix} --version did not answer: {error}", upgrade)
    match = _NIX_VERSION.search(done.stdout)
    if done.returncode != 0 or match is None:
        said = (done.stdout or done.stderr).strip().splitlines()
        return warn(name, f"{nix} --version said {said[0] if said else 'nothing'!r}, not a Nix version", upgrade)
    version = (int(match.group(1)), int(match.group(2)))
    text = ".".join(part for part in match.groups() if part is not None)
    if version < MINIMUM_NIX:
        return fail(
            name, f"Nix {text} at {nix}; the NixOS base image needs {MINIMUM_NIX[0]}.{MINIMUM_NIX[1]} or later", upgrade
        )
    return ok(name, f"Nix {text} at {nix}")


def kvm_finding(device: str = "/dev/kvm") -> Finding:
    """The base image is assembled in a build VM (README, Quickstart step 1)."""
    name = "kvm"
    if not os.path.exists(device):
        return warn(
            name,
            f"{device} is missing: nix builds the NixOS image in an emulated VM (hours), unless a builder has KVM",
            "enable virtualisation (VT-x/AMD-V) and load kvm_intel or kvm_amd, or configure a Nix builder with kvm",
        )
    if not os.access(device, os.R_OK | os.W_OK):
        return warn(name, f"{device} is not readable and writable by this user", "add yourself to the kvm group")
    return ok(name, f"{device} usable")
