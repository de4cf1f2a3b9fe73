"""Services the VMs run for the network: DNS, monitoring, backups, and operator access."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, HttpUrl, model_validator

from orion_infra.model.hosts import DatastoreName
from orion_infra.model.ports import ScrapeJob
from orion_infra.model.problems import Problems
from orion_infra.model.secrets import Secret
from orion_infra.model.types import DomainName, Facts, Hostname, IPAny, IPv4, Port, SshPublicKey, VmId


class DnsUpstream(Facts):
    """A resolver reached over DNS-over-TLS; `tls_name` is the name its certificate must carry."""

    address: IPAny
    port: Port = 853
    tls_name: DomainName


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


class EmailNotifications(Facts):
    """Where Alertmanager sends alerts for humans: through the operator's mail relay."""

    to: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    from_address: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]
    smarthost: Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", description="relay host:port")]
    require_tls: bool = True


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

    schedule: Annotated[str, Field(pattern=r"^[a-z0-9*:,./~ -]+$", max_length=128)]
    storage: DatastoreName
    mode: Literal["snapshot", "suspend", "stop"] = "snapshot"
    compress: Literal["zstd", "lzo", "gzip", "none"] = "zstd"
    vms: Annotated[list[VmId], Field(min_length=1)]
    retention: Retention


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
