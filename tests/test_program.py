"""The Pulumi program, run as `pulumi up` would run it (under mocks): config in, checks, outputs out."""

from __future__ import annotations

import pulumi

from orion_infra.model import RawConfig
from tests.pulumi_harness import ProgramRun, PulumiUp

SECRETS = {
    "idracPassword": "calvin",
    "bgpPasswordHePrimary": "x7-primary-session-key",
    "bgpPasswordHeSecondary": "x7-secondary-session-key",
    "bgpPasswordHeTertiary": "x7-tertiary-session-key",
    "sshDeployKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nredacted\n-----END OPENSSH PRIVATE KEY-----",
}


def errors(run: ProgramRun) -> list[str]:
    return [message for level, message in run.log if level == "ERROR"]


def test_the_default_stack_exports_its_endpoints(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    run = pulumi_up(default_raw.values, SECRETS)
    assert run.error is None, errors(run)
    assert run.outputs["endpoints"] == {
        "proxmox_api": {"orion-pve": "https://192.168.1.10:8006/"},
        "idrac": {"orion-pve": "https://192.168.1.2/redfish/v1"},
        "router": "192.168.100.1",
        "grafana": "http://192.168.100.20:3000",
        "prometheus": "http://192.168.100.20:9090",
    }
    assert run.outputs["network"]["asn"] == 394955
    assert run.outputs["network"]["announced_prefixes"] == ["2602:f674::/48"]
    assert errors(run) == []


def test_missing_secrets_stop_the_deployment_before_any_resource(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    run = pulumi_up(default_raw.values, {key: value for key, value in SECRETS.items() if key != "sshDeployKey"})
    assert isinstance(run.error, pulumi.RunError)
    assert str(run.error) == "the stack configuration has 1 problem(s); see above"
    assert errors(run) == [
        "access.deploy_key: secret sshDeployKey is not set; run `pulumi config set --secret sshDeployKey <value>`"
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
    assert errors(run)[0].startswith("vm: unknown config key orion:vm (expected: hosts, networks,")


def test_secrets_set_in_plain_text_are_refused(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    plain = {"idracPassword": SECRETS["idracPassword"]}
    run = pulumi_up({**default_raw.values, **plain}, {k: v for k, v in SECRETS.items() if k not in plain})
    assert errors(run) == [
        "idracPassword: holds a plain value but hosts[0].idrac.password needs it secret; "
        "run `pulumi config set --secret idracPassword <value>` (the plain value is not shown)"
    ]
