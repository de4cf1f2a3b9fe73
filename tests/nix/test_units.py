"""The lab runs ORION's own units (orion-unbound, orion-agent) as nix/modules declares them: the identity the lab
table gives each is read back from the module that defines the unit, so the two cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion_infra.lab.units import UNITS, Unit
from tests.nix.nix_reader import module_values

ROOT = Path(__file__).resolve().parents[2]
OWN = {"orion-unbound": "nix/modules/orion-router.nix", "orion-agent": "nix/modules/orion-agent.nix"}


def as_declared(unit: Unit) -> dict[str, object]:
    """What the module's serviceConfig must say for the lab to run `unit` the way it does."""
    capabilities = [f"CAP_{cap.upper()}" for cap in unit.capabilities]
    expected: dict[str, object] = {
        "AmbientCapabilities": capabilities or "",
        "CapabilityBoundingSet": capabilities or "",
    }
    if unit.dynamic_user:
        expected["DynamicUser"] = True
    else:
        expected |= {"User": unit.user, "Group": unit.group}
    for key, directory, mode in (
        ("RuntimeDirectory", unit.runtime_directory, unit.runtime_directory_mode),
        ("StateDirectory", unit.state_directory, unit.state_directory_mode),
        ("LogsDirectory", unit.logs_directory, unit.logs_directory_mode),
    ):
        if directory is not None:
            expected[key] = directory
            if mode != 0o755:
                expected[f"{key}Mode"] = f"{mode:04o}"
    if unit.umask != 0o022:
        expected["UMask"] = f"{unit.umask:04o}"
    return expected


def service_config(module: str, unit: str) -> dict[str, object]:
    values = module_values((ROOT / module).read_text())
    prefix = ("systemd", "services", unit, "serviceConfig")
    return {path[-1]: value for path, value in values.items() if path[: len(prefix)] == prefix}


@pytest.mark.parametrize("name", OWN)
def test_the_lab_runs_orions_unit_as_its_module_declares_it(name: str) -> None:
    declared = service_config(OWN[name], name)
    expected = as_declared(UNITS[name])
    assert {key: declared.get(key) for key in expected} == expected
    assert UNITS[name].declared == OWN[name]


def test_a_unit_the_module_runs_otherwise_is_caught() -> None:
    declared = service_config(OWN["orion-unbound"], "orion-unbound")
    drifted = as_declared(Unit("orion-unbound", "unbound", "unbound", "", capabilities=("net_raw",)))
    assert {key: declared.get(key) for key in drifted} != drifted
