"""The agent's settings file, rendered from the stack model and read back by the agent's own settings model."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from orion_agent.settings import load_settings
from orion_infra.model import OrionStack, ports
from orion_infra.render.monitor import wan_capacity_bits
from orion_infra.render.monitor.agent import render_agent_settings
from orion_infra.render.options import RenderOptions


def rendered_settings(stack: OrionStack, options: RenderOptions, tmp_path: Path) -> Path:
    path = tmp_path / "agent-settings.json"
    path.write_text(render_agent_settings(stack, options))
    return path


def test_the_rendered_file_loads_and_carries_the_models_values(default_stack: OrionStack, tmp_path: Path) -> None:
    settings = load_settings(rendered_settings(default_stack, RenderOptions(), tmp_path))
    router = settings.router
    assert (router.host, router.address) == ("orion-router", "192.168.100.1")
    assert str(router.bird_exporter_url) == "http://192.168.100.1:9324/metrics"
    assert (router.wan_device, router.lan_devices) == ("wan", ["lan"])
    assert router.wan_capacity_bits == wan_capacity_bits(default_stack)
    assert router.lan_capacity_bits == 10_000_000_000
    assert (str(settings.prometheus_url), str(settings.alertmanager_url)) == (
        "http://127.0.0.1:9090/",
        "http://127.0.0.1:9093/",
    )
    assert settings.listen_port == 9110
    assert settings.check_interval_seconds == default_stack.monitoring.scrape_interval_seconds
    assert settings.state_dir == Path("/var/lib/orion-agent")
    assert settings.audit_log == Path("/var/lib/orion-agent/audit.jsonl")
    assert settings.remediation.ssh_key_file == Path("/var/lib/orion/secrets/orion-agent-ssh-key")
    assert settings.remediation.dry_run is True


def test_render_options_move_paths_and_rename_interfaces(default_stack: OrionStack, tmp_path: Path) -> None:
    options = RenderOptions(
        secrets_dir=PurePosixPath("/lab/secrets"),
        state_dir=PurePosixPath("/lab/state"),
        interface_names={"wan": "veth-wan", "lan": "veth-lan"},
    )
    settings = load_settings(rendered_settings(default_stack, options, tmp_path))
    assert (settings.router.wan_device, settings.router.lan_devices) == ("veth-wan", ["veth-lan"])
    assert settings.state_dir == Path("/lab/state/orion-agent")
    assert settings.remediation.known_hosts_file == Path("/lab/secrets/orion-agent-known-hosts")
    assert "restart-bgp" in settings.restart_bgp_command


def test_the_isps_bandwidth_is_the_wan_capacity(default_stack: OrionStack, tmp_path: Path) -> None:
    wan = default_stack.networks.wan.model_copy(update={"bandwidth_mbps": 734})
    stack = default_stack.model_copy(update={"networks": default_stack.networks.model_copy(update={"wan": wan})})
    settings = load_settings(rendered_settings(stack, RenderOptions(), tmp_path))
    assert settings.router.wan_capacity_bits == 734_000_000


def test_the_probe_follows_the_port_the_router_runs_its_exporter_on(default_stack: OrionStack) -> None:
    settings = json.loads(render_agent_settings(default_stack, RenderOptions()))
    assert settings["router"]["bird_exporter_url"] == f"http://192.168.100.1:{ports.ROUTER_EXPORTERS['bird']}/metrics"
    assert settings["listen_port"] == ports.MONITOR_SERVICES["agent"]


def test_rendering_is_deterministic(default_stack: OrionStack) -> None:
    assert render_agent_settings(default_stack, RenderOptions()) == render_agent_settings(
        default_stack, RenderOptions()
    )
