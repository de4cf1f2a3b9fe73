"""Every rendered file passes the program that will read it, and each check is shown to fail on a broken file."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from orion_infra.model import RawConfig, load_stack
from tests.render import checkers
from tests.render.conftest import Rendered, render_into
from tests.stack_edits import edited

RULE_TESTS = Path(__file__).parent / "promtool" / "alert-rules.test.yml"

Check = Callable[[Rendered, Path], checkers.Verdict]

CHECKS: dict[str, tuple[str, Check]] = {
    "bird": ("router/host/bird.conf", lambda r, p: checkers.bird(p)),
    "nftables": ("router/host/nftables.nft", lambda r, p: checkers.nftables(p, r.router_interfaces)),
    "kea": ("router/host/kea-dhcp4.json", lambda r, p: checkers.kea(p, r.router_interfaces, r.root / "run")),
    "unbound": ("router/host/unbound.conf", lambda r, p: checkers.unbound(p)),
    "prometheus": ("monitor/host/prometheus.yml", lambda r, p: checkers.prometheus_config(p)),
    "rules": ("monitor/host/alert-rules.yml", lambda r, p: checkers.prometheus_rules(p)),
    "rule-tests": ("monitor/host/alert-rules.yml", lambda r, p: checkers.prometheus_rule_tests(_with_rule_tests(p))),
    "alertmanager": ("monitor/host/alertmanager.yml", lambda r, p: checkers.alertmanager(p)),
}

# One deliberate fault per artifact, of the kind each checker exists to catch.
BREAKAGES: dict[str, tuple[str, str]] = {
    "bird": ("import filter import_he_primary;", "import filter import_nobody;"),
    "nftables": ('iifname "lo" accept', 'iifname "lo" jump nowhere'),
    "kea": ('"pool": "192.168.100.100 - 192.168.100.200"', '"pool": "192.168.101.100 - 192.168.101.200"'),
    "unbound": ("access-control: 192.168.100.0/24 allow", "access-control: 192.168.100.0/24 welcome"),
    "prometheus": ("scrape_interval: 15s", "scrape_interval: fifteen seconds"),
    "rules": ("expr: up == 0", "expr: up == "),
    "rule-tests": ("host:cpu_usage:percent > 90", "host:cpu_usage:percent > 99"),
    "alertmanager": ("receiver: orion-agent", "receiver: nobody"),
}


def _with_rule_tests(rules: Path) -> Path:
    test_file = rules.parent / RULE_TESTS.name
    shutil.copyfile(RULE_TESTS, test_file)
    return test_file


# nft and kea check their files inside a network namespace with the router's interfaces, which needs root.
ROOT_CHECKS = {"nftables", "kea"}
CHECK_PARAMS = [pytest.param(name, marks=pytest.mark.root) if name in ROOT_CHECKS else name for name in CHECKS]


@pytest.mark.parametrize("name", CHECK_PARAMS)
@pytest.mark.programs
def test_the_rendered_file_passes(name: str, rendered: Rendered) -> None:
    artifact, check = CHECKS[name]
    verdict = check(rendered, rendered.path(artifact))
    assert verdict.ok, verdict.output


@pytest.mark.parametrize("name", CHECK_PARAMS)
@pytest.mark.programs
def test_the_check_fails_on_a_broken_file(name: str, rendered: Rendered) -> None:
    artifact, check = CHECKS[name]
    path = rendered.path(artifact)
    old, new = BREAKAGES[name]
    text = path.read_text()
    assert text.count(old) >= 1, f"the breakage no longer applies to {artifact}"
    path.write_text(text.replace(old, new, 1))
    verdict = check(rendered, path)
    assert not verdict.ok, f"{name} accepted a broken {artifact}"


def nix_files(rendered: Rendered) -> list[str]:
    return sorted(name for name in rendered.files if name.endswith(".nix"))


@pytest.mark.programs
def test_every_nix_file_parses(rendered: Rendered) -> None:
    names = nix_files(rendered)
    assert {
        "base/flake.nix",
        "router/nix/hosts/router/configuration.nix",
        "router/nix/modules/orion-router.nix",
        "monitor/nix/modules/orion-monitoring.nix",
    } <= set(names)
    for name in names:
        verdict = checkers.nix(rendered.path(name))
        assert verdict.ok, f"{name}: {verdict.output}"


@pytest.mark.programs
def test_the_nix_parser_rejects_a_broken_module(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nix"
    broken.write_text("{ config, lib, ... }: { services.bird = { enable = true; ")
    assert not checkers.nix(broken).ok


@pytest.mark.root
def test_kea_needs_the_router_interfaces(rendered: Rendered) -> None:
    """The namespace is what makes the Kea check meaningful: without the interfaces it refuses the file."""
    verdict = checkers.kea(rendered.path("router/host/kea-dhcp4.json"), [], rendered.root / "run")
    assert not verdict.ok


STACK_VARIANTS: dict[str, list[tuple[tuple[str | int, ...], object]]] = {
    "rpki-validation": [(("bgp", "rpki"), [{"address": "192.168.1.5"}])],
    "full-table-import": [(("bgp", "accept_default_route_only"), False)],
    "multihop-with-bfd-on-a-static-wan": [
        (("networks", "wan", "ipv4"), {"address": "203.0.113.2", "prefix_length": 30, "gateway": "203.0.113.1"}),
        (("bgp", "peers"), lambda peers: [{**peer, "multihop": 2} for peer in peers]),
    ],
    "no-passwords-no-bfd": [
        (("bgp", "peers"), lambda peers: [{**peer, "bfd": False, "password": None} for peer in peers])
    ],
    "an-ipv4-prefix-too": [(("bgp", "announce"), ["2602:f674::/48", "198.51.99.0/24"])],
}


@pytest.mark.parametrize("variant", STACK_VARIANTS)
@pytest.mark.root
def test_bird_and_nft_accept_every_bgp_option(
    variant: str, default_raw: RawConfig, today: datetime.date, tmp_path: Path
) -> None:
    stack, _ = load_stack(edited(default_raw, *STACK_VARIANTS[variant]), today=today)
    rendered = render_into(stack, tmp_path)
    for verdict in (
        checkers.bird(rendered.path("router/host/bird.conf")),
        checkers.nftables(rendered.path("router/host/nftables.nft"), rendered.router_interfaces),
    ):
        assert verdict.ok, verdict.output


@pytest.mark.programs
def test_every_nix_file_in_the_repository_parses() -> None:
    root = Path(__file__).resolve().parents[2]
    files = sorted([root / "flake.nix", *(root / "nix").rglob("*.nix")])
    assert len(files) >= 9
    for path in files:
        verdict = checkers.nix(path)
        assert verdict.ok, f"{path}: {verdict.output}"
