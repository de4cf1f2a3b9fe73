"""What ORION does to a server through Redfish. Each operation reads the state first (a repeat is a no-op),
acts, and reports only what it read back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from orion_infra.redfish.client import Progress, RedfishClient
from orion_infra.redfish.errors import RedfishError, RedfishUnsupportedError

PowerTarget = Literal["On", "Off"]


def _quiet(_: str) -> None:
    """The default progress report: none."""


@dataclass(frozen=True)
class Waits:
    """How long power changes may take, read on the client's clock. iDRAC 8 needs minutes."""

    graceful_seconds: float = 300.0
    force_seconds: float = 120.0
    poll_seconds: float = 5.0

    def __post_init__(self) -> None:
        for name, seconds in (("graceful", self.graceful_seconds), ("force", self.force_seconds)):
            if seconds < 0:
                raise ValueError(f"{name} wait: expected 0 s or more, got {seconds:g}")
        if self.poll_seconds <= 0:
            raise ValueError(f"poll interval: expected more than 0 s, got {self.poll_seconds:g}")


# -- power --------------------------------------------------------------------------------------------------


def power_state(client: RedfishClient) -> str:
    return str(client.system().get("PowerState", "Unknown"))


def reset_types(system: dict[str, Any]) -> list[str]:
    action = system.get("Actions", {}).get("#ComputerSystem.Reset", {})
    return list(action.get("ResetType@Redfish.AllowableValues", []))


def _reset(client: RedfishClient, system: dict[str, Any], reset_type: str) -> None:
    target = system.get("Actions", {}).get("#ComputerSystem.Reset", {}).get("target")
    if not target:
        raise RedfishUnsupportedError(f"{client.system_path()} offers no ComputerSystem.Reset action")
    try:
        client.post(str(target), {"ResetType": reset_type})
    except RedfishError as error:
        if error.status != 409:
            raise
        # 409: the request conflicts with the current state (already on, a change under way): callers re-read.


def _wait_for_power(client: RedfishClient, desired: str, seconds: float, waits: Waits, progress: Progress) -> bool:
    deadline = client.clock.monotonic() + seconds
    while True:
        state = power_state(client)
        if state == desired:
            return True
        if client.clock.monotonic() >= deadline:
            return False
        progress(f"power is {state}, waiting for {desired}")
        client.clock.sleep(waits.poll_seconds)


def _first_reset(allowed: list[str], desired: PowerTarget) -> str:
    """The reset that asks for `desired`: On (else the power button), or a graceful shutdown (else ForceOff)."""
    if desired == "On":
        return "On" if "On" in allowed or not allowed else "PushPowerButton"
    return "GracefulShutdown" if "GracefulShutdown" in allowed or not allowed else "ForceOff"


def request_power(client: RedfishClient, desired: PowerTarget) -> dict[str, str]:
    """Ask for On or Off without waiting for it: the state read first and the reset sent (none if already there).
    An Off asked this way is graceful where the firmware offers it, with no forced fallback: nobody waits for it."""
    system = client.system()
    state = str(system.get("PowerState", "Unknown"))
    if state == desired:
        return {"power_state": state}
    reset = _first_reset(reset_types(system), desired)
    _reset(client, system, reset)
    return {"power_state": state, "requested": reset}


def set_power(client: RedfishClient, desired: PowerTarget, waits: Waits = Waits(), progress: Progress = _quiet) -> str:
    """Power the system on or off and wait until it is; off is graceful first, forced after a timeout."""
    system = client.system()  # one read decides: the state, the resets offered, where to send them
    if system.get("PowerState") == desired:
        return desired
    first = _first_reset(reset_types(system), desired)
    if desired == "On":
        _reset(client, system, first)
        if not _wait_for_power(client, "On", waits.force_seconds, waits, progress):
            raise RedfishError("POST", client.system_path(), 200, [f"still {power_state(client)} after power on"])
        return "On"
    if first == "GracefulShutdown":
        _reset(client, system, "GracefulShutdown")
        if _wait_for_power(client, "Off", waits.graceful_seconds, waits, progress):
            return "Off"
        progress(f"no graceful shutdown within {waits.graceful_seconds:g} s, forcing power off")
    _reset(client, system, "ForceOff")
    if not _wait_for_power(client, "Off", waits.force_seconds, waits, progress):
        raise RedfishError("POST", client.system_path(), 200, [f"still {power_state(client)} after a forced power off"])
    return "Off"


def reboot(client: RedfishClient, waits: Waits = Waits(), progress: Progress = _quiet) -> str:
    """Restart a running system (gracefully where the firmware can: iDRAC 8 cannot); start a stopped one."""
    system = client.system()
    if system.get("PowerState") != "On":
        return set_power(client, "On", waits, progress)
    allowed = reset_types(system)
    _reset(client, system, "GracefulRestart" if "GracefulRestart" in allowed else "ForceRestart")
    _wait_for_power(client, "On", waits.force_seconds, waits, progress)
    return power_state(client)


# -- boot ---------------------------------------------------------------------------------------------------

BootMethod = Literal["standard", "dell-scp"]

# Dell's Server Configuration Profile that makes the next boot use the virtual CD (iDRAC 8 firmware that
# ignores the standard override and boots the physical drive).
_SCP_BOOT_ONCE_VCD = (
    '<SystemConfiguration><Component FQDD="iDRAC.Embedded.1">'
    '<Attribute Name="ServerBoot.1#BootOnce">Enabled</Attribute>'
    '<Attribute Name="ServerBoot.1#FirstBootDevice">VCD-DVD</Attribute>'
    "</Component></SystemConfiguration>"
)


def boot_override(client: RedfishClient) -> dict[str, str]:
    boot = client.system().get("Boot", {})
    return {
        "target": str(boot.get("BootSourceOverrideTarget", "None")),
        "enabled": str(boot.get("BootSourceOverrideEnabled", "Disabled")),
    }


def boot_once_from_cd(
    client: RedfishClient, method: BootMethod = "standard", progress: Progress = _quiet
) -> dict[str, str]:
    """Make the next boot (only) start from the virtual CD; returns the override as read back."""
    if method == "dell-scp":
        _import_scp(client, _SCP_BOOT_ONCE_VCD, progress)
        return {"target": "Cd", "enabled": "Once", "method": "dell-scp"}
    if boot_override(client) == {"target": "Cd", "enabled": "Once"}:
        return {**boot_override(client), "method": method}
    client.patch(
        client.system_path(), {"Boot": {"BootSourceOverrideTarget": "Cd", "BootSourceOverrideEnabled": "Once"}}
    )
    after = boot_override(client)
    if after != {"target": "Cd", "enabled": "Once"}:
        raise RedfishError("PATCH", client.system_path(), 200, [f"the boot override reads back as {after}"])
    return {**after, "method": method}


def clear_boot_override(client: RedfishClient) -> None:
    if boot_override(client)["enabled"] != "Disabled":
        client.patch(client.system_path(), {"Boot": {"BootSourceOverrideEnabled": "Disabled"}})


def _import_scp(client: RedfishClient, profile: str, progress: Progress, timeout: float = 600.0) -> None:
    manager = client.manager()
    actions = manager.get("Actions", {}).get("Oem", {})
    action = next((value for key, value in actions.items() if key.endswith("ImportSystemConfiguration")), None)
    if not isinstance(action, dict) or "target" not in action:
        raise RedfishUnsupportedError(f"{client.manager_path()} offers no Dell ImportSystemConfiguration action")
    response = client.post(
        str(action["target"]),
        {"ImportBuffer": profile, "ShareParameters": {"Target": "ALL"}, "ShutdownType": "NoReboot"},
    )
    job = response.headers.get("Location")
    if not job:
        raise RedfishError("POST", str(action["target"]), response.status_code, ["no job Location in the answer"])
    deadline = client.clock.monotonic() + timeout
    while True:
        state = client.get(job)
        status = str(state.get("JobState", state.get("TaskState", "")))
        if status in ("Completed", "CompletedWithErrors", "Failed", "Exception", "Killed"):
            if status != "Completed":
                raise RedfishError("GET", job, 200, [f"configuration job ended {status}: {state.get('Message', '')}"])
            return
        if client.clock.monotonic() >= deadline:
            raise RedfishError("GET", job, 200, [f"configuration job still {status} after {timeout:g} s"])
        progress(f"configuration job {status}")
        client.clock.sleep(5.0)


# -- virtual media --------------------------------------------------------------------------------------------


def virtual_cd_path(client: RedfishClient) -> str:
    """The virtual media device that takes CD/DVD images (discovered once per client)."""

    def find() -> str:
        for media in client.members(client.virtual_media_path()):
            if any(str(kind).upper() in ("CD", "DVD") for kind in media.get("MediaTypes", [])):
                return str(media["@odata.id"])
        raise RedfishUnsupportedError(f"{client.virtual_media_path()} has no CD/DVD virtual media device")

    return client.discovered("virtual_cd", find)


def virtual_cd(client: RedfishClient) -> dict[str, Any]:
    return client.get(virtual_cd_path(client))


def _media_state(media: dict[str, Any]) -> dict[str, Any]:
    return {"image": media.get("Image") or None, "inserted": bool(media.get("Inserted"))}


def media_state(client: RedfishClient) -> dict[str, Any]:
    return _media_state(virtual_cd(client))


def _action_target(client: RedfishClient, media: dict[str, Any], action: str) -> str:
    target = media.get("Actions", {}).get(f"#VirtualMedia.{action}", {}).get("target")
    if not target:
        firmware = client.manager().get("FirmwareVersion", "unknown")
        raise RedfishUnsupportedError(
            f"{media.get('@odata.id')} offers no {action} action: this firmware ({firmware}) only lists virtual "
            "media; update the iDRAC firmware (2.40 or later) to mount images over Redfish"
        )
    return str(target)


def insert_media(client: RedfishClient, image_url: str) -> dict[str, Any]:
    """Insert `image_url` in the virtual CD (the iDRAC fetches it), replacing another image; returns the read-back."""
    with client.snapshot():  # discovery has just read the device: no second GET of it before the action
        return _insert_media(client, image_url)


def _insert_media(client: RedfishClient, image_url: str) -> dict[str, Any]:
    media = virtual_cd(client)
    if media.get("Inserted") and media.get("Image") == image_url:
        return _media_state(media)
    if media.get("Inserted"):
        client.post(_action_target(client, media, "EjectMedia"), {})
    insert = {"Image": image_url, "Inserted": True, "WriteProtected": True}
    client.post(_action_target(client, media, "InsertMedia"), insert)
    state = media_state(client)
    if state != {"image": image_url, "inserted": True}:
        raise RedfishError("POST", str(media.get("@odata.id")), 200, [f"the virtual CD reads back as {state}"])
    return state


def eject_media(client: RedfishClient) -> dict[str, Any]:
    with client.snapshot():  # as insert_media
        return _eject_media(client)


def _eject_media(client: RedfishClient) -> dict[str, Any]:
    media = virtual_cd(client)
    if not media.get("Inserted"):
        return _media_state(media)
    client.post(_action_target(client, media, "EjectMedia"), {})
    state = media_state(client)
    if state["inserted"]:
        raise RedfishError("POST", str(media.get("@odata.id")), 200, [f"the virtual CD reads back as {state}"])
    return state


# -- accounts -------------------------------------------------------------------------------------------------


def account_path(client: RedfishClient, username: str) -> str:
    for account in client.members(client.accounts_path()):
        if account.get("UserName") == username:
            return str(account["@odata.id"])
    raise RedfishError("GET", client.accounts_path(), 200, [f"no account named {username!r}"])


def change_password(client: RedfishClient, username: str, new_password: str) -> None:
    """Set `username`'s password. The client's own credentials are stale afterwards: open a new one."""
    client.patch(account_path(client, username), {"Password": new_password})


# -- facts ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemFacts:
    model: str
    service_tag: str
    bios_version: str
    idrac_firmware: str
    power_state: str
    health: str
    power_supplies: list[dict[str, Any]] = field(default_factory=list)
    temperatures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _optional_get(client: RedfishClient, resource: dict[str, Any], key: str) -> dict[str, Any]:
    if key not in resource:
        return {}
    return client.get(client.link(resource, key))


def system_facts(client: RedfishClient) -> SystemFacts:
    with client.snapshot():
        return _system_facts(client)


def _system_facts(client: RedfishClient) -> SystemFacts:
    system = client.system()
    manager = client.manager()
    chassis = client.get(client.chassis_path())
    root = client.root()
    status = system.get("Status", {})
    power = _optional_get(client, chassis, "Power")
    thermal = _optional_get(client, chassis, "Thermal")
    service_tag = (
        system.get("SKU") or root.get("Oem", {}).get("Dell", {}).get("ServiceTag") or system.get("SerialNumber")
    )
    return SystemFacts(
        model=str(system.get("Model") or chassis.get("Model") or "unknown"),
        service_tag=str(service_tag or "unknown"),
        bios_version=str(system.get("BiosVersion") or "unknown"),
        idrac_firmware=str(manager.get("FirmwareVersion") or "unknown"),
        power_state=str(system.get("PowerState", "Unknown")),
        health=str(status.get("HealthRollup") or status.get("HealthRollUp") or status.get("Health") or "Unknown"),
        power_supplies=[
            {
                "name": supply.get("Name", supply.get("MemberId", "")),
                "health": supply.get("Status", {}).get("Health"),
                "state": supply.get("Status", {}).get("State"),
                "capacity_watts": supply.get("PowerCapacityWatts"),
            }
            for supply in power.get("PowerSupplies", [])
        ],
        temperatures=[
            {
                "name": sensor.get("Name", ""),
                "celsius": sensor.get("ReadingCelsius"),
                "health": sensor.get("Status", {}).get("Health"),
            }
            for sensor in thermal.get("Temperatures", [])
        ],
    )
