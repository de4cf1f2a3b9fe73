"""Every NixOS option ORION's modules set is one whose declaration was read in nixpkgs (tests/nix/nixos_options.py),
or one of ORION's own; and that table holds nothing no module sets any more."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nix.nix_reader import module_config, module_options
from tests.nix.nixos_options import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "nix").rglob("*.nix"))


def _matches(key: str, path: tuple[str, ...]) -> bool:
    parts = key.split(".") if key != "boot.kernel.sysctl" else ["boot", "kernel", "sysctl"]
    return len(parts) <= len(path) and all(
        part in ("<name>", segment) for part, segment in zip(parts, path, strict=False)
    )


def declaration(path: tuple[str, ...]) -> str | None:
    """The table's key for `path`: the longest one it lies under."""
    keys = [key for key in OPTIONS if _matches(key, path)]
    return max(keys, key=lambda key: len(key.split(".")), default=None)


def set_options(source: str) -> list[tuple[str, ...]]:
    return module_config(source)


def orion_options() -> set[tuple[str, ...]]:
    return {path for module in MODULES for path in module_options(module.read_text())}


def undeclared(source: str) -> list[str]:
    """The options `source` sets that neither nixpkgs (as read) nor ORION's modules declare."""
    ours = orion_options()
    missing = []
    for path in set_options(source):
        if path[0] == "orion":
            if path not in ours:
                missing.append(".".join(path))
        elif declaration(path) is None:
            missing.append(".".join(path))
    return missing


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_option_a_module_sets_was_read_at_its_declaration(module: Path) -> None:
    assert set_options(module.read_text()), f"{module} sets nothing: the reader lost track of it"
    assert undeclared(module.read_text()) == []


def test_the_table_holds_only_what_is_set() -> None:
    used = {declaration(path) for module in MODULES for path in set_options(module.read_text())}
    # A free-form option's entry (nix.settings) stands above the declared keys set in it.
    above = {key for key in OPTIONS for deeper in used if deeper and deeper.startswith(f"{key}.")}
    assert set(OPTIONS) - used - above - {"orion"} == set()


def test_a_removed_or_unknown_option_is_caught() -> None:
    module = """{ config, lib, ... }: {
      config = lib.mkIf true {
        services.journald.extraConfig = "SystemMaxUse=1G";
        services.bird.autoRestart = true;
        services.bird.enable = true;
        orion.router.enabled = true;
      };
    }"""
    assert undeclared(module) == [
        "services.journald.extraConfig",
        "services.bird.autoRestart",
        "orion.router.enabled",
    ]


def test_the_reader_follows_conditions_and_names() -> None:
    module = """{ lib, ... }: let x = { a = 1; }; in {
      imports = [ ./a.nix ];
      users.users.${"orion"} = { isNormalUser = true; };
      systemd.services.bird.serviceConfig = lib.mkIf (1 == 1) { User = "bird"; };
      fileSystems."/".device = "/dev/disk/by-label/nixos";
      users.groups.unbound = { };
    }"""
    assert set_options(module) == [
        ("users", "users", "<name>", "isNormalUser"),
        ("systemd", "services", "bird", "serviceConfig", "User"),
        ("fileSystems", "/", "device"),
        ("users", "groups", "unbound"),
    ]
