"""The flake pins one nixpkgs for every system: flake.nix and flake.lock name the same input, locked with its
hash, of the release the stack model supports; `nix flake check` evaluates the default stack's three systems
from nix/examples, which are what rendering the default stack gives; the PR workflow runs that check."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from orion_infra.model import OrionStack
from orion_infra.model.releases import (
    NIXOS_END_OF_LIFE,
    pinned_nixos_release,
    pinned_original,
    pinned_prerelease_problem,
)
from orion_infra.render import render_all, system_files, write_tree
from tests.fixtures.invalid_cases import TODAY
from tests.fixtures.nix_examples import EXAMPLES, ROLES, expected_files
from tests.render.checkers import require

ROOT = Path(__file__).resolve().parents[2]


def lock_problems(flake_nix: str, lock: dict[str, Any], tmp_path: Path) -> list[str]:
    """Why flake.lock does not pin flake.nix's nixpkgs input (nothing: it does)."""
    url = re.search(r'inputs\.nixpkgs\.url = "([^"]+)";', flake_nix)
    if url is None:
        return ["flake.nix names no nixpkgs input"]
    node = lock["nodes"]["nixpkgs"]
    written = tmp_path / "flake.lock"
    written.write_text(json.dumps(lock))
    problems = []
    if pinned_original(written) != url.group(1):
        problems.append(f"flake.lock's nixpkgs is not flake.nix's {url.group(1)}")
    if not str(node.get("locked", {}).get("narHash", "")).startswith("sha256-"):
        problems.append("flake.lock's nixpkgs has no narHash")
    return problems


def test_the_lock_pins_flake_nixs_nixpkgs(tmp_path: Path) -> None:
    lock = json.loads((ROOT / "flake.lock").read_text())
    assert lock_problems((ROOT / "flake.nix").read_text(), lock, tmp_path) == []


def test_a_lock_of_another_input_is_caught(tmp_path: Path) -> None:
    flake_nix = (ROOT / "flake.nix").read_text()
    lock = json.loads((ROOT / "flake.lock").read_text())
    lock["nodes"]["nixpkgs"]["original"]["url"] = "https://example.org/nixexprs.tar.xz"
    del lock["nodes"]["nixpkgs"]["locked"]["narHash"]
    assert len(lock_problems(flake_nix, lock, tmp_path)) == 2


def test_the_refresh_decision_0021_describes_passes_the_check(tmp_path: Path) -> None:
    """What `nix flake lock` writes once flake.nix names the release branch (hash made up: only its form counts)."""
    flake_nix = (ROOT / "flake.nix").read_text()
    flake_nix = re.sub(
        r'inputs\.nixpkgs\.url = "[^"]+";', 'inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.11";', flake_nix
    )
    lock = {
        "nodes": {
            "nixpkgs": {
                "locked": {
                    "lastModified": 1,
                    "narHash": "sha256-x",
                    "owner": "NixOS",
                    "repo": "nixpkgs",
                    "rev": "0" * 40,
                    "type": "github",
                },
                "original": {"owner": "NixOS", "ref": "nixos-26.11", "repo": "nixpkgs", "type": "github"},
            },
            "root": {"inputs": {"nixpkgs": "nixpkgs"}},
        },
        "root": "root",
        "version": 7,
    }
    assert lock_problems(flake_nix, lock, tmp_path) == []
    (tmp_path / "flake.lock").write_text(json.dumps(lock))
    assert pinned_prerelease_problem(tmp_path / "flake.lock") is None
    assert pinned_nixos_release.__wrapped__(tmp_path / "flake.lock") == "26.11"


def test_validate_says_the_pin_is_a_prerelease() -> None:
    problem = pinned_prerelease_problem()
    assert problem is not None
    assert "pre-release of NixOS 26.11" in problem


def test_the_pinned_release_is_a_supported_one() -> None:
    release = pinned_nixos_release()
    assert release == "26.11"
    assert NIXOS_END_OF_LIFE[release] >= datetime.date.fromisoformat(TODAY)


def test_the_examples_are_the_default_stack_rendered() -> None:
    committed = {str(path.relative_to(EXAMPLES)): path.read_text() for path in EXAMPLES.rglob("*") if path.is_file()}
    assert committed == expected_files(), "run `make fixtures`"


def evaluate(flake: Path, release: str, store: Path) -> subprocess.CompletedProcess[str]:
    """flake.nix's systems, evaluated against a stand-in of nixpkgs' lib at `release` (evaluate_flake.nix)."""
    expression = f'(import {ROOT / "tests" / "nix" / "evaluate_flake.nix"}) {flake} "{release}"'
    return subprocess.run(
        ["nix", "--extra-experimental-features", "nix-command", "eval", "--store", str(store), "--impure", "--json",
         "--expr", expression],
        capture_output=True, text=True, env={**os.environ, "NIX_CONFIG": "build-users-group ="}, check=False,
    )  # fmt: skip


@pytest.mark.programs
def test_flake_check_evaluates_every_example(tmp_path: Path) -> None:
    require("nix")
    done = evaluate(ROOT, "26.11", tmp_path / "store")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {f"example-{role}": 2 for role in ROLES}


@pytest.mark.programs
def test_a_systems_own_flake_offers_only_that_system(default_stack: OrionStack, tmp_path: Path) -> None:
    require("nix")
    files = render_all(default_stack)
    for role in ROLES:
        write_tree(system_files(files, role), tmp_path / role)
        done = evaluate(tmp_path / role, "26.11", tmp_path / "store")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"orion": 2}
    mismatch = evaluate(tmp_path / "router", "27.05", tmp_path / "store")
    assert mismatch.returncode != 0
    assert "host.json asks for NixOS 26.11, but flake.lock pins 27.05" in mismatch.stderr


def test_pull_requests_run_nix_flake_check() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "preview.yml").read_text())
    steps = workflow["jobs"]["nixos"]["steps"]
    assert any(str(step.get("uses", "")).startswith("cachix/install-nix-action@") for step in steps)
    assert any(str(step.get("run", "")).startswith("nix flake check") for step in steps)
