from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli_w

from orion_agent.settings import SETTINGS_FILE_VARIABLE, SettingsError, load_settings

ROUTER = {
    "host": "orion-router",
    "address": "192.168.100.1",
    "bird_exporter_url": "http://192.168.100.1:9324/metrics",
    "wan_device": "wan",
    "wan_capacity_bits": 1_000_000_000,
}


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_a_file_named_by_the_environment_is_read_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_file = write_json(tmp_path / "agent.json", {"router": ROUTER, "remediation": {"budget_per_hour": 3}})
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(settings_file))
    monkeypatch.setenv("ORION_AGENT_REMEDIATION__DRY_RUN", "false")
    monkeypatch.setenv("ORION_AGENT_ROUTER__WAN_DEVICE", "ens18")
    settings = load_settings()
    assert settings.router.wan_device == "ens18"
    assert settings.router.host == "orion-router"
    assert settings.remediation.budget_per_hour == 3
    assert settings.remediation.dry_run is False
    assert (str(settings.listen_address), settings.listen_port) == ("127.0.0.1", 9110)
    assert settings.probe_interval_seconds == 1.0


def test_toml_works_too_and_the_explicit_file_wins_over_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTINGS_FILE_VARIABLE, str(tmp_path / "absent.json"))
    settings_file = tmp_path / "agent.toml"
    settings_file.write_text(tomli_w.dumps({"router": ROUTER, "check_interval_seconds": 30}))
    assert load_settings(settings_file).check_interval_seconds == 30


def test_remediation_is_dry_run_unless_told_otherwise(tmp_path: Path) -> None:
    settings = load_settings(write_json(tmp_path / "agent.json", {"router": ROUTER}))
    assert settings.remediation.dry_run is True


def test_the_default_command_is_ssh_to_the_forced_command_and_a_list_replaces_it(tmp_path: Path) -> None:
    settings = load_settings(write_json(tmp_path / "a.json", {"router": ROUTER}))
    assert settings.restart_bgp_command == [
        "ssh",
        "-i",
        "/var/lib/orion/secrets/orion-agent-ssh-key",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "UserKnownHostsFile=/var/lib/orion/secrets/orion-agent-known-hosts",
        "-o",
        "ConnectTimeout=10",
        "orion-agent@192.168.100.1",
        "restart-bgp",
    ]
    lab = {"router": ROUTER, "remediation": {"command": ["/lab/restart-bgp", "router"]}}
    assert load_settings(write_json(tmp_path / "b.json", lab)).restart_bgp_command == ["/lab/restart-bgp", "router"]


def test_errors_name_each_field(tmp_path: Path) -> None:
    document = {
        "router": {**ROUTER, "address": "-oProxyCommand=x", "wan_capacity_bits": 0},
        "listen_port": 70000,
        "remediation": {"budget_per_hour": -1, "dry_runn": True},
    }
    with pytest.raises(SettingsError) as error:
        load_settings(write_json(tmp_path / "agent.json", document))
    assert str(error.value) == (
        "invalid agent settings:\n"
        "  listen_port: Input should be less than or equal to 65535 (got 70000)\n"
        "  router.address: String should match pattern '^[A-Za-z0-9][A-Za-z0-9.:-]*$' (got '-oProxyCommand=x')\n"
        "  router.wan_capacity_bits: Input should be greater than 0 (got 0)\n"
        "  remediation.budget_per_hour: Input should be greater than or equal to 0 (got -1)\n"
        "  remediation.dry_runn: Extra inputs are not permitted (got True)"
    )


def test_a_missing_router_section_and_a_probe_slower_than_its_interval_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"(?m)^  router: Field required$"):
        load_settings(write_json(tmp_path / "a.json", {}))
    slow = {"router": ROUTER, "probe_interval_seconds": 1, "probe_timeout_seconds": 2}
    with pytest.raises(SettingsError, match=r"probe_timeout_seconds \(2.0\) must not exceed probe_interval_seconds"):
        load_settings(write_json(tmp_path / "b.json", slow))


def test_an_unreadable_or_malformed_file_says_which(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"absent.json: cannot read the settings file"):
        load_settings(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SettingsError, match=r"broken.json: not valid JSON"):
        load_settings(broken)
    listed = write_json(tmp_path / "list.json", [1, 2])
    with pytest.raises(SettingsError, match=r"list.json: expected a table of settings, got list"):
        load_settings(listed)
