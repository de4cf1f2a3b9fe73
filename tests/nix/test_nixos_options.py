"""Every NixOS option ORION's modules set is one whose declaration was read in nixpkgs (tests/nix/nixos_options.py),
or one of ORION's own; and that table holds nothing no module sets any more."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.nix.nix_reader import module_config, module_options
from tests.nix.nixos_options import OPTIONS, Declared

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


# What an attrsOf's values may be for the option to be free-form: systemd's unitOption, or plain data. A submodule
# (systemd.services, systemd.network.networks, users.groups) has options of its own, each needing an entry.
FREE_FORM_VALUES = {"unitOption", "anything", "str", "int", "bool", "path", "nullOr", "oneOf", "either", "listOf"}


def _argument(text: str) -> str:
    """The type expression `text` starts with: a name, or a bracketed expression up to its closing bracket."""
    text = text.lstrip()
    if text[:1] not in ("(", "["):
        return re.match(r"[\w.]*", text).group()  # type: ignore[union-attr]
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0:
            return text[: index + 1]
    raise ValueError(f"unbalanced type: {text!r}")


def free_form_type(type_: str) -> bool:
    """Whether a declared type (as read) takes a free-form value: a freeformType, or an attrsOf whose values are
    unitOption or plain data (a scalar, nullOr/oneOf/either/listOf of them), never of a submodule."""
    if "freeformType" in type_:
        return True
    found = re.search(r"\battrsOf\b", type_)
    if found is None:
        return False
    values = _argument(type_[found.end() :])
    head = re.match(r"[\s(]*([\w.]+)", values)
    return head is not None and head.group(1) in FREE_FORM_VALUES and "submodule" not in values


def wrongly_free_form(options: dict[str, Declared]) -> set[str]:
    """The entries marked free_form whose type as read is not a free-form one."""
    return {key for key, declared in options.items() if declared.free_form and not free_form_type(declared.type)}


def test_every_free_form_entry_is_a_free_form_type() -> None:
    """An entry is marked free_form only where nixpkgs declares a free-form value (its type as read says so)."""
    assert any(declared.free_form for declared in OPTIONS.values())
    assert wrongly_free_form(OPTIONS) == set()


@pytest.mark.parametrize(
    ("key", "bogus"),
    [
        ("systemd.services", "systemd.services.bird.bogusOption = true;"),
        ("systemd.network.networks", 'systemd.network.networks."10-lan".bogusSection.Name = "lan";'),
        ("users.groups.<name>", "users.groups.unbound.bogus = 1;"),
    ],
)
def test_a_submodule_marked_free_form_is_caught(key: str, bogus: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """attrsOf a submodule declares options under each name, not a free-form value: marked free_form, it would let
    a bogus option under it through, and the mark is refused."""
    assert "attrsOf" in OPTIONS[key].type
    assert not OPTIONS[key].free_form
    module = f"{{ ... }}: {{ {bogus} }}"
    assert undeclared(module) != []
    wrong = OPTIONS[key]._replace(free_form=True)
    monkeypatch.setitem(OPTIONS, key, wrong)
    assert undeclared(module) == []  # what the mark would hide
    assert wrongly_free_form(OPTIONS) == {key}


@pytest.mark.parametrize(
    ("type_", "free"),
    [
        ("attrsOf unitOption, default {}", True),
        ("addCheck (attrsOf unitOption) checkService", True),
        ("attrsOf (nullOr (oneOf [str path package]))", True),
        ("submodule, freeformType attrsOf sysctlOption", True),
        ("attrsOf (submodule groupOpts {name, gid = nullOr int, members})", False),
        ("systemdUtils.types.services (attrsOf submodule of stage-2 service options)", False),
        ("attrsOf (nullOr (submodule { options.x = str; }))", False),
        ("listOf str, default []", False),
    ],
)
def test_free_form_types_are_told_from_submodules(type_: str, free: bool) -> None:
    assert free_form_type(type_) is free


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
