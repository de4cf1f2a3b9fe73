"""The IdracHost component under the recording mock monitor: its children, their parents, order and secrets."""

from __future__ import annotations

import datetime
from typing import Any

import pulumi
import pytest

from orion_infra.components.idrac import IdracHost, IdracHostArgs
from orion_infra.model import RawConfig, load_stack
from tests.pulumi_harness import MOCK_FINGERPRINT, ProgramRun, PulumiUp, run_program
from tests.stack_edits import edited
from tests.test_program import SECRETS

ROTATION = "pulumi-python:dynamic/idrac:RootPassword"
# Registration order depends on when outputs resolve; the tests look at the set, listed in this order.
CHILD_ORDER = [
    "orion-pve-tls-identity",
    "orion-pve-root-password",
    "orion-pve-root-password-rotation",
    "orion-pve-system",
    "orion-pve-installer-media",
    "orion-pve-installer-boot",
    "orion-pve-power",
]
SYSTEM = "pulumi-python:dynamic/idrac:SystemInfo"
# A node ORION does not install names its SSH host key (made for this test; no private half is kept).
EXISTING_NODE_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBqeAcffjx9Qzdrxr2lO86vhLVSANRV2ZWe+yyRyXOEh orion-pve"


def test_the_stack_gives_each_host_an_idrac_with_a_rotated_password(
    default_raw: RawConfig, pulumi_up: PulumiUp
) -> None:
    run = pulumi_up(default_raw.values, SECRETS)
    assert run.error is None
    component = run.by_name("orion-pve")
    assert component.type == "orion:idrac:IdracHost"
    children = sorted(
        (r for r in run.registrations if r.parent == component.urn), key=lambda r: CHILD_ORDER.index(r.name)
    )
    assert [(r.type, r.name) for r in children] == [
        # The default stack trusts the new iDRAC's certificate on first use: recorded before anything is sent.
        ("pulumi-python:dynamic/idrac:TlsIdentity", "orion-pve-tls-identity"),
        ("random:index/randomPassword:RandomPassword", "orion-pve-root-password"),
        (ROTATION, "orion-pve-root-password-rotation"),
        (SYSTEM, "orion-pve-system"),
        # The default stack installs Proxmox: the prepared installer is mounted, armed and booted.
        ("pulumi-python:dynamic/idrac:VirtualMedia", "orion-pve-installer-media"),
        ("pulumi-python:dynamic/idrac:BootOnce", "orion-pve-installer-boot"),
        ("pulumi-python:dynamic/idrac:PowerState", "orion-pve-power"),
    ]
    identity, generated, rotation, system = children[:4]
    # The media server's URL (the mocks' stdout of the prepare step) holds its token: a secret input.
    assert children[4].inputs["image_url"] == "stdout-of-orion-pve-installer-iso"
    assert "image_url" in children[4].secret_inputs
    assert generated.inputs["length"] == 20
    assert "result" in generated.additional_secret_outputs
    # The factory password is used once, by the rotation; everything after uses the generated one.
    assert rotation.inputs["password"] == SECRETS["idracPassword"]
    assert rotation.inputs["new_password"] == "generated-for-orion-pve-root-password"
    assert system.inputs["password"] == "generated-for-orion-pve-root-password"
    assert set(system.dependencies) == {rotation.urn, identity.urn}
    hosts: Any = default_raw.values["hosts"]
    for resource in (rotation, system):
        assert {"password", "__provider"} <= resource.secret_inputs
        assert resource.inputs["endpoint"] == "https://192.168.1.2"
        # As the default stack says (its own choice: the model has no default).
        assert resource.inputs["tls_verify"] == hosts[0]["idrac"]["tls"]["verify"]
        assert "password" in resource.additional_secret_outputs
    assert "new_password" in rotation.secret_inputs
    assert run.outputs["idrac"]["orion-pve"]["endpoint"] == "https://192.168.1.2"
    assert "credentials" in run.secret_outputs
    assert "idrac" not in run.secret_outputs


def with_installer(raw: RawConfig, today: datetime.date) -> ProgramRun:
    stack, _ = load_stack(raw, today=today)

    def program() -> None:
        IdracHost(
            "orion-pve",
            IdracHostArgs(stack.hosts[0], "calvin", installer_iso_url="http://192.168.1.50/proxmox-ve.iso"),
        )

    return run_program(program, {}, set())


def test_the_installer_is_inserted_then_armed_then_powered_on(default_raw: RawConfig, today: datetime.date) -> None:
    run = with_installer(default_raw, today)
    assert run.error is None
    rotation = run.by_name("orion-pve-root-password-rotation")
    media = run.by_name("orion-pve-installer-media")
    boot = run.by_name("orion-pve-installer-boot")
    power = run.by_name("orion-pve-power")
    assert media.type == "pulumi-python:dynamic/idrac:VirtualMedia"
    # Each step waits for the one before; all of them for the rotation, whose password they use.
    identity = run.by_name("orion-pve-tls-identity").urn
    assert set(media.dependencies) == {rotation.urn, identity}
    assert set(boot.dependencies) == {rotation.urn, media.urn, identity}
    assert set(power.dependencies) == {rotation.urn, boot.urn, identity}
    assert media.inputs["image_url"] == "http://192.168.1.50/proxmox-ve.iso"
    assert boot.inputs["trigger"] == "http://192.168.1.50/proxmox-ve.iso"
    assert power.inputs["desired"] == "On"
    component = run.by_name("orion-pve")
    assert {media.parent, boot.parent, power.parent} == {component.urn}


def test_without_an_installer_nothing_touches_power_or_media(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    installed = edited(
        default_raw,
        (("hosts", 0, "proxmox", "install"), False),
        (("hosts", 0, "proxmox", "root_password"), {"secret": "proxmoxRootPassword"}),
        (("hosts", 0, "proxmox", "ssh_host_key"), EXISTING_NODE_HOST_KEY),
    )
    run = pulumi_up(installed.values, {**SECRETS, "proxmoxRootPassword": "an-existing-root-password"})
    assert run.error is None
    types = {registration.type for registration in run.registrations}
    assert not types & {"pulumi-python:dynamic/idrac:PowerState", "pulumi-python:dynamic/idrac:VirtualMedia"}


IDRAC_TYPES = {
    "pulumi-python:dynamic/idrac:RootPassword",
    "pulumi-python:dynamic/idrac:SystemInfo",
    "pulumi-python:dynamic/idrac:VirtualMedia",
    "pulumi-python:dynamic/idrac:BootOnce",
    "pulumi-python:dynamic/idrac:PowerState",
}


def idrac_with_tls(raw: RawConfig, today: datetime.date, tls: dict[str, str]) -> ProgramRun:
    stack, _ = load_stack(edited(raw, (("hosts", 0, "idrac", "tls"), tls)), today=today)

    def program() -> None:
        host = IdracHost(
            "orion-pve",
            IdracHostArgs(stack.hosts[0], "calvin", installer_iso_url="http://192.168.1.50/proxmox-ve.iso"),
        )
        pulumi.export("tls_fingerprint", host.tls_fingerprint)

    return run_program(program, {}, set())


def test_with_first_use_every_call_is_pinned_to_the_certificate_recorded_on_first_contact(
    default_raw: RawConfig, today: datetime.date
) -> None:
    run = idrac_with_tls(default_raw, today, {"verify": "first_use"})
    assert run.error is None
    component = run.by_name("orion-pve")
    identity = run.by_name("orion-pve-tls-identity")
    assert (identity.type, identity.parent) == ("pulumi-python:dynamic/idrac:TlsIdentity", component.urn)
    assert identity.inputs["endpoint"] == "https://192.168.1.2"
    assert identity.dependencies == []  # first contact needs nothing, and sends nothing
    calls = [registration for registration in run.registrations if registration.type in IDRAC_TYPES]
    assert {registration.type for registration in calls} == IDRAC_TYPES
    for registration in calls:
        # Each waits for the record, and connects pinned to what it recorded (the rotation, with calvin, too).
        assert identity.urn in registration.dependencies, registration.name
        assert registration.inputs["tls_verify"] == "first_use", registration.name
        assert registration.inputs["sha256_fingerprint"] == MOCK_FINGERPRINT, registration.name
        assert registration.inputs["tls_identity"] == identity.urn, registration.name
    assert run.outputs["tls_fingerprint"] == MOCK_FINGERPRINT


@pytest.mark.parametrize(
    ("tls", "in_force"),
    [
        ({"verify": "fingerprint", "sha256_fingerprint": "ab" * 32}, "AB:" * 31 + "AB"),
        ({"verify": "system"}, None),
        ({"verify": "insecure"}, None),
    ],
)
def test_other_policies_record_nothing_and_expose_the_pin_they_have(
    default_raw: RawConfig, today: datetime.date, tls: dict[str, str], in_force: str | None
) -> None:
    run = idrac_with_tls(default_raw, today, tls)
    assert run.error is None
    assert not run.of_type("pulumi-python:dynamic/idrac:TlsIdentity")
    rotation = run.by_name("orion-pve-root-password-rotation")
    assert (rotation.inputs["tls_verify"], rotation.inputs.get("sha256_fingerprint")) == (
        tls["verify"],
        tls.get("sha256_fingerprint"),
    )
    assert run.outputs["tls_fingerprint"] == in_force
