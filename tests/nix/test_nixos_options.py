"""Every NixOS option ORION's modules set is one whose declaration was read in nixpkgs (tests/nix/nixos_options.py),
or one of ORION's own; and that table holds nothing no module sets any more."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.nix.nix_reader import module_config, module_options
from tests.nix.nixos_options import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "nix").rglob("*.nix"))


def _matches(key: str, path: tuple[str, ...]) -> bool:
    """Whether the table's `key` declares `path`: the same option (`<name>` standing for any attribute name), or a
    path inside the value of a free-form option (systemd directives, sysctl keys, grafana.ini, ...). Under any other
    option, a deeper path is an option of its own and needs an entry: systemd.services.bird.bogusOption is not
    declared by systemd.services."""
    parts = key.split(".")
    deeper = len(parts) < len(path)
    return (
        len(parts) <= len(path)
        and (not deeper or OPTIONS[key].free_form)
        and all(part in ("<name>", segment) for part, segment in zip(parts, path, strict=False))
    )


def declaration(path: tuple[str, ...]) -> str | None:
    """The table's key for `path`: the longest one that declares it."""
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


def test_a_bogus_option_under_a_declared_one_is_caught() -> None:
    """systemd.services, systemd.network.networks and users.groups.<name> declare submodules, not free-form values:
    a misspelt or invented option under them is not declared by them. Under a free-form option (a unit's
    serviceConfig, a network's matchConfig, grafana.ini) any key is the option's value."""
    module = """{ ... }: {
      systemd.services.bird.bogusOption = true;
      systemd.services.bird.after = [ "network.target" ];
      systemd.services.bird.serviceConfig.AnyDirective = "free-form";
      systemd.services.bird.unitConfig.StopWhenUnneeded = true;
      systemd.network.networks."10-lan".bogusSection.Name = "lan";
      systemd.network.networks."10-lan".matchConfig.Name = "lan";
      users.groups.unbound.bogus = 1;
      users.groups.unbound = { };
      services.grafana.settings.server.anything = "grafana.ini is free-form";
    }"""
    assert undeclared(module) == [
        "systemd.services.bird.bogusOption",
        "systemd.network.networks.10-lan.bogusSection.Name",
        "users.groups.unbound.bogus",
    ]


def test_every_free_form_entry_is_a_free_form_type() -> None:
    """An entry is marked free_form only where nixpkgs declares a free-form value (its type as read says so)."""
    free_form = {key: declared.type for key, declared in OPTIONS.items() if declared.free_form}
    assert {key for key, type_ in free_form.items() if not re.search(r"attrsOf|freeformType", type_)} == set()


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
