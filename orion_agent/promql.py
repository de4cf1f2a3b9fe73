"""PromQL that the Prometheus rules, the dashboards and the agent share, written once. It lives with the agent
because the agent ships alone to the monitoring VM; ORION's renderers import it from here."""

from __future__ import annotations

# Filesystems that can fill up: not the memory-backed or read-only ones.
REAL_FILESYSTEMS = 'fstype!~"tmpfs|ramfs|squashfs|overlay"'

CPU_USAGE_PERCENT = '100 - (avg by (host) (irate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)'
MEMORY_USAGE_PERCENT = "(1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100"
FILESYSTEM_AVAILABLE_BYTES = f"node_filesystem_avail_bytes{{{REAL_FILESYSTEMS}}}"
FILESYSTEM_USED_PERCENT = f"(1 - {FILESYSTEM_AVAILABLE_BYTES} / node_filesystem_size_bytes{{{REAL_FILESYSTEMS}}}) * 100"


def cpu_usage_of(host: str) -> str:
    return f'100 - (avg by (host) (irate(node_cpu_seconds_total{{mode="idle",host="{host}"}}[5m])) * 100)'


def link_bits_per_second(direction: str, host: str, devices: str) -> str:
    """Traffic of `host`'s interfaces matching the regular expression `devices`, as its node exporter reports it;
    `direction` is receive or transmit."""
    selector = f'job="node",host="{host}",device=~"{devices}"'
    return f"rate(node_network_{direction}_bytes_total{{{selector}}}[5m]) * 8"
