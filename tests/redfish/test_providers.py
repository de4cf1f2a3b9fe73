"""Every provider method against the emulated iDRAC 8, and one resource through Pulumi's own servicer."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from orion_infra.redfish.client import Timeouts
from orion_infra.redfish.errors import RedfishError
from orion_infra.redfish.providers import (
    UNKNOWN,
    BootOnceProvider,
    IdracProvider,
    PowerStateProvider,
    RootPasswordProvider,
    SystemInfoProvider,
    VirtualMediaProvider,
)
from tests.redfish.conftest import FAST_RETRY, FAST_WAITS, FakeClock, connect, struct
from tests.redfish.emulator import RunningService

SETTINGS: dict[str, Any] = {"waits": FAST_WAITS, "retry": FAST_RETRY, "timeouts": Timeouts(connect=1.0, read=2.0)}


def outs(result: CreateResult | ReadResult | UpdateResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


def connection(service: RunningService, password: str = "calvin") -> dict[str, Any]:
    return {
        "endpoint": service.url,
        "username": "root",
        "password": password,
        "tls_verify": "insecure",
        "ca_bundle": None,
        "sha256_fingerprint": None,
    }


# -- check -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "bad", "property_", "reason"),
    [
        (
            PowerStateProvider,
            {"endpoint": "ftp://idrac"},
            "endpoint",
            "expected the iDRAC's URL like https://192.168.1.2, got 'ftp://idrac'",
        ),
        (
            PowerStateProvider,
            {"username": "a user with spaces"},
            "username",
            "expected an iDRAC user name of 1-16 characters, got 'a user with spaces'",
        ),
        (PowerStateProvider, {"password": None}, "password", "the iDRAC password is required (a secret)"),
        (
            PowerStateProvider,
            {"tls_verify": "maybe"},
            "tls_verify",
            "expected system, ca_bundle, fingerprint, first_use or insecure, got 'maybe'",
        ),
        (
            PowerStateProvider,
            {"tls_verify": "fingerprint", "sha256_fingerprint": "abc"},
            "sha256_fingerprint",
            "expected a SHA-256 fingerprint (64 hex digits), got 'abc'",
        ),
        (
            PowerStateProvider,
            {"tls_verify": "first_use"},
            "sha256_fingerprint",
            "expected the fingerprint recorded on first contact (a TlsIdentity's sha256_fingerprint), got None",
        ),
        (PowerStateProvider, {"desired": "Sleeping"}, "desired", "expected On or Off, got 'Sleeping'"),
        (BootOnceProvider, {"method": "pxe"}, "method", "expected standard or dell-scp, got 'pxe'"),
        (
            VirtualMediaProvider,
            {"image_url": "nfs://host/x.iso"},
            "image_url",
            "expected an http(s) URL the iDRAC can fetch, got 'nfs://host/x.iso'",
        ),
        (
            RootPasswordProvider,
            {"new_password": "x" * 21},
            "new_password",
            "expected 1-20 characters that iDRAC 8 accepts (value not shown)",
        ),
    ],
)
def test_check_names_the_property(
    provider: type[IdracProvider], bad: dict[str, Any], property_: str, reason: str
) -> None:
    good = {
        "endpoint": "https://192.168.1.2",
        "username": "root",
        "password": "calvin",
        "tls_verify": "system",
        "desired": "On",
        "method": "standard",
        "image_url": "https://images/x.iso",
        "new_password": "Str0ng-Pass",
    }
    assert provider(**SETTINGS).check({}, good).failures == []
    failures = provider(**SETTINGS).check({}, {**good, **bad}).failures
    assert [(failure.property, failure.reason) for failure in failures] == [(property_, reason)]


def test_check_lets_unknown_values_through() -> None:
    news = {"endpoint": UNKNOWN, "username": "root", "password": UNKNOWN, "image_url": UNKNOWN}
    assert VirtualMediaProvider(**SETTINGS).check({}, news).failures == []
    # A pin recorded on first contact is unknown until that contact, during a preview.
    pinned = {**news, "tls_verify": "first_use", "sha256_fingerprint": UNKNOWN}
    assert VirtualMediaProvider(**SETTINGS).check({}, pinned).failures == []


# -- diff --------------------------------------------------------------------------------------------------------


def test_diff_keeps_a_new_password_without_replacing_and_names_what_replaces() -> None:
    olds = {"endpoint": "https://a", "username": "root", "password": "old", "image_url": "https://x/1.iso"}
    media = VirtualMediaProvider(**SETTINGS)
    assert (media.diff("id", olds, dict(olds)).changes, media.diff("id", olds, dict(olds)).replaces) == (False, [])
    rotated = media.diff("id", olds, {**olds, "password": "rotated"})
    assert (rotated.changes, rotated.replaces) == (True, [])
    new_image = media.diff("id", olds, {**olds, "image_url": "https://x/2.iso"})
    assert (new_image.changes, new_image.replaces, new_image.delete_before_replace) == (True, ["image_url"], True)
    power = PowerStateProvider(**SETTINGS).diff("id", {**olds, "desired": "On"}, {**olds, "desired": "Off"})
    assert (power.changes, power.replaces) == (True, [])
    moved = PowerStateProvider(**SETTINGS).diff("id", olds, {**olds, "endpoint": "https://b"})
    assert moved.replaces == ["endpoint"]
    rotation = RootPasswordProvider(**SETTINGS).diff("id", {**olds, "new_password": "a"}, {**olds, "new_password": "b"})
    assert (rotation.changes, rotation.replaces) == (True, [])


# -- create, read, update, delete against the emulator ---------------------------------------------------------


def test_power_state_lifecycle(clock: FakeClock, idrac: RunningService) -> None:
    provider = PowerStateProvider(timeouts=Timeouts(connect=1.0, read=2.0), clock=clock)
    props = {**connection(idrac), "desired": "On"}
    created = provider.create(props)
    assert outs(created)["power_state"] == "On"
    assert outs(provider.read(created.id, outs(created)))["power_state"] == "On"
    updated = provider.update(created.id, outs(created), {**props, "desired": "Off"})
    assert outs(updated)["power_state"] == "Off"
    provider.delete(created.id, outs(updated))
    with connect(idrac, clock) as client:
        assert client.system()["PowerState"] == "Off"
    assert idrac.session_count() == 0


def test_boot_once_lifecycle(idrac: RunningService) -> None:
    provider = BootOnceProvider(**SETTINGS)
    created = provider.create({**connection(idrac), "method": "standard", "trigger": "a.iso"})
    assert (outs(created)["boot_target"], outs(created)["boot_enabled"]) == ("Cd", "Once")
    assert outs(provider.read(created.id, outs(created)))["boot_enabled"] == "Once"
    updated = provider.update(created.id, outs(created), {**outs(created), "method": "dell-scp", "trigger": "b.iso"})
    assert outs(updated)["boot_enabled"] == "Once"
    provider.delete(created.id, outs(updated))
    assert outs(provider.read(created.id, outs(updated)))["boot_enabled"] == "Disabled"


def test_virtual_media_lifecycle(idrac: RunningService, image_server: str) -> None:
    provider = VirtualMediaProvider(**SETTINGS)
    image = f"{image_server}/proxmox-ve.iso"
    created = provider.create({**connection(idrac), "image_url": image})
    assert outs(created)["inserted"] is True
    assert outs(provider.read(created.id, outs(created)))["image_url"] == image
    provider.delete(created.id, outs(created))
    read = outs(provider.read(created.id, outs(created)))
    assert (read["image_url"], read["inserted"]) == (None, False)


def test_a_new_password_is_stored_without_acting_on_the_server(idrac: RunningService) -> None:
    """After a second rotation every iDRAC resource's state holds the password in force (a refresh logs in with
    it); updating only that does nothing on the server: no new one-time boot, no media swapped."""
    boot = BootOnceProvider(**SETTINGS)
    created = boot.create({**connection(idrac), "method": "standard", "trigger": "a.iso"})
    boot.delete(created.id, outs(created))
    with connect(idrac, FakeClock()) as client:
        before = client.system()["Boot"]["BootSourceOverrideEnabled"]
    updated = boot.update(created.id, outs(created), {**outs(created), "password": "Second-Rotation2"})
    assert outs(updated)["password"] == "Second-Rotation2"
    with connect(idrac, FakeClock()) as client:
        assert client.system()["Boot"]["BootSourceOverrideEnabled"] == before == "Disabled"


def test_root_password_rotation_then_every_call_uses_the_new_one(idrac: RunningService) -> None:
    provider = RootPasswordProvider(**SETTINGS)
    props = {**connection(idrac), "new_password": "First-Rotation1"}
    created = provider.create(props)
    # A repeated create (say after a crash between the change and the state write) converges.
    provider.create(props)
    info = SystemInfoProvider(**SETTINGS)
    with pytest.raises(RedfishError, match="401"):
        info.create(connection(idrac, "calvin"))
    assert outs(info.create(connection(idrac, "First-Rotation1")))["service_tag"] == "CQ5QBM2"
    provider.update(created.id, outs(created), {**props, "new_password": "Second-Rotation2"})
    assert outs(info.create(connection(idrac, "Second-Rotation2")))["model"] == "PowerEdge R730"
    provider.delete(created.id, outs(created))
    assert idrac.session_count() == 0


def test_system_info_outputs(idrac: RunningService) -> None:
    provider = SystemInfoProvider(**SETTINGS)
    created = provider.create(connection(idrac))
    facts = outs(created)
    assert {
        key: facts[key] for key in ("model", "service_tag", "bios_version", "idrac_firmware", "power_state", "health")
    } == {
        "model": "PowerEdge R730",
        "service_tag": "CQ5QBM2",
        "bios_version": "2.17.0",
        "idrac_firmware": "2.86.86.86",
        "power_state": "Off",
        "health": "OK",
    }
    assert len(facts["power_supplies"]) == 2
    assert outs(provider.read(created.id, facts))["model"] == "PowerEdge R730"


# -- through Pulumi's dynamic-provider servicer ------------------------------------------------------------------


@pytest.mark.programs
def test_a_resource_through_the_real_servicer(
    idrac: RunningService, image_server: str, dynamic_provider_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    """The provider is dill-pickled as in Pulumi's state, unpickled by Pulumi's provider host, and run."""
    stub = dynamic_provider_host
    image = f"{image_server}/nixos.iso"
    props = {
        **connection(idrac),
        "image_url": image,
        "inserted": None,
        PROVIDER_KEY: serialize_provider(VirtualMediaProvider(**SETTINGS)),
    }
    urn = "urn:pulumi:orion::orion::pulumi-python:dynamic/idrac:VirtualMedia::installer"
    checked = stub.Check(proto.CheckRequest(urn=urn, olds=struct({}), news=struct(props)))
    assert list(checked.failures) == []
    created = stub.Create(proto.CreateRequest(urn=urn, properties=checked.inputs))
    created_outs = rpc.deserialize_properties(created.properties)
    assert created_outs["inserted"] is True
    # The password leaves only under its own name, which the resource lists as a secret output.
    assert [key for key, value in created_outs.items() if value == "calvin"] == ["password"]
    read = stub.Read(proto.ReadRequest(id=created.id, urn=urn, properties=created.properties))
    assert rpc.deserialize_properties(read.properties)["image_url"] == image
    stub.Delete(proto.DeleteRequest(id=created.id, urn=urn, properties=created.properties))
    with connect(idrac, FakeClock()) as client:
        assert client.get(client.virtual_media_path() + "/Cd")["Inserted"] is False
    assert idrac.session_count() == 0


@pytest.mark.programs
def test_a_bad_input_is_refused_by_the_servicer(dynamic_provider_host: provider_pb2_grpc.ResourceProviderStub) -> None:
    props = {
        "endpoint": "ftp://idrac",
        "username": "root",
        "password": "calvin",
        "image_url": "https://x/y.iso",
        PROVIDER_KEY: serialize_provider(VirtualMediaProvider(**SETTINGS)),
    }
    urn = "urn:pulumi:orion::orion::pulumi-python:dynamic/idrac:VirtualMedia::installer"
    checked = dynamic_provider_host.Check(proto.CheckRequest(urn=urn, olds=struct({}), news=struct(props)))
    assert [(failure.property, failure.reason) for failure in checked.failures] == [
        ("endpoint", "expected the iDRAC's URL like https://192.168.1.2, got 'ftp://idrac'")
    ]
