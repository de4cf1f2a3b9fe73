"""The Pulumi program, run as `pulumi up` would run it (under mocks): config in, checks, outputs out."""

from __future__ import annotations

import pulumi

from orion_infra.model import RawConfig
from tests.keys import private_key
from tests.pulumi_harness import ProgramRun, PulumiUp

SECRETS = {
    "idracPassword": "calvin",
    "bgpPasswordHePrimary": "x7-primary-session-key",
    "bgpPasswordHeSecondary": "x7-secondary-session-key",
    "bgpPasswordHeTertiary": "x7-tertiary-session-key",
    "sshDeployKey": private_key("deploy"),
}


def errors(run: ProgramRun) -> list[str]:
    return [message for level, message in run.log if level == "ERROR"]


def test_the_default_stack_exports_its_endpoints(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    run = pulumi_up(default_raw.values, SECRETS)
    assert run.error is None, errors(run)
    assert run.outputs["endpoints"] == {
        "idrac": {"orion-pve": "https://192.168.1.2"},
        "proxmox_ui": {"orion-pve": "https://192.168.1.10:8006/"},
        "proxmox_api": {"orion-pve": "https://192.168.1.10:8006/"},
        "router": "192.168.100.1",
        "grafana": "http://192.168.100.20:3000",
    }
    assert run.outputs["network"] == {
        "domain": "orion.home.arpa",
        "asn": 394955,
        "announced_prefixes": ["2602:f674::/48"],
        "subnets": {
            "lan": "192.168.100.0/24",
            "guest": "192.168.200.0/24",
            "management": "192.168.1.0/24",
            "storage": "192.168.30.0/24",
        },
        "ipv6_subnets": {"lan": "2602:f674:0:1000::/64", "guest": "2602:f674:0:2000::/64"},
    }
    assert run.outputs["vms"] == {
        "router": {
            "id": 200,
            "name": "orion-router",
            "role": "router",
            "node": "orion-pve",
            "ipv4": ["192.168.100.1", "192.168.200.1", "192.168.1.1"],
        },
        "monitor": {
            "id": 300,
            "name": "orion-monitor",
            "role": "monitoring",
            "node": "orion-pve",
            "ipv4": ["192.168.100.20"],
        },
        "macos": {
            "id": 100,
            "name": "hack-sequoia-01",
            "role": "macos",
            "node": "orion-pve",
            "ipv4": ["192.168.100.30"],
        },
    }
    assert errors(run) == []


def test_every_credential_leaves_as_a_secret_output_and_nothing_else_is_secret(
    default_raw: RawConfig, pulumi_up: PulumiUp
) -> None:
    run = pulumi_up(default_raw.values, SECRETS)
    assert run.secret_outputs == {"credentials"}
    credentials = run.outputs["credentials"]
    assert credentials["idrac_root"] == {"orion-pve": "generated-for-orion-pve-root-password"}
    assert credentials["proxmox_root"] == {"orion-pve": "generated-for-orion-pve-proxmox-root-password"}
    assert credentials["grafana_admin"] == "generated-for-grafana-admin-password"
    plain = repr({name: value for name, value in run.outputs.items() if name != "credentials"})
    assert SECRETS["idracPassword"] not in plain
    assert "generated-for" not in plain


def test_missing_secrets_stop_the_deployment_before_any_resource(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    run = pulumi_up(default_raw.values, {key: value for key, value in SECRETS.items() if key != "sshDeployKey"})
    assert isinstance(run.error, pulumi.RunError)
    assert str(run.error) == "the stack configuration has 1 problem(s); see above"
    assert errors(run) == [
        "access.deploy_key: secret sshDeployKey is not set; set it with `pulumi config set --secret sshDeployKey` (it prompts for the value) or `... --secret sshDeployKey < FILE`"
    ]
    assert run.registrations == []
    assert run.outputs == {}


def test_a_default_credential_stops_the_deployment_without_showing_it(
    default_raw: RawConfig, pulumi_up: PulumiUp
) -> None:
    run = pulumi_up(default_raw.values, {**SECRETS, "bgpPasswordHeTertiary": "orion2025"})
    assert isinstance(run.error, pulumi.RunError)
    assert errors(run) == [
        "bgp.peers[2].password: secret bgpPasswordHeTertiary is a well-known default credential; choose a new one"
    ]
    assert not any("orion2025" in message for _, message in run.log)


def test_a_misspelt_key_is_caught_at_deploy_time_too(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    run = pulumi_up({**default_raw.values, "vm": {}}, SECRETS)
    assert isinstance(run.error, pulumi.RunError)
    assert errors(run)[0].startswith(
        "vm: unknown config key orion:vm (did you mean orion:vms? expected: hosts, networks,"
    )


def test_secrets_set_in_plain_text_are_refused(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    plain = {"idracPassword": SECRETS["idracPassword"]}
    run = pulumi_up({**default_raw.values, **plain}, {k: v for k, v in SECRETS.items() if k not in plain})
    assert errors(run) == [
        "idracPassword: holds a plain value but hosts[0].idrac.password needs it secret; "
        "set it with `pulumi config set --secret idracPassword` (it prompts for the value) or `... --secret idracPassword < FILE` (the plain value is not shown)"
    ]
