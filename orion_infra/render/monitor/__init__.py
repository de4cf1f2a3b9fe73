"""The monitoring VM's files: Prometheus, its rules, Alertmanager, Grafana, and the host data."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import yaml

from orion_infra.model import ports
from orion_infra.model.hosts import NicPurpose
from orion_infra.model.stack import OrionStack
from orion_infra.render import host_data, secret_files
from orion_infra.render.monitor.agent import render_agent_settings
from orion_infra.render.monitor.dashboards import render_dashboards
from orion_infra.render.monitor.queries import PromQueries
from orion_infra.render.options import PublicKeys, RenderOptions
from orion_infra.render.systems import system_data

AGENT_WEBHOOK_PATH = "/alertmanager"
# The bird exporter labels a session that is not Established with BIRD's state text ("Active  Error: ..."), which
# changes while it is down: each change started a new series, and after a Prometheus crash the old ones (never
# marked stale) kept a recovered session "down" for the 5-minute lookback. One series per session and channel.
SCRAPE_ADJUSTMENTS: dict[str, dict[str, Any]] = {
    "bird": {"metric_relabel_configs": [{"action": "labeldrop", "regex": "state"}]},
}


def rule_file(options: RenderOptions) -> str:
    return str(options.config_dir / "alert-rules.yml")


def dashboards_dir(options: RenderOptions) -> str:
    return str(options.config_dir / "grafana" / "dashboards")


def _yaml(document: object) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=120)


def wan_capacity_bits(stack: OrionStack) -> int:
    """The WAN's line rate: what the ISP sells if configured, else the speed of the WAN NIC."""
    if stack.networks.wan.bandwidth_mbps is not None:
        return stack.networks.wan.bandwidth_mbps * 1_000_000
    speeds = [nic.speed_gbps for host in stack.hosts for nic in host.nics if nic.purpose == NicPurpose.WAN]
    return min(speeds) * 1_000_000_000


def queries(stack: OrionStack, options: RenderOptions) -> PromQueries:
    wan_nic = next(nic for nic in stack.router.nics if stack.network_of(nic.bridge, nic.vlan) == "wan")
    return PromQueries(
        router=stack.router.name,
        wan_device=options.interface(wan_nic.name),
        wan_capacity_bits=wan_capacity_bits(stack),
        scrape_interval_seconds=stack.monitoring.scrape_interval_seconds,
    )


def render_monitor(stack: OrionStack, options: RenderOptions, keys: PublicKeys) -> dict[str, str]:
    """Every file of the monitoring VM, by name."""
    promql = queries(stack, options)
    files = {
        "prometheus.yml": render_prometheus(stack, options),
        "alert-rules.yml": render_rules(promql),
        "alertmanager.yml": render_alertmanager(stack),
        "grafana/datasources.yml": render_grafana_datasource(stack),
        "grafana/dashboards.yml": render_grafana_provider(options),
        "host.json": host_data.to_json(monitor_host(stack, options, keys)),
        "agent-settings.json": render_agent_settings(stack, options),
    }
    files.update({f"grafana/dashboards/{name}": text for name, text in render_dashboards(promql).items()})
    return files


def render_prometheus(stack: OrionStack, options: RenderOptions) -> str:
    monitoring = stack.monitoring
    by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for target in stack.scrape_targets():
        by_job[target.job].append({"targets": [f"{target.address}:{target.port}"], "labels": {"host": target.name}})
    config = {
        "global": {
            "scrape_interval": f"{monitoring.scrape_interval_seconds}s",
            "evaluation_interval": f"{monitoring.scrape_interval_seconds}s",
            "external_labels": {"site": stack.dns.domain},
        },
        "rule_files": [rule_file(options)],
        "alerting": {
            "alertmanagers": [
                {
                    "static_configs": [
                        {"targets": [f"{ports.MONITOR_LOCAL_ADDRESS}:{ports.MONITOR_SERVICES['alertmanager']}"]}
                    ]
                }
            ]
        },
        "scrape_configs": [
            {"job_name": job, "static_configs": configs, **SCRAPE_ADJUSTMENTS.get(job, {})}
            for job, configs in by_job.items()
        ],
    }
    return _yaml(config)


def render_rules(promql: PromQueries) -> str:
    return _yaml({"groups": [promql.recording_group(), promql.alerting_group()]})


def render_alertmanager(stack: OrionStack) -> str:
    email = stack.monitoring.notify_email
    grouping = stack.monitoring.alert_grouping
    receivers: list[dict[str, Any]] = [
        {"name": "operators", "email_configs": [{"to": email.to, "send_resolved": True}]},
    ]
    routes: list[dict[str, Any]] = []
    agent = stack.target(stack.monitor.name, "agent")
    # The agent sees every alert first and keeps going: humans are told as well.
    receivers.append(
        {
            "name": "orion-agent",
            "webhook_configs": [
                {"url": f"http://{agent.address}:{agent.port}{AGENT_WEBHOOK_PATH}", "send_resolved": True}
            ],
        }
    )
    routes.append({"receiver": "orion-agent", "matchers": ['alertname=~".+"'], "continue": True})
    routes.append({"receiver": "operators", "matchers": ['severity=~"warning|critical"']})
    config = {
        "global": {
            "resolve_timeout": "5m",
            "smtp_smarthost": email.smarthost,
            "smtp_from": email.from_address,
            "smtp_require_tls": email.require_tls,
        },
        "route": {
            "receiver": "operators",
            "group_by": ["alertname", "host"],
            "group_wait": f"{grouping.wait_seconds}s",
            "group_interval": f"{grouping.interval_seconds}s",
            "repeat_interval": f"{grouping.repeat_hours}h",
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": ['alertname="AllBgpSessionsDown"'],
                "target_matchers": ['alertname="BgpSessionDown"'],
            }
        ],
        "receivers": receivers,
    }
    return _yaml(config)


def render_grafana_datasource(stack: OrionStack) -> str:
    return _yaml(
        {
            "apiVersion": 1,
            "datasources": [
                {
                    "name": "Prometheus",
                    "uid": "prometheus",
                    "type": "prometheus",
                    "access": "proxy",
                    "url": f"http://{ports.MONITOR_LOCAL_ADDRESS}:{ports.MONITOR_SERVICES['prometheus']}",
                    "isDefault": True,
                    "editable": False,
                }
            ],
        }
    )


def render_grafana_provider(options: RenderOptions) -> str:
    return _yaml(
        {
            "apiVersion": 1,
            "providers": [
                {
                    "name": "orion",
                    "folder": "ORION",
                    "type": "file",
                    "disableDeletion": True,
                    "allowUiUpdates": False,
                    "options": {"path": dashboards_dir(options)},
                }
            ],
        }
    )


def monitor_host(stack: OrionStack, options: RenderOptions, keys: PublicKeys) -> host_data.Monitor:
    monitor = stack.monitor
    nic, address = stack.monitor_endpoint()
    network = stack.networks.get_internal(stack.network_of(nic.bridge, nic.vlan))
    if network is None or network.gateway is None:
        raise ValueError("the monitoring VM's network has no gateway; the stack model should have refused it")
    grafana = stack.monitoring.grafana
    return host_data.Monitor(
        **system_data(stack, options, keys, monitor),
        credentials={"grafana": [secret_files.GRAFANA_ADMIN_PASSWORD, secret_files.GRAFANA_SECRET_KEY]},
        hostname=monitor.name,
        domain=stack.dns.domain,
        interfaces=[
            host_data.MonitorInterface(
                name=nic.name,
                mac=nic.mac.lower(),
                ipv4=f"{address}/{network.subnet.prefixlen}",
                gateway=str(network.gateway),
                dns=str(network.gateway),
            )
        ],
        local_address=ports.MONITOR_LOCAL_ADDRESS,
        exporters=host_data.MonitorExporters(node=ports.MONITOR_SERVICES["node"]),
        prometheus=host_data.Prometheus(
            port=ports.MONITOR_SERVICES["prometheus"],
            retention_days=stack.monitoring.retention_days,
            rule_file=rule_file(options),
        ),
        alertmanager=host_data.Alertmanager(port=ports.MONITOR_SERVICES["alertmanager"]),
        grafana=host_data.Grafana(
            dashboards_dir=dashboards_dir(options),
            port=grafana.port,
            admin_user=grafana.admin_user,
            admin_password_file=str(options.credential("grafana", secret_files.GRAFANA_ADMIN_PASSWORD)),
            secret_key_file=str(options.credential("grafana", secret_files.GRAFANA_SECRET_KEY)),
        ),
        # The agent acts only with its key deployed; the files are written by the deploy step, never the store.
        agent=host_data.Agent(
            remediate=stack.access.agent_key is not None,
            ssh_key_file=str(options.secret(secret_files.AGENT_SSH_KEY)),
            known_hosts_file=str(options.secret(secret_files.AGENT_KNOWN_HOSTS)),
        ),
    )
