"""verify: first_use against the emulated iDRAC 8 over TLS: the certificate is recorded on first contact from a
handshake alone, every resource is then pinned to it, and a different certificate is refused before any credential
is sent, by every resource and by a refresh."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult
from pulumi.dynamic.dynamic import PROVIDER_KEY, serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from orion_infra.redfish.client import Credentials, RedfishClient, Timeouts
from orion_infra.redfish.errors import RedfishCertificateError, RedfishUnavailableError
from orion_infra.redfish.providers import (
    UNKNOWN,
    BootOnceProvider,
    IdracProvider,
    PowerStateProvider,
    RootPasswordProvider,
    SystemInfoProvider,
    TlsIdentityProvider,
    VirtualMediaProvider,
)
from orion_infra.redfish.tls import TlsSettings
from tests.redfish.conftest import FAST_RETRY, FAST_WAITS, FakeClock, struct
from tests.redfish.emulator import HttpsIdrac, RunningService, openssl_sha256, self_signed_certificate

TIMEOUTS = Timeouts(connect=1.0, read=5.0)
SETTINGS: dict[str, Any] = {"waits": FAST_WAITS, "retry": FAST_RETRY, "timeouts": TIMEOUTS}
IDENTITY_URN = (
    "urn:pulumi:orion::orion::orion:idrac:IdracHost$pulumi-python:dynamic/idrac:TlsIdentity::orion-pve-tls-identity"
)
ROTATED = "First-Rotation1"


def outs(result: CreateResult | ReadResult | UpdateResult) -> dict[str, Any]:
    assert result.outs is not None
    return result.outs


def first_contact(service: HttpsIdrac) -> CreateResult:
    return TlsIdentityProvider(retry=FAST_RETRY, timeouts=TIMEOUTS).create({"endpoint": service.url})


def pinned(service: HttpsIdrac, fingerprint: str, password: str = "calvin") -> dict[str, Any]:
    """The connection IdracHost gives every resource of a host with verify: first_use."""
    return {
        "endpoint": service.url,
        "username": "root",
        "password": password,
        "tls_verify": "first_use",
        "ca_bundle": None,
        "sha256_fingerprint": fingerprint,
        "tls_identity": IDENTITY_URN,
    }


@pytest.mark.programs
def test_first_contact_records_the_certificate_openssl_sees_from_a_handshake_alone(
    https_idrac_service: HttpsIdrac, tmp_path: Path
) -> None:
    service = https_idrac_service
    created = first_contact(service)
    recorded = outs(created)
    assert recorded["sha256_fingerprint"] == openssl_sha256(tmp_path / "idrac.pem")
    assert recorded["subject"] == "CN=idrac"
    expires = datetime.datetime.fromisoformat(recorded["not_after"])
    assert datetime.timedelta(days=1) < expires - datetime.datetime.now(datetime.UTC) <= datetime.timedelta(days=2)
    # A handshake and nothing more: no HTTP request reached the iDRAC, so no credential either.
    assert service.layer.seen == []
    # A refresh returns what was recorded without contacting the iDRAC: not when it presents another certificate,
    provider = TlsIdentityProvider(retry=FAST_RETRY, timeouts=TIMEOUTS)
    service.start(*self_signed_certificate(tmp_path, "replacement"))
    assert outs(provider.read(created.id, recorded)) == recorded
    # nor when it is gone.
    service.stop()
    assert outs(provider.read(created.id, recorded)) == recorded
    assert service.layer.seen == []


def test_only_a_new_endpoint_records_another_certificate() -> None:
    provider = TlsIdentityProvider()
    olds = {"endpoint": "https://192.168.1.2", "sha256_fingerprint": "AB:" * 31 + "AB", "subject": "CN=idrac"}
    same = provider.diff("id", olds, {"endpoint": "https://192.168.1.2"})
    assert (same.changes, same.replaces) == (False, [])
    moved = provider.diff("id", olds, {"endpoint": "https://192.168.1.3"})
    assert (moved.changes, moved.replaces) == (True, ["endpoint"])
    assert [(f.property, f.reason) for f in provider.check({}, {"endpoint": "http://192.168.1.2"}).failures] == [
        ("endpoint", "expected the iDRAC's https:// URL like https://192.168.1.2, got 'http://192.168.1.2'")
    ]
    assert provider.check({}, {"endpoint": UNKNOWN}).failures == []


def refusals(
    service: HttpsIdrac, fingerprint: str, image: str, clock: FakeClock
) -> dict[str, Callable[[], CreateResult | ReadResult | UpdateResult | None]]:
    """Every call a `pulumi up`, `refresh` or `destroy` makes to the iDRAC, with the connection pinned to
    `fingerprint` and the password in force; the providers' default retry policy and waits, on `clock`."""
    rotated = pinned(service, fingerprint, ROTATED)
    settings: dict[str, Any] = {"timeouts": TIMEOUTS, "clock": clock}
    rotation = RootPasswordProvider(**settings)
    info, media, boot, power = (
        SystemInfoProvider(**settings),
        VirtualMediaProvider(**settings),
        BootOnceProvider(**settings),
        PowerStateProvider(**settings),
    )
    media_props = {**rotated, "image_url": image, "inserted": True}
    boot_props = {**rotated, "method": "standard", "trigger": image, "boot_target": "Cd", "boot_enabled": "Once"}
    power_props = {**rotated, "desired": "On", "power_state": "On"}
    return {
        "rotation": lambda: rotation.create({**rotated, "new_password": "Second-Rotation2"}),
        "rotation again": lambda: rotation.update(
            "id", {**rotated, "new_password": ROTATED}, {**rotated, "new_password": "Second-Rotation2"}
        ),
        "system info": lambda: info.create(rotated),
        "system info refresh": lambda: info.read("id", rotated),
        "media": lambda: media.create(media_props),
        "media refresh": lambda: media.read("id", media_props),
        "media eject": lambda: media.delete("id", media_props),
        "boot once": lambda: boot.create(boot_props),
        "boot once refresh": lambda: boot.read("id", boot_props),
        "boot once clear": lambda: boot.delete("id", boot_props),
        "power": lambda: power.create(power_props),
        "power refresh": lambda: power.read("id", power_props),
    }


@pytest.mark.programs
def test_every_resource_is_pinned_to_the_recorded_certificate_and_refuses_another_before_sending_anything(
    clock: FakeClock, https_idrac_service: HttpsIdrac, tmp_path: Path, image_server: str
) -> None:
    service = https_idrac_service
    image = f"{image_server}/proxmox-ve.iso"
    recorded = outs(first_contact(service))["sha256_fingerprint"]

    # Pinned, the rotation (with the factory password) and every resource work.
    rotation = RootPasswordProvider(**SETTINGS)
    rotation.create({**pinned(service, recorded), "new_password": ROTATED})
    assert service.layer.passwords["root"] == ROTATED
    rotated = pinned(service, recorded, ROTATED)
    assert outs(SystemInfoProvider(**SETTINGS).create(rotated))["service_tag"] == "CQ5QBM2"
    assert outs(VirtualMediaProvider(**SETTINGS).create({**rotated, "image_url": image}))["inserted"] is True
    boot = outs(BootOnceProvider(**SETTINGS).create({**rotated, "method": "standard", "trigger": image}))
    assert boot["boot_enabled"] == "Once"
    power = PowerStateProvider(timeouts=TIMEOUTS, clock=clock)
    assert outs(power.create({**rotated, "desired": "On"}))["power_state"] == "On"
    assert any(seen.authorization for seen in service.layer.seen)  # the recording sees credentials when sent

    # The iDRAC's address now answers with another certificate.
    replacement, _ = certificate = self_signed_certificate(tmp_path, "replacement")
    service.start(*certificate)
    presented = openssl_sha256(replacement)
    before = len(service.layer.seen)
    waited = len(clock.slept)
    for name, call in refusals(service, recorded, image, clock).items():
        with pytest.raises(RedfishCertificateError) as refused:
            call()
        message = str(refused.value)
        assert f"presented a certificate with SHA-256 fingerprint {presented}" in message, name
        assert f"but {recorded} is the one pinned" in message, name
        assert "Nothing was sent to it (no request, no password)" in message, name
        assert f"record it with `pulumi up --replace '{IDENTITY_URN}'`" in message, name
        # Refused at once, not retried: the same certificate would be refused again.
        assert clock.slept[waited:] == [], name
    assert service.layer.seen[before:] == []
    assert service.layer.passwords["root"] == ROTATED

    # The operator replaced the certificate on purpose: `pulumi up --replace` on the TlsIdentity records the new
    # one, and the resources only store the new pin; nothing is done on the server (no boot re-armed, say).
    renewed = outs(first_contact(service))["sha256_fingerprint"]
    assert renewed == presented
    for provider, props in (
        (SystemInfoProvider(**SETTINGS), rotated),
        (BootOnceProvider(**SETTINGS), {**rotated, "method": "standard", "trigger": image, **boot}),
        (PowerStateProvider(**SETTINGS), {**rotated, "desired": "On"}),
    ):
        news = {**props, "sha256_fingerprint": renewed}
        diff = provider.diff("id", props, news)
        assert (diff.changes, diff.replaces) == (True, [])
        assert outs(provider.update("id", props, news))["sha256_fingerprint"] == renewed
    assert service.layer.seen[before:] == []
    assert outs(SystemInfoProvider(**SETTINGS).read("id", {**rotated, "sha256_fingerprint": renewed}))["model"] == (
        "PowerEdge R730"
    )


@pytest.mark.programs
def test_a_session_login_is_never_attempted_against_another_certificate(
    https_idrac_service: HttpsIdrac, tmp_path: Path
) -> None:
    service = https_idrac_service
    recorded = outs(first_contact(service))["sha256_fingerprint"]
    service.start(*self_signed_certificate(tmp_path, "replacement"))
    tls = TlsSettings("first_use", sha256_fingerprint=recorded)
    # The default retry policy, on a clock that records any wait: a refusal is final, so none.
    clock = FakeClock()
    client = RedfishClient(service.url, Credentials("root", "calvin"), tls, use_session=True, clock=clock)
    with pytest.raises(RedfishCertificateError, match="Nothing was sent"), client:
        pass
    assert clock.slept == []
    assert service.layer.seen == []
    assert service.layer.sessions == {}


@pytest.mark.programs
def test_first_contact_through_the_real_servicer(
    https_idrac_service: HttpsIdrac, tmp_path: Path, dynamic_provider_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    """The provider is dill-pickled as in Pulumi's state and run by Pulumi's provider host; a refresh (Read) of the
    recorded certificate works with the iDRAC gone."""
    stub = dynamic_provider_host
    service = https_idrac_service
    props = {
        "endpoint": service.url,
        "sha256_fingerprint": None,
        "subject": None,
        "not_after": None,
        PROVIDER_KEY: serialize_provider(TlsIdentityProvider(retry=FAST_RETRY, timeouts=TIMEOUTS)),
    }
    urn = IDENTITY_URN
    checked = stub.Check(proto.CheckRequest(urn=urn, olds=struct({}), news=struct(props)))
    assert list(checked.failures) == []
    created = stub.Create(proto.CreateRequest(urn=urn, properties=checked.inputs))
    recorded = rpc.deserialize_properties(created.properties)
    assert recorded["sha256_fingerprint"] == openssl_sha256(tmp_path / "idrac.pem")
    service.stop()
    read = stub.Read(proto.ReadRequest(id=created.id, urn=urn, properties=created.properties))
    assert rpc.deserialize_properties(read.properties)["sha256_fingerprint"] == recorded["sha256_fingerprint"]
    assert service.layer.seen == []


def test_every_idrac_provider_pins_with_first_use() -> None:
    """The connection check accepts a recorded pin and the client built from it is pinned to it."""
    fingerprint = "AB:" * 31 + "CD"
    props = {
        "endpoint": "https://192.168.1.2",
        "username": "root",
        "password": "calvin",
        "tls_verify": "first_use",
        "sha256_fingerprint": fingerprint,
        "tls_identity": IDENTITY_URN,
    }
    provider: IdracProvider = SystemInfoProvider(**SETTINGS)
    assert provider.check({}, props).failures == []
    tls = provider.client(props).tls
    assert (tls.verify, tls.sha256_fingerprint, tls.pinned) == ("first_use", fingerprint, True)
    assert tls.renewal is not None
    assert IDENTITY_URN in tls.renewal


def test_first_contact_with_a_service_that_does_not_speak_tls_fails_at_once(idrac: RunningService) -> None:
    """A handshake that fails (plain HTTP on the port, say) fails the same way again: not retried."""
    clock = FakeClock()
    provider = TlsIdentityProvider(timeouts=TIMEOUTS, clock=clock)
    https = idrac.url.replace("http://", "https://")
    with pytest.raises(RedfishUnavailableError, match=r"the TLS handshake failed"):
        provider.create({"endpoint": https})
    assert clock.slept == []


def test_first_contact_with_an_idrac_that_refuses_is_retried_within_the_attempts() -> None:
    """An iDRAC restarting refuses connections for a while: retried, on the provider's clock."""
    clock = FakeClock()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = TlsIdentityProvider(timeouts=TIMEOUTS, clock=clock)
    with pytest.raises(RedfishUnavailableError, match=r"no TLS handshake after 6 attempts \(last: ConnectionRefused"):
        provider.create({"endpoint": f"https://127.0.0.1:{port}"})
    assert len(clock.slept) == 5
