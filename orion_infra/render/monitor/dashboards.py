"""The five dashboards the seed names, built with Grafana's own SDK instead of hand-written JSON."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from orion_infra.render.monitor.queries import PromQueries

DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")


def _query(expr: str, legend: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)


def _series(title: str, unit: str, *queries: prometheus.Dataquery) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).datasource(DATASOURCE).height(8).span(12)
    for query in queries:
        panel = panel.with_target(query)
    return panel


def _stat(title: str, unit: str, query: prometheus.Dataquery) -> stat.Panel:
    return stat.Panel().title(title).unit(unit).datasource(DATASOURCE).height(4).span(6).with_target(query)


def _board(uid: str, title: str, panels: list[timeseries.Panel | stat.Panel]) -> dashboard.Dashboard:
    board = dashboard.Dashboard(title).uid(uid).tags(["orion"]).refresh("30s").time("now-6h", "now").editable()
    for panel in panels:
        board = board.with_panel(panel)
    return board


def dashboards(q: PromQueries) -> dict[str, dashboard.Dashboard]:
    wan = [_query(q.wan_receive_mbps, "receive"), _query(q.wan_transmit_mbps, "transmit")]
    cpu = _query(q.cpu_usage_percent, "{{host}}")
    memory = _query(q.memory_usage_percent, "{{host}}")
    sessions = _query(q.bgp_session_up, "{{name}}")
    return {
        "orion-network-overview": _board(
            "orion-network-overview",
            "ORION Network Overview",
            [
                _stat("BGP sessions up", "none", _query(f"sum({q.bgp_session_up})", "sessions")),
                _stat("Targets up", "none", _query("sum(up)", "up")),
                _stat("WAN receive", "Mbits", wan[0]),
                _stat("WAN transmit", "Mbits", wan[1]),
                _series("WAN bandwidth", "Mbits", *wan),
                _series("CPU usage", "percent", cpu),
            ],
        ),
        "orion-router-performance": _board(
            "orion-router-performance",
            "Router Performance",
            [
                _series("CPU usage", "percent", _query(q.cpu_usage_of(q.router), "{{host}}")),
                _series(
                    "Packets forwarded",
                    "pps",
                    _query(f'rate(node_network_receive_packets_total{{host="{q.router}"}}[5m])', "{{device}} in"),
                    _query(f'rate(node_network_transmit_packets_total{{host="{q.router}"}}[5m])', "{{device}} out"),
                ),
                _series(
                    "Interface errors and drops",
                    "pps",
                    _query(f'rate(node_network_receive_errs_total{{host="{q.router}"}}[5m])', "{{device}} errors"),
                    _query(f'rate(node_network_receive_drop_total{{host="{q.router}"}}[5m])', "{{device}} drops"),
                ),
                _series(
                    "Conntrack entries", "none", _query(f'node_nf_conntrack_entries{{host="{q.router}"}}', "entries")
                ),
            ],
        ),
        "orion-bgp-session-status": _board(
            "orion-bgp-session-status",
            "BGP Session Status",
            [
                _series("Sessions up", "none", sessions),
                _series(
                    "Prefixes imported",
                    "none",
                    _query('bird_protocol_prefix_import_count{proto="BGP"}', "{{name}} {{ip_version}}"),
                ),
                _series(
                    "Prefixes exported",
                    "none",
                    _query('bird_protocol_prefix_export_count{proto="BGP"}', "{{name}} {{ip_version}}"),
                ),
            ],
        ),
        "orion-bandwidth-analysis": _board(
            "orion-bandwidth-analysis",
            "Bandwidth Analysis",
            [
                _series("WAN bandwidth", "Mbits", *wan),
                _series(
                    "WAN use of capacity",
                    "percent",
                    _query(f"({q.wan_receive_mbps}) / {q.wan_capacity_bits / 1_000_000:g} * 100", "receive"),
                    _query(f"({q.wan_transmit_mbps}) / {q.wan_capacity_bits / 1_000_000:g} * 100", "transmit"),
                ),
                _series(
                    "Bandwidth per router interface",
                    "Mbits",
                    _query(
                        f'rate(node_network_receive_bytes_total{{host="{q.router}"}}[5m]) * 8 / 1000000', "{{device}}"
                    ),
                ),
            ],
        ),
        "orion-system-resources": _board(
            "orion-system-resources",
            "System Resources",
            [
                _series("CPU usage", "percent", cpu),
                _series("Memory usage", "percent", memory),
                _series("Filesystem usage", "percent", _query(q.filesystem_used_percent, "{{host}} {{mountpoint}}")),
                _series("Load (1m)", "none", _query("node_load1", "{{host}}")),
            ],
        ),
    }


def render_dashboards(q: PromQueries) -> dict[str, str]:
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {f"{name}.json": encoder.encode(board.build()) + "\n" for name, board in dashboards(q).items()}
