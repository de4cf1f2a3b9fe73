"""The PromQL ORION watches with: recording rules, alert rules, and the dashboards' queries, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orion_agent import promql

CPU_ALERT_PERCENT = 90
MEMORY_ALERT_PERCENT = 90
WAN_ALERT_FRACTION = 0.9
# Availability alerts wait this many evaluations (one per scrape) before firing: one lost scrape is not an outage.
BGP_DOWN_EVALUATIONS = 4
ALL_BGP_DOWN_EVALUATIONS = 2
TARGET_DOWN_EVALUATIONS = 8


@dataclass(frozen=True)
class PromQueries:
    router: str
    """The router's `host` label, as its scrape targets carry it (`name` is the bird exporter's own label)."""
    wan_device: str
    """The router's WAN interface name, as the node exporter reports it."""
    wan_capacity_bits: int
    scrape_interval_seconds: int

    # The seed's three queries, with the router's real interface instead of eth0.
    @property
    def wan_receive_mbps(self) -> str:
        return (
            f'rate(node_network_receive_bytes_total{{job="node",host="{self.router}",device="{self.wan_device}"}}[5m])'
            " * 8 / 1000000"
        )

    @property
    def wan_transmit_mbps(self) -> str:
        return (
            f'rate(node_network_transmit_bytes_total{{job="node",host="{self.router}",device="{self.wan_device}"}}[5m])'
            " * 8 / 1000000"
        )

    cpu_usage_percent = promql.CPU_USAGE_PERCENT
    cpu_usage_of = staticmethod(promql.cpu_usage_of)
    memory_usage_percent = promql.MEMORY_USAGE_PERCENT
    bgp_session_up = 'bird_protocol_up{proto="BGP"}'
    filesystem_used_percent = promql.FILESYSTEM_USED_PERCENT

    def _evaluations(self, count: int) -> str:
        return f"{count * self.scrape_interval_seconds}s"

    def recording_group(self) -> dict[str, Any]:
        return {
            "name": "orion-recording",
            "rules": [
                {"record": "host:cpu_usage:percent", "expr": self.cpu_usage_percent},
                {"record": "host:memory_usage:percent", "expr": self.memory_usage_percent},
                {"record": "orion:wan_receive:mbps", "expr": self.wan_receive_mbps},
                {"record": "orion:wan_transmit:mbps", "expr": self.wan_transmit_mbps},
                {"record": "orion:bgp_sessions_up:count", "expr": f"sum({self.bgp_session_up})"},
            ],
        }

    def alerting_group(self) -> dict[str, Any]:
        capacity_mbps = self.wan_capacity_bits / 1_000_000
        limit_mbps = round(capacity_mbps * WAN_ALERT_FRACTION)
        return {
            "name": "orion-alerts",
            "rules": [
                _alert(
                    "BgpSessionDown",
                    # Per session, whatever its channels and the exporter's changing state text say: one alert that
                    # stays the same alert while the session is down.
                    f"min by (host, name) ({self.bgp_session_up}) == 0",
                    self._evaluations(BGP_DOWN_EVALUATIONS),
                    "warning",
                    "BGP session {{ $labels.name }} is down",
                ),
                _alert(
                    "AllBgpSessionsDown",
                    f"max({self.bgp_session_up}) == 0",
                    self._evaluations(ALL_BGP_DOWN_EVALUATIONS),
                    "critical",
                    "Every BGP session is down: the network is cut off from the internet",
                ),
                _alert(
                    "TargetDown",
                    "up == 0",
                    self._evaluations(TARGET_DOWN_EVALUATIONS),
                    "warning",
                    "{{ $labels.job }} on {{ $labels.host }} is not answering",
                ),
                _alert(
                    "HighCpuUsage",
                    f"host:cpu_usage:percent > {CPU_ALERT_PERCENT}",
                    "10m",
                    "warning",
                    f"CPU of {{{{ $labels.host }}}} above {CPU_ALERT_PERCENT}% for 10 minutes",
                ),
                _alert(
                    "HighMemoryUsage",
                    f"host:memory_usage:percent > {MEMORY_ALERT_PERCENT}",
                    "5m",
                    "warning",
                    f"Memory of {{{{ $labels.host }}}} above {MEMORY_ALERT_PERCENT}%",
                ),
                _alert(
                    "FilesystemFullIn24h",
                    f"predict_linear({promql.FILESYSTEM_AVAILABLE_BYTES}[6h], 86400) < 0",
                    "30m",
                    "warning",
                    "{{ $labels.mountpoint }} on {{ $labels.host }} will be full within 24 hours",
                ),
                _alert(
                    "WanNearCapacity",
                    f"orion:wan_receive:mbps > {limit_mbps} or orion:wan_transmit:mbps > {limit_mbps}",
                    "10m",
                    "warning",
                    f"WAN above {round(WAN_ALERT_FRACTION * 100)}% of its {capacity_mbps:g} Mbit/s for 10 minutes",
                ),
            ],
        }


def _alert(name: str, expr: str, duration: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity},
        "annotations": {"summary": summary},
    }
