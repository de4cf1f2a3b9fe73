"""Trusting the iDRAC's certificate, and operations that survive a service that stutters or stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion_infra.redfish import operations
from orion_infra.redfish.client import Credentials, RedfishClient, Timeouts
from orion_infra.redfish.errors import RedfishCertificateError, RedfishUnavailableError
from orion_infra.redfish.tls import TlsSettings, TlsVerify
from tests.redfish.conftest import FAST_RETRY, FakeClock, connect
from tests.redfish.emulator import Fault, HttpsIdrac, RunningService, openssl_sha256, self_signed_certificate


@pytest.fixture
def https_idrac(https_idrac_service: HttpsIdrac, tmp_path: Path) -> tuple[str, Path, str]:
    """The emulated iDRAC 8 over TLS with a self-signed certificate, as a new iDRAC ships."""
    cert = tmp_path / "idrac.pem"
    return https_idrac_service.url, cert, openssl_sha256(cert)


def read_power(url: str, tls: TlsSettings) -> str:
    client = RedfishClient(url, Credentials("root", "calvin"), tls, timeouts=Timeouts(1.0, 5.0), retry=FAST_RETRY)
    with client:
        return operations.power_state(client)


@pytest.mark.programs
def test_a_pinned_fingerprint_is_trusted(https_idrac: tuple[str, Path, str]) -> None:
    url, _, fingerprint = https_idrac
    assert read_power(url, TlsSettings("fingerprint", sha256_fingerprint=fingerprint)) == "Off"


@pytest.mark.programs
def test_a_wrong_fingerprint_is_refused(https_idrac: tuple[str, Path, str]) -> None:
    url, _, _ = https_idrac
    with pytest.raises(RedfishUnavailableError, match=r"(?i)fingerprint"):
        read_power(url, TlsSettings("fingerprint", sha256_fingerprint="00" * 32))


@pytest.mark.programs
def test_a_ca_bundle_is_trusted_and_the_system_store_is_not(https_idrac: tuple[str, Path, str]) -> None:
    url, cert, _ = https_idrac
    assert read_power(url, TlsSettings("ca_bundle", ca_bundle=str(cert))) == "Off"
    with pytest.raises(RedfishCertificateError, match="not signed by a CA in the system's CA store"):
        read_power(url, TlsSettings("system"))


@pytest.mark.parametrize("verify", ["system", "ca_bundle"])
@pytest.mark.programs
def test_a_certificate_no_ca_vouches_for_is_refused_at_once_before_anything_is_sent(
    https_idrac_service: HttpsIdrac, tmp_path: Path, verify: TlsVerify
) -> None:
    """The iDRAC's self-signed certificate, checked against the system store or against a bundle of another CA:
    refused as untrusted, final (the default retry policy would wait about a minute), no request written."""
    other, _ = self_signed_certificate(tmp_path, "another-ca")
    tls = TlsSettings(verify, ca_bundle=str(other) if verify == "ca_bundle" else None)
    clock = FakeClock()
    client = RedfishClient(https_idrac_service.url, Credentials("root", "calvin"), tls, clock=clock)
    with pytest.raises(RedfishCertificateError) as refused, client:
        operations.power_state(client)
    message = str(refused.value)
    fingerprint = openssl_sha256(tmp_path / "idrac.pem")
    trusted = str(other) if verify == "ca_bundle" else "the system's CA store"
    assert message == (
        f"GET /redfish/v1/: {https_idrac_service.url}: its certificate (subject CN=idrac, issuer CN=idrac, SHA-256 "
        f"{fingerprint}) is not trusted: self-signed certificate, not signed by a CA in {trusted}. Nothing was sent "
        "to it (no request, no password)"
    )
    assert refused.value.presented_sha256 == fingerprint
    assert clock.slept == []
    assert https_idrac_service.layer.seen == []


@pytest.mark.programs
def test_insecure_works_and_says_so(https_idrac: tuple[str, Path, str], caplog: pytest.LogCaptureFixture) -> None:
    url, _, _ = https_idrac
    assert read_power(url, TlsSettings("insecure")) == "Off"
    assert "TLS verification is off" in caplog.text


@pytest.mark.realtime
def test_power_on_converges_through_a_service_that_stops_answering_for_a_while(
    clock: FakeClock, idrac: RunningService
) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock, use_session=True, read_timeout=0.5) as client:
        operations.power_state(client)
        # Mid-operation, within the retry budget (4 attempts here): no answer, a dropped connection, a 500.
        idrac.layer.faults.extend(
            [Fault("hang", seconds=1.0, method="GET"), Fault("reset", method="GET"), Fault("status", 500, method="GET")]
        )
        assert operations.set_power(client, "On") == "On"
        assert operations.power_state(client) == "On"
    assert idrac.session_count() == 0


def test_a_service_that_never_comes_back_fails_clearly_and_leaves_no_session(
    clock: FakeClock, idrac: RunningService
) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock, use_session=True) as client:
        operations.power_state(client)
        idrac.layer.faults.extend(Fault("status", 503, method="GET") for _ in range(20))
        with pytest.raises(RedfishUnavailableError, match="no usable answer"):
            operations.set_power(client, "On")
        idrac.layer.faults.clear()
    assert idrac.session_count() == 0


def test_a_conflict_is_resolved_by_reading_again(clock: FakeClock, idrac: RunningService) -> None:
    """Someone else powered the server on between our read and our request: 409, then we read On."""
    with connect(idrac, clock) as client:
        operations.set_power(client, "On")
        operations._reset(client, client.system(), "On")  # answered 409 by the iDRAC, taken as "re-read"
        assert operations.set_power(client, "On") == "On"


@pytest.mark.programs
def test_a_ca_bundle_that_is_no_bundle_is_refused_at_once(https_idrac_service: HttpsIdrac, tmp_path: Path) -> None:
    """The providers' path too (the CLI checks it before connecting): OpenSSL refusing to load the bundle is not a
    connection failure to retry for a minute."""
    bundle = tmp_path / "some.csv"
    bundle.write_text("host,port\nidrac,443\n")
    clock = FakeClock()
    tls = TlsSettings("ca_bundle", ca_bundle=str(bundle))
    client = RedfishClient(https_idrac_service.url, Credentials("root", "calvin"), tls, clock=clock)
    with pytest.raises(RedfishCertificateError) as refused, client:
        operations.power_state(client)
    assert str(refused.value) == (
        f"GET /redfish/v1/: the CA bundle {bundle}: expected PEM certificates (-----BEGIN CERTIFICATE-----), found "
        f"none; nothing was sent to {https_idrac_service.url}"
    )
    assert clock.slept == []
    assert https_idrac_service.layer.seen == []
