"""Services the VMs run for the network: DNS, monitoring, backups, and operator access."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal, Self

from pydantic import Field, HttpUrl, field_validator, model_validator

from orion_infra.model import ports
from orion_infra.model.hosts import DatastoreName
from orion_infra.model.ports import ScrapeJob
from orion_infra.model.problems import Problems
from orion_infra.model.secrets import Secret
from orion_infra.model.types import (
    CalendarEvent,
    DomainName,
    EmailAddress,
    EmailAddressList,
    Facts,
    Hostname,
    HostPort,
    IPAny,
    IPv4,
    Port,
    SshPublicKey,
    VmId,
    not_unicast_reason,
    require_remote_unicast,
    split_host_port,
)


class DnsUpstream(Facts):
    """A resolver reached over DNS-over-TLS; `tls_name` is the name its certificate must carry."""

    address: IPAny
    port: Port = 853
    tls_name: DomainName

    @field_validator("address")
    @classmethod
    def _reachable(
        cls, address: ipaddress.IPv4Address | ipaddress.IPv6Address
    ) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return require_remote_unicast(
            address,
            no_interface="Unbound's forward address",
            what="an upstream resolver is a unicast address the router reaches on the internet",
        )


class DnsRecord(Facts):
    name: Hostname
    address: IPAny


class Dns(Facts):
    domain: DomainName = Field(description="the local zone, e.g. orion.home.arpa")
    upstreams: Annotated[list[DnsUpstream], Field(min_length=1)]
    dnssec: bool = True
    records: list[DnsRecord] = Field(
        default_factory=list, description="extra local names; the hosts and VMs get theirs automatically"
    )

    @model_validator(mode="after")
    def _distinct_upstreams(self) -> Self:
        problems = Problems()
        problems.require_unique(
            (("upstreams", index), f"{upstream.address}:{upstream.port}")
            for index, upstream in enumerate(self.upstreams)
        )
        problems.raise_if_any("Dns")
        return self


class ScrapeTarget(Facts):
    """A Prometheus target: `name` becomes its `host` label."""

    name: Hostname
    job: ScrapeJob
    address: IPv4
    port: Port


class Grafana(Facts):
    """Grafana's admin password is generated at deploy time and only leaves as a secret output."""

    admin_user: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{2,31}$")]
    port: Port = 3000

    @field_validator("port")
    @classmethod
    def _free(cls, port: int) -> int:
        # Grafana listens on every address of the monitoring VM: a port its own services hold is taken.
        taken = {ports.SSH: "SSH", **{number: job for job, number in ports.MONITOR_SERVICES.items()}}
        if port in taken:
            raise ValueError(
                f"port {port} is taken on the monitoring VM by {taken[port]}; Grafana needs a port of its own "
                f"(taken: {', '.join(str(number) for number in sorted(taken))})"
            )
        return port


class EmailNotifications(Facts):
    """Where Alertmanager sends alerts for humans: through the operator's mail relay."""

    to: EmailAddressList = Field(description="one address, or several separated by commas")
    from_address: EmailAddress
    smarthost: HostPort = Field(description="the relay, host:port ([address]:port for IPv6)")
    require_tls: bool = True

    @field_validator("smarthost")
    @classmethod
    def _remote(cls, smarthost: str) -> str:
        host, address, _ = split_host_port(smarthost)  # HostPort has checked its form
        if host.lower() == "localhost" or (address is not None and address.is_loopback):
            raise ValueError(f"{smarthost} is the monitoring VM itself, which runs no mail server; name the relay")
        if address is not None and (why := not_unicast_reason(address)):
            raise ValueError(f"{why}; the smarthost is the mail relay's unicast address or its name")
        return smarthost


class AlertGrouping(Facts):
    """How Alertmanager batches notifications (its route's group_wait, group_interval, repeat_interval)."""

    wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 30
    interval_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    repeat_hours: Annotated[int, Field(ge=1, le=168)] = 4


class Monitoring(Facts):
    scrape_interval_seconds: Annotated[int, Field(ge=1, le=300)] = Field(
        default=15, description="also the rule evaluation interval; availability alerts count missed scrapes"
    )
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    targets: list[ScrapeTarget] = Field(
        default_factory=list,
        description="targets besides ORION's own services, e.g. the Proxmox hosts' node exporters; the router's and "
        "the monitoring VM's exporters are scraped without being listed here",
    )
    grafana: Grafana
    notify_email: EmailNotifications
    alert_grouping: AlertGrouping = Field(default_factory=AlertGrouping)


class Retention(Facts):
    keep_last: Annotated[int, Field(ge=0)] = 0
    keep_daily: Annotated[int, Field(ge=0)] = 0
    keep_weekly: Annotated[int, Field(ge=0)] = 0
    keep_monthly: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _keeps_something(self) -> Self:
        if not any((self.keep_last, self.keep_daily, self.keep_weekly, self.keep_monthly)):
            problems = Problems()
            problems.add((), "keeps no backup at all; set at least one of keep_last/daily/weekly/monthly")
            problems.raise_if_any("Retention")
        return self


class Backup(Facts):
    """A vzdump job. `schedule` is a systemd calendar event as Proxmox reads it, e.g. '*-*-* 02:30'."""

    schedule: CalendarEvent
    storage: DatastoreName
    mode: Literal["snapshot", "suspend", "stop"] = "snapshot"
    compress: Literal["zstd", "lzo", "gzip", "none"] = "zstd"
    vms: Annotated[list[VmId], Field(min_length=1)]
    retention: Retention


# Accounts the NixOS VMs have already: the operators' account cannot be one of them (root, which sshd refuses, the
# system's own, and those of the services ORION runs).
RESERVED_USERS = frozenset(
    {"root", "nobody", "sshd", "messagebus", "nscd", "bird", "unbound", "kea", "grafana", "prometheus"}
    | {"alertmanager", "node-exporter", "orion-agent"}
)


class Access(Facts):
    """Who can log in to the NixOS VMs: SSH keys only, never passwords."""

    admin_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")]
    authorized_keys: list[SshPublicKey] = Field(
        default_factory=list, description="operators' public keys; the deploy key is always authorised"
    )
    deploy_key: Secret = Field(description="private key Pulumi uses to push configuration over SSH")
    agent_key: Secret | None = Field(
        default=None,
        description="private key the monitoring agent uses for the router's restart-bgp forced command (the router "
        "gets its public half); without it the agent runs in dry-run (decides and audits, never acts)",
    )

    @field_validator("admin_user")
    @classmethod
    def _own_account(cls, user: str) -> str:
        if user in RESERVED_USERS or user.startswith(("nixbld", "systemd-")):
            raise ValueError(
                f"{user!r} is an account the NixOS VMs already have (root, system and service accounts); "
                "name the operators' own account, e.g. orion"
            )
        return user


class Bootstrap(Facts):
    """Where the operator's machine puts files the iDRAC and Proxmox fetch (prepared installer, VM images)."""

    serve_dir: Annotated[str, Field(pattern=r"^/", description="a directory a web server publishes")]
    serve_url: HttpUrl = Field(description="the URL of serve_dir, reachable from the management network")
    media_port: Port = Field(
        default=8443,
        description="where the operator's machine (serve_url's host) serves a prepared installer to its iDRAC alone",
    )
    media_dir: str = Field(
        default=".orion/installer",
        description="the operator's private directory for prepared installers (relative to the project)",
    )

    @property
    def serve_host(self) -> str:
        """serve_url's host: a DNS name, or an address (an IPv6 one without its brackets)."""
        return (self.serve_url.host or "").strip("[]")

    @property
    def serve_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """serve_url's host as an address, or None when it is a DNS name."""
        try:
            return ipaddress.ip_address(self.serve_host)
        except ValueError:
            return None

    @model_validator(mode="after")
    def _operator_machine(self) -> Self:
        problems = Problems()
        address = self.serve_address
        why = not_unicast_reason(address) if address is not None else None
        if self.serve_host == "localhost" or why is not None:
            problems.add(
                ("serve_url",),
                f"{why or 'localhost is this machine'}: the iDRAC and Proxmox fetch from serve_url, so it names the "
                "operator machine's address on the management network",
                str(self.serve_url),
            )
        url_port = self.serve_url.port or (443 if self.serve_url.scheme == "https" else 80)
        if self.media_port == url_port:
            problems.add(
                ("media_port",),
                f"{self.media_port} is serve_url's port already; ORION serves the installer on serve_url's host "
                "beside the web server, on a port of its own",
                self.media_port,
            )
        problems.raise_if_any("Bootstrap")
        return self
