"""The agent's settings: a file rendered from the stack model, overridden by `ORION_AGENT_*` environment variables."""

from __future__ import annotations

import contextvars
import ipaddress
import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SETTINGS_FILE_VARIABLE = "ORION_AGENT_SETTINGS_FILE"

Seconds = Annotated[float, Field(gt=0)]
Percent = Annotated[float, Field(gt=0, le=100)]
Port = Annotated[int, Field(ge=1, le=65535)]
DeviceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,15}$")]


class Section(BaseModel):
    """A nested section: frozen, and a misspelt key is an error rather than a silently ignored default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Router(Section):
    """The router the agent watches: how Prometheus labels it, and where its BIRD exporter answers."""

    host: str = Field(description="the router's `host` label, as its scrape targets carry it")
    # Never starting with '-': the address lands in an argv where a leading dash would read as an SSH option.
    address: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:-]*$")] = Field(
        description="where SSH reaches the router for remediation"
    )
    bird_exporter_url: AnyHttpUrl = Field(description="the router's bird exporter, probed directly, e.g. every second")
    wan_device: DeviceName
    wan_capacity_bits: Annotated[int, Field(gt=0)] = Field(description="the WAN's line rate, bits per second")
    lan_devices: list[DeviceName] = Field(default_factory=list)
    lan_capacity_bits: Annotated[int, Field(gt=0)] | None = Field(
        default=None, description="the LAN links' rate; without it LAN bandwidth is not checked"
    )


class Thresholds(Section):
    """Where a check turns from ok to warning; the defaults match the Prometheus alert rules."""

    cpu_percent: Percent = 90
    memory_percent: Percent = 90
    disk_percent: Percent = 90
    bandwidth_fraction: Annotated[float, Field(gt=0, le=1)] = 0.9
    # A forwarding loop makes the router answer with ICMP time-exceeded; a traceroute sends a few a second.
    time_exceeded_per_second: Annotated[float, Field(ge=0)] = 20.0
    time_exceeded_growth: Annotated[float, Field(ge=1)] = 5.0
    anomaly_score: Annotated[float, Field(gt=0, le=1)] = 0.8
    disk_full_horizon_hours: Annotated[float, Field(gt=0)] = 24
    wan_saturation_horizon_hours: Annotated[float, Field(gt=0)] = 6
    forecast_window_hours: Annotated[float, Field(gt=0)] = 6


class Remediation(Section):
    """Guard rails of the runbooks. Dry-run by default: the agent must be told explicitly that it may act."""

    dry_run: bool = True
    command: Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None, description="argv that restarts BGP; by default SSH to the router's forced command"
    )
    ssh_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] = "orion-agent"
    ssh_key_file: Path = Path("/var/lib/orion/secrets/orion-agent-ssh-key")
    known_hosts_file: Path = Path("/var/lib/orion/secrets/orion-agent-known-hosts")
    command_timeout_seconds: Seconds = 30
    cooldown_seconds: Annotated[float, Field(ge=0)] = 900
    budget_per_hour: Annotated[int, Field(ge=0)] = 2
    verify_timeout_seconds: Seconds = 180
    confirm_probes: Annotated[int, Field(ge=1)] = 5


class Settings(BaseSettings):
    """Everything the agent reads at start; `orion render` writes the file, the environment overrides it."""

    model_config = SettingsConfigDict(
        env_prefix="ORION_AGENT_", env_nested_delimiter="__", extra="forbid", frozen=True, validate_default=True
    )

    prometheus_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:9090")
    alertmanager_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:9093")
    # Prometheus and Alertmanager run beside it: loopback is all it needs to listen on.
    listen_address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address("127.0.0.1")
    listen_port: Port = 9110
    probe_interval_seconds: Annotated[float, Field(ge=0.1)] = 1.0
    probe_timeout_seconds: Seconds = 0.8
    check_interval_seconds: Annotated[float, Field(ge=1)] = 15.0
    prometheus_timeout_seconds: Seconds = 5.0
    forecast_interval_seconds: Annotated[float, Field(ge=1)] = 300.0
    report_interval_seconds: Annotated[float, Field(ge=60)] = 3600.0
    # The anomaly detectors' state is saved this often (and at stop) so a crash loses at most this much learning.
    detector_state_interval_seconds: Annotated[float, Field(ge=10)] = 300.0
    router: Router
    thresholds: Thresholds = Field(default_factory=Thresholds)
    remediation: Remediation = Field(default_factory=Remediation)
    state_dir: Path = Path("/var/lib/orion-agent")
    audit_log: Path = Path("/var/lib/orion-agent/audit.jsonl")
    # Under the unit's LogsDirectory: the hardened unit cannot write /var/log itself.
    log_file: Path | None = Path("/var/log/orion-agent/agent.log")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _probe_fits_interval(self) -> Self:
        # A probe that may outlast its interval would make the 1-second view lag behind without anyone noticing.
        if self.probe_timeout_seconds > self.probe_interval_seconds:
            raise ValueError(
                f"probe_timeout_seconds ({self.probe_timeout_seconds}) must not exceed "
                f"probe_interval_seconds ({self.probe_interval_seconds})"
            )
        return self

    @property
    def restart_bgp_command(self) -> list[str]:
        """The argv of the restart-bgp runbook: the configured one, or SSH to the router's forced command."""
        remediation = self.remediation
        if remediation.command is not None:
            return list(remediation.command)
        return [
            "ssh",
            "-i",
            str(remediation.ssh_key_file),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={remediation.known_hosts_file}",
            "-o",
            "ConnectTimeout=10",
            f"{remediation.ssh_user}@{self.router.address}",
            "restart-bgp",
        ]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file so the unit (or a lab) can override one value of the rendered file.
        return init_settings, env_settings, _FileSource(settings_cls)


_SETTINGS_FILE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("orion_agent_settings_file", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The settings file, JSON or TOML by its suffix, named by `load_settings` or `ORION_AGENT_SETTINGS_FILE`."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = _SETTINGS_FILE.get()
        if path is None and os.environ.get(SETTINGS_FILE_VARIABLE):
            path = Path(os.environ[SETTINGS_FILE_VARIABLE])
        self._data = read_settings_file(path) if path is not None else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class SettingsError(ValueError):
    """Settings that cannot be used, each problem prefixed by the field it is about."""


def read_settings_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as error:
        raise SettingsError(f"{path}: cannot read the settings file ({error.strerror})") from None
    try:
        data: object = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {error}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a table of settings, got {type(data).__name__}")
    return data


def load_settings(settings_file: Path | None = None) -> Settings:
    """The settings from `settings_file` (else `ORION_AGENT_SETTINGS_FILE`) and the environment."""
    token = _SETTINGS_FILE.set(settings_file)
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe(error)) from None
    finally:
        _SETTINGS_FILE.reset(token)


def describe(error: ValidationError) -> str:
    """One line per problem: the dotted field, what was wrong, and the value given."""
    lines = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        given = "" if problem["type"] == "missing" else f" (got {problem['input']!r})"
        lines.append(f"{where}: {problem['msg']}{given}")
    return "invalid agent settings:\n  " + "\n  ".join(lines)
