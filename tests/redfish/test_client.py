"""The Redfish client against sushy-emulator, plain and dressed as an iDRAC 8."""

from __future__ import annotations

import socket

import pytest

from orion_infra.redfish.client import Credentials, RedfishClient
from orion_infra.redfish.errors import RedfishError, RedfishUnavailableError
from orion_infra.redfish.tls import TlsSettings
from tests.redfish.conftest import FakeClock, connect
from tests.redfish.emulator import Fault, RunningService, error_body


def test_discovers_idrac8_paths_through_links(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        assert client.virtual_media_path().startswith("/redfish/v1/Managers/")
        assert client.system_path().startswith("/redfish/v1/Systems/")
        assert client.accounts_path().endswith("/Accounts")


def test_discovers_generic_paths_through_links(clock: FakeClock, plain_redfish: RunningService) -> None:
    with connect(plain_redfish, clock) as client:
        assert client.virtual_media_path() == client.system_path() + "/VirtualMedia"


def test_a_session_is_deleted_on_the_way_out(clock: FakeClock, idrac: RunningService) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock, use_session=True) as client:
        client.system()
        assert idrac.session_count() == 1
    assert idrac.session_count() == 0


def test_a_session_is_deleted_after_an_error_too(clock: FakeClock, idrac: RunningService) -> None:
    with pytest.raises(RedfishError), connect(idrac, clock, use_session=True) as client:
        client.get("/redfish/v1/Nowhere")
    assert idrac.session_count() == 0


def test_out_of_sessions_is_retried_until_one_frees(clock: FakeClock, idrac: RunningService) -> None:
    assert idrac.layer is not None
    idrac.layer.faults.append(
        Fault("status", 503, error_body("RAC0218", "The maximum number of user sessions is reached."))
    )
    with connect(idrac, clock, use_session=True) as client:
        assert client.system()["PowerState"] == "Off"
    assert idrac.session_count() == 0


def test_errors_carry_extended_info(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client, pytest.raises(RedfishError) as failed:
        client.post(client.system_path() + "/Actions/ComputerSystem.Reset", {"ResetType": "GracefulRestart"})
    assert failed.value.status == 400
    assert "The value GracefulRestart for ResetType is not supported. (SYS444)" in str(failed.value)


def test_wrong_password_is_a_clear_401(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock, password="wrong") as client, pytest.raises(RedfishError) as failed:
        client.system()
    assert failed.value.status == 401
    assert "Authentication failed. (RAC0178)" in str(failed.value)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", 500, error_body("SYS446", "Internal error")),
        Fault("status", 503, error_body("RAC0218", "The maximum number of user sessions is reached.")),
        Fault("reset"),
        Fault("hang", seconds=1.0),
    ],
    ids=["500", "503", "connection-reset", "timeout"],
)
@pytest.mark.realtime
def test_transient_faults_on_reads_are_retried(clock: FakeClock, idrac: RunningService, fault: Fault) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock, read_timeout=0.5) as client:
        path = client.system_path()
        idrac.layer.faults.append(fault)
        assert client.get(path)["PowerState"] == "Off"


def test_a_service_that_keeps_failing_gives_up_with_the_reason(clock: FakeClock, idrac: RunningService) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock) as client:
        path = client.system_path()
        idrac.layer.faults.extend(Fault("status", 500, error_body("SYS446", "Internal error")) for _ in range(10))
        with pytest.raises(RedfishUnavailableError) as failed:
            client.get(path)
    assert "no usable answer after 6 attempts (last: HTTP 500: Internal error (SYS446))" in str(failed.value)
    assert len(clock.slept) == 5  # between the six attempts, on the test's clock


def test_each_retry_is_reported_with_the_attempt_the_reason_and_the_wait(
    clock: FakeClock, idrac: RunningService
) -> None:
    assert idrac.layer is not None
    lines: list[str] = []
    client = connect(idrac, clock)
    client.progress = lines.append
    with client:
        path = client.system_path()
        busy = error_body("RAC0218", "The maximum number of user sessions is reached.")
        idrac.layer.faults.extend([Fault("status", 503, busy), Fault("reset")])
        assert client.get(path)["PowerState"] == "Off"
    where = f"GET {path} at {idrac.url}"
    assert lines == [
        f"{where}: HTTP 503: The maximum number of user sessions is reached. (RAC0218) (attempt 1 of 6); "
        f"next in {clock.slept[0]:.1f} s",
        f"{where}: the connection was closed without an answer (attempt 2 of 6); next in {clock.slept[1]:.1f} s",
    ]


@pytest.mark.parametrize("status", [400, 404, 405])
def test_an_error_answer_is_not_retried(clock: FakeClock, idrac: RunningService, status: int) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock) as client:
        path = client.system_path()
        before = idrac.layer.requests
        idrac.layer.faults.append(Fault("status", status, error_body("SYS403", "No.")))
        with pytest.raises(RedfishError) as failed:
            client.get(path)
    assert failed.value.status == status
    assert idrac.layer.requests == before + 1
    assert clock.slept == []


def test_a_post_answered_500_is_not_repeated(clock: FakeClock, idrac: RunningService) -> None:
    """A 500 from an action is the action failing (an image the iDRAC cannot fetch): the same POST fails again."""
    assert idrac.layer is not None
    with connect(idrac, clock) as client:
        target = client.system_path() + "/Actions/ComputerSystem.Reset"
        before = idrac.layer.requests
        idrac.layer.faults.append(Fault("status", 500, error_body("SYS446", "Internal error"), method="POST"))
        with pytest.raises(RedfishError, match=r"HTTP 500: Internal error \(SYS446\)"):
            client.post(target, {"ResetType": "On"})
    assert idrac.layer.requests == before + 1
    assert clock.slept == []


def test_a_post_turned_away_unprocessed_is_retried(clock: FakeClock, idrac: RunningService) -> None:
    """503 (iDRAC 8 out of sessions, RAC0218) means the action was not run: sending it again is safe."""
    assert idrac.layer is not None
    with connect(idrac, clock) as client:
        target = client.system_path() + "/Actions/ComputerSystem.Reset"
        busy = error_body("RAC0218", "The maximum number of user sessions is reached.")
        idrac.layer.faults.append(Fault("status", 503, busy, method="POST"))
        assert client.post(target, {"ResetType": "On"}).status_code == 204
    assert len(clock.slept) == 1


def test_a_name_that_does_not_resolve_is_not_retried(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo stays a typo while we wait. The resolver answers as glibc does for an unknown name, without a query
    leaving the machine."""

    def unknown(host: str, *_: object, **__: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    client = RedfishClient("https://idrac.lan", Credentials("root", "calvin"), TlsSettings("system"), clock=clock)
    with client, pytest.raises(RedfishUnavailableError, match=r"https://idrac.lan: the name does not resolve"):
        client.root()
    assert clock.slept == []


def test_a_snapshot_reads_each_resource_once_until_a_write(clock: FakeClock, idrac: RunningService) -> None:
    """The power state read after a reset is the service's, not the snapshot's: a write drops what was read."""
    assert idrac.layer is not None
    with connect(idrac, clock) as client, client.snapshot():
        system = client.system_path()
        before = len(idrac.layer.seen)
        assert client.system()["PowerState"] == "Off"
        assert client.system()["PowerState"] == "Off"
        assert client.get("/redfish/v1/") is client.root()  # one resource, with or without the final slash
        assert len(idrac.layer.seen) == before + 1  # the root was read by discovery already
        client.post(f"{system}/Actions/ComputerSystem.Reset", {"ResetType": "On"})
        clock.sleep(12)  # past sushy's 1-11 s
        assert client.system()["PowerState"] == "On"
    assert [seen.method for seen in idrac.layer.seen[before:]] == ["GET", "POST", "GET"]
