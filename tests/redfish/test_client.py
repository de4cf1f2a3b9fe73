"""The Redfish client against sushy-emulator, plain and dressed as an iDRAC 8."""

from __future__ import annotations

import pytest

from orion_infra.redfish.errors import RedfishError, RedfishUnavailableError
from tests.redfish.conftest import connect
from tests.redfish.emulator import Fault, RunningService, error_body


def test_discovers_idrac8_paths_through_links(idrac: RunningService) -> None:
    with connect(idrac) as client:
        assert client.virtual_media_path().startswith("/redfish/v1/Managers/")
        assert client.system_path().startswith("/redfish/v1/Systems/")
        assert client.accounts_path().endswith("/Accounts")


def test_discovers_generic_paths_through_links(plain_redfish: RunningService) -> None:
    with connect(plain_redfish) as client:
        assert client.virtual_media_path() == client.system_path() + "/VirtualMedia"


def test_a_session_is_deleted_on_the_way_out(idrac: RunningService) -> None:
    assert idrac.layer is not None
    with connect(idrac, use_session=True) as client:
        client.system()
        assert idrac.session_count() == 1
    assert idrac.session_count() == 0


def test_a_session_is_deleted_after_an_error_too(idrac: RunningService) -> None:
    with pytest.raises(RedfishError), connect(idrac, use_session=True) as client:
        client.get("/redfish/v1/Nowhere")
    assert idrac.session_count() == 0


def test_out_of_sessions_is_retried_until_one_frees(idrac: RunningService) -> None:
    assert idrac.layer is not None
    idrac.layer.faults.append(
        Fault("status", 503, error_body("RAC0218", "The maximum number of user sessions is reached."))
    )
    with connect(idrac, use_session=True) as client:
        assert client.system()["PowerState"] == "Off"
    assert idrac.session_count() == 0


def test_errors_carry_extended_info(idrac: RunningService) -> None:
    with connect(idrac) as client, pytest.raises(RedfishError) as failed:
        client.post(client.system_path() + "/Actions/ComputerSystem.Reset", {"ResetType": "GracefulRestart"})
    assert failed.value.status == 400
    assert "The value GracefulRestart for ResetType is not supported. (SYS444)" in str(failed.value)


def test_wrong_password_is_a_clear_401(idrac: RunningService) -> None:
    with connect(idrac, password="wrong") as client, pytest.raises(RedfishError) as failed:
        client.system()
    assert failed.value.status == 401
    assert "Authentication failed. (RAC0178)" in str(failed.value)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", 500, error_body("SYS446", "Internal error")),
        Fault("status", 503, error_body("RAC0218", "The maximum number of user sessions is reached.")),
        Fault("reset"),
        Fault("hang", seconds=2.5),
    ],
    ids=["500", "503", "connection-reset", "timeout"],
)
def test_transient_faults_on_reads_are_retried(idrac: RunningService, fault: Fault) -> None:
    assert idrac.layer is not None
    with connect(idrac) as client:
        path = client.system_path()
        idrac.layer.faults.append(fault)
        assert client.get(path)["PowerState"] == "Off"


def test_a_service_that_keeps_failing_gives_up_with_the_reason(idrac: RunningService) -> None:
    assert idrac.layer is not None
    with connect(idrac) as client:
        path = client.system_path()
        idrac.layer.faults.extend(Fault("status", 500, error_body("SYS446", "Internal error")) for _ in range(10))
        with pytest.raises(RedfishUnavailableError) as failed:
            client.get(path)
    assert "after 4 attempts" in str(failed.value)
    assert "Internal error (SYS446)" in str(failed.value)


def test_a_post_whose_connection_drops_is_not_repeated(idrac: RunningService) -> None:
    assert idrac.layer is not None
    with connect(idrac) as client:
        target = client.system_path() + "/Actions/ComputerSystem.Reset"
        before = idrac.layer.requests
        idrac.layer.faults.append(Fault("reset", method="POST"))
        with pytest.raises(RedfishUnavailableError, match="the connection failed after sending"):
            client.post(target, {"ResetType": "On"})
        assert idrac.layer.requests == before + 1
