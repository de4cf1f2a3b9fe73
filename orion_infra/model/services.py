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
    """the resolver's IPv4 or IPv6 address on the internet: unicast, not link-local, not the router's own, outside
    every DHCP pool; an IPv6 one needs networks.wan.ipv6"""
    port: Port = 853
    """the resolver's DNS-over-TLS port"""
    tls_name: DomainName
    """the name the resolver's certificate must carry, e.g. dns.quad9.net"""

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
    """A name in the local zone, with its reverse (PTR) record."""

    name: Hostname
    """a single label under dns.domain, unique among the records; not a name the zone gives by itself (a host's,
    a node's, an iDRAC's, a VM's, a DHCP reservation's)"""
    address: IPAny
    """the device's address, an A record for IPv4 and AAAA for IPv6: a fixed one (outside every DHCP pool), and not
    a network's or broadcast address"""


class Dns(Facts):
    """The router's resolver (Unbound) and the local zone it serves."""

    domain: DomainName
    """the local zone, e.g. orion.home.arpa (at least two labels, not under .local); DHCP hands it out as the
    clients' domain, and an installed node's FQDN is `<node>.<domain>`"""
    upstreams: Annotated[list[DnsUpstream], Field(min_length=1)]
    """the resolvers Unbound forwards every question to, over TLS, each address and port once; the first is also
    the DNS server the Proxmox installer sets on the node"""
    dnssec: bool = True
    """validate answers with DNSSEC; false forwards them unvalidated"""
    records: list[DnsRecord] = Field(default_factory=list)
    """extra local names; the hosts and VMs get theirs automatically"""

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
    """the target's `host` label in Prometheus; a name and job once"""
    job: ScrapeJob
    """the Prometheus job: node, bird, kea, unbound, proxmox, agent, prometheus or alertmanager"""
    address: IPv4
    """the target's IPv4 address: one the stack gives a host, VM, DHCP reservation or DNS record"""
    port: Port
    """the port its metrics are served on; an address and port once, and not one of ORION's own services"""


class Grafana(Facts):
    """Grafana's admin password is generated at deploy time and only leaves as a secret output."""

    admin_user: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{2,31}$")]
    """Grafana's admin login: 3 to 32 lowercase letters, digits, '_' or '-', a letter first"""
    port: Port = 3000
    """where Grafana listens, on every address of the monitoring VM; not a port the VM's SSH or own services hold
    (22, 9090, 9093, 9100, 9110)"""

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

    to: EmailAddressList
    """where alerts go: one address, or several separated by commas"""
    from_address: EmailAddress
    """the alerts' sender address"""
    smarthost: HostPort
    """the relay, host:port ([address]:port for IPv6): a DNS name or unicast address, not the monitoring VM
    itself"""
    require_tls: bool = True
    """upgrade the connection to the relay with STARTTLS, and send nothing to a relay that does not offer it; false
    sends in plain text, without STARTTLS"""

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
    """group_wait: seconds a new group of alerts waits for more before its first notification, 0 to 3600"""
    interval_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    """group_interval: seconds before a group already notified sends about alerts added to it, 1 to 86400"""
    repeat_hours: Annotated[int, Field(ge=1, le=168)] = 4
    """repeat_interval: hours before an alert still firing is sent again, 1 to 168"""


class Monitoring(Facts):
    """Prometheus, Alertmanager and Grafana on the monitoring VM."""

    scrape_interval_seconds: Annotated[int, Field(ge=1, le=300)] = 15
    """seconds between scrapes, 1 to 300; also the rule evaluation interval and the agent's check interval;
    availability alerts count missed scrapes"""
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30
    """days Prometheus keeps its samples, 1 to 3650; the monitoring VM's disk must hold them"""
    targets: list[ScrapeTarget] = Field(default_factory=list)
    """targets besides ORION's own services, e.g. the Proxmox hosts' node exporters; the router's and the monitoring
    VM's exporters are scraped without being listed here"""
    grafana: Grafana
    """Grafana's login and port"""
    notify_email: EmailNotifications
    """where Alertmanager mails alerts"""
    alert_grouping: AlertGrouping = Field(default_factory=AlertGrouping)
    """how Alertmanager batches and repeats notifications"""


class Retention(Facts):
    """Which backups Proxmox keeps when it prunes (its prune-backups options); at least one must be above 0."""

    keep_last: Annotated[int, Field(ge=0)] = 0
    """keep the newest n backups; 0: this rule keeps none"""
    keep_daily: Annotated[int, Field(ge=0)] = 0
    """keep the last backup of each of the last n days that have one; 0: this rule keeps none"""
    keep_weekly: Annotated[int, Field(ge=0)] = 0
    """keep the last backup of each of the last n weeks that have one; 0: this rule keeps none"""
    keep_monthly: Annotated[int, Field(ge=0)] = 0
    """keep the last backup of each of the last n months that have one; 0: this rule keeps none"""

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
    """when the job runs: a systemd calendar event as Proxmox reads it, e.g. '*-*-* 02:30', 'mon..fri 02:30',
    'sun 01:00' or 'daily'; one that never comes is refused"""
    storage: DatastoreName
    """the datastore the backups go to: one with backup in its content on every node of the VMs backed up"""
    mode: Literal["snapshot", "suspend", "stop"] = "snapshot"
    """vzdump's mode: snapshot (live, the VM keeps running), suspend (paused first: longer downtime, kept by Proxmox
    for compatibility) or stop (shut down for the backup, started again if it was running)"""
    compress: Literal["zstd", "lzo", "gzip", "none"] = "zstd"
    """how the backup files are compressed: zstd, lzo, gzip or none"""
    vms: Annotated[list[VmId], Field(min_length=1)]
    """the ids of the VMs to back up, at least one, each once and each a VM of this stack"""
    retention: Retention
    """which backups are kept"""


# Accounts the NixOS VMs have already: the operators' account cannot be one of them (root, which sshd refuses, the
# system's own, and those of the services ORION runs).
RESERVED_USERS = frozenset(
    {"root", "nobody", "sshd", "messagebus", "nscd", "bird", "unbound", "kea", "grafana", "prometheus"}
    | {"alertmanager", "node-exporter", "orion-agent"}
)


class Access(Facts):
    """Who can log in to the NixOS VMs: SSH keys only, never passwords."""

    admin_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")]
    """the operators' account on the NixOS VMs, e.g. orion: 1 to 32 lowercase letters, digits, '_' or '-', not
    starting with a digit or '-'; not root nor a system or service account the VMs already have"""
    authorized_keys: list[SshPublicKey] = Field(default_factory=list)
    """operators' public keys (OpenSSH lines, 'ssh-ed25519 AAAA... comment'); the deploy key is always
    authorised"""
    deploy_key: Secret
    """private key Pulumi uses to push configuration over SSH, as a secret reference: an OpenSSH private key without
    a passphrase"""
    agent_key: Secret | None = None
    """private key the monitoring agent uses for the router's restart-bgp forced command (the router gets its public
    half), as a secret reference: an OpenSSH private key without a passphrase; without it the agent runs in dry-run
    (decides and audits, never acts)"""

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

    serve_dir: Annotated[str, Field(pattern=r"^/")]
    """an absolute path on the operator's machine: a directory a web server publishes. ORION puts the NixOS base
    image and the downloaded Proxmox installer there; the macOS images are put there by hand"""
    serve_url: HttpUrl
    """the URL of serve_dir, reachable from the management network: the operator machine's address there (an IPv4
    address when ORION installs a node with media_over_https), not localhost nor an address the stack gives"""
    media_port: Port = 8443
    """where the operator's machine (serve_url's host) serves a prepared installer to its iDRAC alone; not
    serve_url's own port"""
    media_dir: str = ".orion/installer"
    """the operator's private directory for prepared installers (relative to the project)"""

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
