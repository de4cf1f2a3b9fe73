"""The flake pins one nixpkgs for every system: flake.nix and flake.lock name the same input, locked with its
hash, of the release the stack model supports; `nix flake check` evaluates the default stack's three systems
from nix/examples, which are what rendering the default stack gives; the PR workflow runs that check."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import yaml

from orion_infra.model.releases import NIXOS_END_OF_LIFE, pinned_nixos_release
from tests.fixtures.invalid_cases import TODAY
from tests.fixtures.nix_examples import EXAMPLES, ROLES, expected_files

ROOT = Path(__file__).resolve().parents[2]


def lock_problems(flake_nix: str, lock: dict[str, object]) -> list[str]:
    """Why flake.lock does not pin flake.nix's nixpkgs input (nothing: it does)."""
    url = re.search(r'inputs\.nixpkgs\.url = "([^"]+)";', flake_nix)
    if url is None:
        return ["flake.nix names no nixpkgs input"]
    node = lock.get("nodes", {}).get("nixpkgs", {})  # type: ignore[attr-defined]
    problems = []
    if node.get("original", {}).get("url") != url.group(1):
        problems.append(f"flake.lock's nixpkgs is not flake.nix's {url.group(1)}")
    if not str(node.get("locked", {}).get("narHash", "")).startswith("sha256-"):
        problems.append("flake.lock's nixpkgs has no narHash")
    return problems


def test_the_lock_pins_flake_nixs_nixpkgs() -> None:
    lock = json.loads((ROOT / "flake.lock").read_text())
    assert lock_problems((ROOT / "flake.nix").read_text(), lock) == []


def test_a_lock_of_another_input_is_caught() -> None:
    flake_nix = (ROOT / "flake.nix").read_text()
    lock = json.loads((ROOT / "flake.lock").read_text())
    lock["nodes"]["nixpkgs"]["original"]["url"] = "https://example.org/nixexprs.tar.xz"
    del lock["nodes"]["nixpkgs"]["locked"]["narHash"]
    assert len(lock_problems(flake_nix, lock)) == 2


def test_the_pinned_release_is_a_supported_one() -> None:
    release = pinned_nixos_release()
    assert release == "26.11"
    assert NIXOS_END_OF_LIFE[release] >= datetime.date.fromisoformat(TODAY)


def test_the_examples_are_the_default_stack_rendered() -> None:
    committed = {str(path.relative_to(EXAMPLES)): path.read_text() for path in EXAMPLES.rglob("*") if path.is_file()}
    assert committed == expected_files(), "run `make fixtures`"


def test_flake_check_evaluates_every_example() -> None:
    flake_nix = (ROOT / "flake.nix").read_text()
    for role in ROLES:
        assert f'example-{role} = orionSystem "{role}" ./nix/examples/{role};' in flake_nix


def test_pull_requests_run_nix_flake_check() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "preview.yml").read_text())
    steps = workflow["jobs"]["nixos"]["steps"]
    assert any(str(step.get("uses", "")).startswith("cachix/install-nix-action@") for step in steps)
    assert any(str(step.get("run", "")).startswith("nix flake check") for step in steps)
