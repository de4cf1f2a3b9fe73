"""Power, boot, media, accounts and facts against the emulated iDRAC 8: idempotent, read back, and clear."""

from __future__ import annotations

import pytest

from orion_infra.redfish import operations
from orion_infra.redfish.errors import RedfishError, RedfishUnsupportedError
from tests.redfish.conftest import FakeClock, connect
from tests.redfish.emulator import RunningService


def test_power_on_then_again_is_a_no_op(clock: FakeClock, idrac: RunningService) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock) as client:
        assert operations.set_power(client, "On") == "On"
        before = idrac.layer.requests
        assert operations.set_power(client, "On") == "On"
        # One read of the state, and no Reset: a repeat changes nothing.
        assert idrac.layer.requests - before == 1
        assert operations.power_state(client) == "On"


def test_power_off_is_graceful_when_the_os_answers(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        operations.set_power(client, "On")
        progress: list[str] = []
        assert operations.set_power(client, "Off", progress=progress.append) == "Off"
        assert not any("forcing" in line for line in progress)


def test_power_off_is_forced_when_the_os_ignores_acpi(clock: FakeClock, idrac: RunningService) -> None:
    assert idrac.layer is not None
    idrac.layer.honour_graceful_shutdown = False
    with connect(idrac, clock) as client:
        operations.set_power(client, "On")
        progress: list[str] = []
        assert operations.set_power(client, "Off", progress=progress.append) == "Off"
        assert any("forcing power off" in line for line in progress)
        assert operations.power_state(client) == "Off"


def test_reboot_uses_force_restart_where_graceful_restart_is_missing(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        operations.set_power(client, "On")
        assert "GracefulRestart" not in operations.reset_types(client.system())
        assert operations.reboot(client) == "On"


def test_boot_once_from_cd_reads_back(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        assert operations.boot_once_from_cd(client) == {"target": "Cd", "enabled": "Once", "method": "standard"}
        assert operations.boot_override(client) == {"target": "Cd", "enabled": "Once"}
        operations.clear_boot_override(client)
        assert operations.boot_override(client)["enabled"] == "Disabled"


def test_boot_once_through_dells_configuration_job(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        assert operations.boot_once_from_cd(client, "dell-scp")["method"] == "dell-scp"
        assert operations.boot_override(client) == {"target": "Cd", "enabled": "Once"}


def test_the_one_time_boot_is_used_by_the_next_power_on(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        operations.boot_once_from_cd(client)
        operations.set_power(client, "On")
        assert operations.boot_override(client)["enabled"] == "Disabled"


def test_media_insert_replace_eject(clock: FakeClock, idrac: RunningService, image_server: str) -> None:
    first, second = f"{image_server}/proxmox-ve.iso", f"{image_server}/nixos.iso"
    with connect(idrac, clock) as client:
        assert operations.insert_media(client, first) == {"image": first, "inserted": True}
        assert operations.insert_media(client, first) == {"image": first, "inserted": True}
        assert operations.insert_media(client, second) == {"image": second, "inserted": True}
        assert operations.eject_media(client) == {"image": None, "inserted": False}
        assert operations.eject_media(client) == {"image": None, "inserted": False}


def test_media_on_a_generic_service(clock: FakeClock, plain_redfish: RunningService, image_server: str) -> None:
    with connect(plain_redfish, clock) as client:
        assert operations.insert_media(client, f"{image_server}/nixos.iso")["inserted"] is True


def test_firmware_without_insert_media_gets_a_clear_error(
    clock: FakeClock, idrac: RunningService, image_server: str
) -> None:
    assert idrac.layer is not None
    with connect(idrac, clock) as client:
        media = operations.virtual_cd(client)
        media["Actions"].pop("#VirtualMedia.InsertMedia")
        with pytest.raises(
            RedfishUnsupportedError, match=r"offers no InsertMedia action: this firmware \(2.86.86.86\)"
        ):
            operations._action_target(client, media, "InsertMedia")


def test_password_change_takes_effect_and_old_credentials_stop_working(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock, use_session=True) as client:
        operations.change_password(client, "root", "N3w-Secret-20chars")
    assert idrac.session_count() == 0
    with connect(idrac, clock, password="N3w-Secret-20chars") as client:
        assert operations.power_state(client) == "Off"
    with connect(idrac, clock, password="calvin") as client, pytest.raises(RedfishError) as refused:
        operations.power_state(client)
    assert refused.value.status == 401


def test_a_password_the_idrac_refuses_is_reported(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client, pytest.raises(RedfishError, match="RAC0916"):
        operations.change_password(client, "root", "x" * 21)


def test_system_facts(clock: FakeClock, idrac: RunningService) -> None:
    with connect(idrac, clock) as client:
        facts = operations.system_facts(client)
    assert (facts.model, facts.service_tag, facts.bios_version, facts.idrac_firmware) == (
        "PowerEdge R730",
        "CQ5QBM2",
        "2.17.0",
        "2.86.86.86",
    )
    assert (facts.power_state, facts.health) == ("Off", "OK")
    assert [supply["name"] for supply in facts.power_supplies] == ["PS1", "PS2"]
    assert facts.temperatures
    assert all(isinstance(sensor["celsius"], int | float) for sensor in facts.temperatures)
