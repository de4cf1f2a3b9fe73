"""nixos-rebuild in a lab machine, standing in where ORION relies on the real one, and as strict there: `build
--flake DIR#orion` as any user fails when that user cannot read the flake, when flake.lock pins no nixpkgs, when
host.json is not of its system's type or asks for another release than the lock pins (as flake.nix asserts), or
when a .nix file does not parse; it leaves ./result, a garbage collector root of the built system, in the current
directory, and the system is a real store path (the machine's Nix daemon adds it). `switch` (as root) also makes
it the boot default and switches to it. /etc/orion-lab/nixos-rebuild.json {"build_seconds": N} makes a build slow.

The built system holds the flake, host/ among it, its bin/switch-to-configuration (switch.py), and sw/bin with
orion-trial as writeShellApplication builds it from the flake's script, and this nixos-rebuild."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from orion_infra.lab import shell_application, systems
from orion_infra.model.releases import pinned_nixos_release
from orion_infra.render import host_data

PROFILE = "/nix/var/nix/profiles/system"
SETTINGS = Path("/etc/orion-lab/nixos-rebuild.json")
USAGE = "usage: nixos-rebuild {build,switch} --flake PATH#orion"


class BuildError(Exception):
    pass


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as error:
        raise BuildError(f"cannot read {path}: {error.strerror}") from None


def evaluate(flake: Path) -> host_data.System:
    """What evaluating `flake#orion` checks before anything is built."""
    try:
        is_directory = flake.is_dir()
    except OSError as error:
        raise BuildError(f"cannot read {flake}: {error.strerror}") from None
    if not is_directory:
        raise BuildError(f"path '{flake}' is not a flake (no such directory)")
    _read(flake / "flake.nix")
    lock = flake / "flake.lock"
    try:
        locked = json.loads(_read(lock))["nodes"]["nixpkgs"]["locked"]
    except (KeyError, ValueError):
        raise BuildError(f"{lock} locks no nixpkgs; refusing to resolve an unlocked input") from None
    if not locked.get("narHash"):
        raise BuildError(f"{lock}: the nixpkgs lock has no narHash")
    try:
        host = host_data.read(_read(flake / "host" / "host.json"))
    except ValueError as error:
        raise BuildError(f"{flake}/host/host.json: {error}") from None
    pinned = pinned_nixos_release(lock)
    if host.nixos_release != pinned:
        raise BuildError(f"host.json asks for NixOS {host.nixos_release}, but flake.lock pins {pinned}")
    _read(flake / "nix" / "hosts" / host.role / "configuration.nix")
    try:
        nix_files = sorted(flake.rglob("*.nix"))
    except OSError as error:
        raise BuildError(f"cannot read {flake}: {error.strerror}") from None
    for nix_file in nix_files:
        parsed = subprocess.run(
            ["nix-instantiate", "--parse", str(nix_file)], capture_output=True, text=True, check=False
        )
        if parsed.returncode != 0:
            raise BuildError(parsed.stderr.strip())
    return host


def build(flake: Path) -> str:
    host = evaluate(flake)
    if SETTINGS.exists():
        time.sleep(float(json.loads(SETTINGS.read_text()).get("build_seconds", 0)))
    name = getattr(host, "hostname", "base")
    with tempfile.TemporaryDirectory() as scratch:
        system = Path(scratch) / f"nixos-system-{name}-{host.nixos_release}"
        subprocess.run(["cp", "-r", str(flake), str(system)], check=True)
        shell_application.install(
            system / "bin" / "switch-to-configuration",
            'set -- "$(dirname "$(dirname "$(readlink -f "$0")")")" "$@"\n'
            + systems.python_module("orion_infra.lab.switch"),
        )
        shell_application.install(
            system / "sw" / "bin" / "orion-trial",
            _read(flake / "nix" / "scripts" / "orion-trial"),
            path=["/usr/bin", "/bin"],
        )
        (system / "sw" / "bin" / "nixos-rebuild").symlink_to(f"{systems.LAB_BIN}/nixos-rebuild")
        subprocess.run(["chmod", "-R", "a+rX", str(system)], check=True)
        env = {**os.environ, **({"NIX_REMOTE": "daemon"} if os.geteuid() else {})}
        added = subprocess.run(
            ["nix-store", "--add", str(system)], capture_output=True, text=True, env=env, check=False
        )
        if added.returncode != 0:
            raise BuildError(f"nix-store --add: {added.stderr.strip()}")
    path = added.stdout.strip()
    result = Path("result")
    result.unlink(missing_ok=True)
    result.symlink_to(path)
    return path


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] not in ("build", "switch") or argv[1] != "--flake" or "#" not in argv[2]:
        print(USAGE, file=sys.stderr)
        return 2
    action, reference = argv[0], argv[2]
    for flag in argv[3:]:
        # The flake flags ORION passes; anything else is refused, as the real parser does.
        if flag not in ("--no-update-lock-file", "--no-write-lock-file"):
            print(f"nixos-rebuild: error: unrecognized arguments: {flag}", file=sys.stderr)
            return 2
    path, attribute = reference.split("#", 1)
    if attribute != "orion":
        print(f"error: flake '{path}' does not provide attribute 'nixosConfigurations.{attribute}'", file=sys.stderr)
        return 1
    print("building the system configuration...", file=sys.stderr)
    try:
        system = build(Path(path))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return switch(system) if action == "switch" else 0


def switch(system: str) -> int:
    """The boot default, then the switch, as `nixos-rebuild switch` does after building."""
    if os.geteuid() != 0:
        print("error: switching needs root (run it with sudo)", file=sys.stderr)
        return 1
    subprocess.run(["nix-env", "--profile", PROFILE, "--set", system], check=True)
    return subprocess.run([f"{system}/bin/switch-to-configuration", "switch"], check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
