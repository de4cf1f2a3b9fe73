"""What the renderers produce, as an operator reviewing `orion render` would look at it."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from orion_infra.cli import main
from orion_infra.model import OrionStack, RawConfig, load_stack, ports
from orion_infra.model.bgp import BgpPeer, PeerRole
from orion_infra.model.secrets import SecretRef
from orion_infra.render import render_all
from orion_infra.render.options import RenderOptions
from orion_infra.render.router import reverse_zone
from tests.keys import private_key
from tests.render import checkers
from tests.render.conftest import render_into

ROUTER_FILES = {"bird.conf", "nftables.nft", "kea-dhcp4.json", "unbound.conf", "host.json"}
MONITOR_FILES = {"prometheus.yml", "alert-rules.yml", "alertmanager.yml", "agent-settings.json", "host.json"}
FLAKE = {"flake.nix", "flake.lock", "nix", "host"}
DASHBOARDS = {
    "ORION Network Overview",
    "Router Performance",
    "BGP Session Status",
    "Bandwidth Analysis",
    "System Resources",
}


def test_orion_render_writes_every_artifact(default_stack_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["render", "--stack-file", str(default_stack_file), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {path.name for path in (tmp_path / "router").iterdir()} == FLAKE
    assert {path.name for path in (tmp_path / "monitor").iterdir()} == FLAKE | {"orion_agent"}
    assert {path.name for path in (tmp_path / "base").iterdir()} == FLAKE
    assert {path.name for path in (tmp_path / "router/host").iterdir()} == ROUTER_FILES
    assert {path.name for path in (tmp_path / "monitor/host").iterdir()} >= MONITOR_FILES
    titles = {
        json.loads(path.read_text())["title"] for path in (tmp_path / "monitor/host/grafana/dashboards").iterdir()
    }
    assert titles == DASHBOARDS


def test_orion_render_refuses_an_invalid_stack(tmp_path: Path) -> None:
    stack_file = Path(__file__).parents[1] / "fixtures/invalid/duplicate-mac.yaml"
    result = CliRunner().invoke(main, ["render", "--stack-file", str(stack_file), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert not (tmp_path / "out").exists()


def test_rendering_twice_gives_identical_bytes(default_stack: OrionStack) -> None:
    assert render_all(default_stack) == render_all(default_stack)


def with_fourth_peer(stack: OrionStack) -> OrionStack:
    fourth = BgpPeer(
        name="transit-backup",
        address="206.75.1.49",  # type: ignore[arg-type]
        asn=174,
        role=PeerRole.TERTIARY,
        max_prefixes=10,
        password=SecretRef(secret="bgpPasswordTransit"),
    )
    peers = [*stack.bgp.peers[:2], fourth]
    bgp = stack.bgp.model_copy(update={"peers": peers})
    return stack.model_copy(update={"bgp": bgp})


@pytest.mark.programs
def test_a_new_peer_appears_in_bird_and_the_firewall(default_stack: OrionStack, tmp_path: Path) -> None:
    before = render_all(default_stack)
    after = render_all(with_fourth_peer(default_stack))
    assert "neighbor 206.75.1.49 as 174;" in after["router/host/bird.conf"]
    assert "neighbor 206.75.1.49" not in before["router/host/bird.conf"]
    assert "206.75.1.49" in after["router/host/nftables.nft"]
    assert "206.75.1.48" not in after["router/host/nftables.nft"]
    rendered = render_into(with_fourth_peer(default_stack), tmp_path)
    verdict = checkers.bird(rendered.path("router/host/bird.conf"))
    assert verdict.ok, verdict.output


def test_bird_carries_the_routing_policy(default_stack: OrionStack) -> None:
    bird = render_all(default_stack)["router/host/bird.conf"]
    assert "route 2602:f674::/48 unreachable;" in bird
    assert "local as OUR_ASN;" in bird
    assert "define OUR_ASN = 394955;" in bird
    for protocol, preference, prepends in (("he_primary", 300, 0), ("he_secondary", 200, 1), ("he_tertiary", 100, 2)):
        import_filter = bird.split(f"filter import_{protocol} {{")[1].split("}")[0]
        export_filter = bird.split(f"filter export_{protocol} {{")[1].split("}")[0]
        assert f"bgp_local_pref = {preference};" in import_filter
        assert export_filter.count("bgp_path.prepend(OUR_ASN);") == prepends
    assert "receive limit 10 action restart;" in bird
    # Filtered routes count towards the receive limit: one `import keep filtered` per channel of every session.
    assert (
        bird.count("import keep filtered on;")
        == bird.count("receive limit 10 action restart;")
        == 2 * len(default_stack.bgp.peers)
    )
    assert "define MAX_AS_PATH_LENGTH = 100;" in bird
    assert "if bgp_path.len > MAX_AS_PATH_LENGTH then return false;" in bird
    assert "(65535, 0) ~ bgp_community" in bird
    assert "bfd on;" in bird
    assert "ttl security" not in bird  # no upstream of the default stack is said to have GTSM


@pytest.mark.programs
def test_ttl_security_is_on_for_the_peers_that_have_it(default_stack: OrionStack, tmp_path: Path) -> None:
    peers = [default_stack.bgp.peers[0].model_copy(update={"ttl_security": True}), *default_stack.bgp.peers[1:]]
    stack = default_stack.model_copy(update={"bgp": default_stack.bgp.model_copy(update={"peers": peers})})
    bird = render_all(stack)["router/host/bird.conf"]
    sessions = {block.split()[0]: block for block in bird.split("protocol bgp ")[1:]}
    assert ["ttl security on;" in block for block in sessions.values()] == [True, False, False]
    rendered = render_into(stack, tmp_path)
    verdict = checkers.bird(rendered.path("router/host/bird.conf"))
    assert verdict.ok, verdict.output


def test_inside_sources_are_checked_on_every_inside_interface(default_stack: OrionStack) -> None:
    nft = render_all(default_stack)["router/host/nftables.nft"]
    prerouting = nft.split("chain prerouting {")[1].split("\n  }")[0]
    assert 'iifname "lan" ip saddr != 192.168.100.0/24 counter drop' in prerouting
    assert 'iifname "guest" ip6 saddr != { 2602:f674:0:2000::/64, fe80::/10 } counter drop' in prerouting
    # The management network has no IPv6 subnet: only link-local sources there.
    assert 'iifname "mgmt" ip6 saddr != { fe80::/10 } counter drop' in prerouting
    assert 'iifname "wan" ip6 saddr { 2602:f674::/48 } counter drop' in prerouting
    # Echo requests are limited before connection tracking's verdict.
    input_chain = nft.split("chain input {")[1]
    assert input_chain.index("icmp type echo-request") < input_chain.index("ct state established,related accept")


@pytest.mark.parametrize(
    ("network", "zone"),
    [
        ("192.168.100.0/24", "100.168.192.in-addr.arpa"),
        ("10.0.0.0/8", "10.in-addr.arpa"),
        ("192.168.0.0/23", "168.192.in-addr.arpa"),
        ("192.168.1.128/25", "1.168.192.in-addr.arpa"),
        ("2602:f674:0:1000::/64", "0.0.0.1.0.0.0.0.4.7.6.f.2.0.6.2.ip6.arpa"),
        ("2602:f674::/34", "4.7.6.f.2.0.6.2.ip6.arpa"),
    ],
)
def test_reverse_zones_cover_their_network(network: str, zone: str) -> None:
    assert reverse_zone(ipaddress.ip_network(network)) == zone


def test_the_guest_view_refuses_every_inside_reverse_zone(default_stack: OrionStack) -> None:
    unbound = render_all(default_stack)["router/host/unbound.conf"]
    guest_view = unbound.split('name: "guest"')[1].split("view-first: yes")[0]
    for zone in ("100.168.192.in-addr.arpa", "1.168.192.in-addr.arpa", "0.0.0.1.0.0.0.0.4.7.6.f.2.0.6.2.ip6.arpa"):
        assert f'local-zone: "{zone}." refuse' in guest_view


def test_no_secret_value_reaches_a_rendered_file(default_raw: RawConfig, today: datetime.date) -> None:
    secrets = {
        "idracPassword": "idrac-Secret-7f3a",
        "bgpPasswordHePrimary": "bgp-Secret-1c9e",
        "bgpPasswordHeSecondary": "bgp-Secret-2d8f",
        "bgpPasswordHeTertiary": "bgp-Secret-3e7a",
        "sshDeployKey": private_key("deploy"),
    }
    raw = dataclasses.replace(default_raw, secret_keys=frozenset(secrets), secret_values=secrets)
    stack, _ = load_stack(raw, today=today, require_secrets=True)
    files = render_all(stack)
    for name, text in files.items():
        for secret in secrets.values():
            assert secret not in text, f"a secret value is in {name}"
    # Secrets are referenced by path, never by value: the credentials systemd hands each service.
    assert 'include "/run/credentials/bird.service/bgp-he-primary.conf";' in files["router/host/bird.conf"]
    host = json.loads(files["monitor/host/host.json"])
    assert host["grafana"]["admin_password_file"] == "/run/credentials/grafana.service/grafana-admin-password"


def test_the_seed_queries_use_the_router_interface(default_stack: OrionStack) -> None:
    files = render_all(default_stack)
    boards = "\n".join(text for name, text in files.items() if name.startswith("monitor/host/grafana/dashboards/"))
    assert (
        'rate(node_network_receive_bytes_total{job=\\"node\\",host=\\"orion-router\\",device=\\"wan\\"}[5m]) * 8 / 1000000'
        in boards
    )
    assert 'irate(node_cpu_seconds_total{mode=\\"idle\\"}[5m])' in boards
    assert "(1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) * 100" in boards
    assert "eth0" not in boards


def test_interface_names_are_the_only_adaptation(default_stack: OrionStack) -> None:
    files = render_all(default_stack, RenderOptions(interface_names={"wan": "veth-wan"}))
    assert 'iifname "veth-wan"' in files["router/host/nftables.nft"]
    assert 'oifname "veth-wan" masquerade' in files["router/host/nftables.nft"]
    assert json.loads(files["router/host/host.json"])["wan"]["interface"] == "veth-wan"


def test_prometheus_scrapes_every_target_with_its_host_label(default_stack: OrionStack) -> None:
    config = yaml.safe_load(render_all(default_stack)["monitor/host/prometheus.yml"])
    scraped = {
        (job["job_name"], static["targets"][0], static["labels"]["host"])
        for job in config["scrape_configs"]
        for static in job["static_configs"]
    }
    expected = {(t.job, f"{t.address}:{t.port}", t.name) for t in default_stack.scrape_targets()}
    assert scraped == expected
    assert ("bird", "192.168.100.1:9324", "orion-router") in scraped
    assert ("node", "192.168.1.10:9100", "orion-pve") in scraped


def test_guests_are_kept_to_the_internet(default_stack: OrionStack) -> None:
    nft = render_all(default_stack)["router/host/nftables.nft"]
    assert 'iifname "guest" oifname "wan" accept' in nft
    forwards = [line.strip() for line in nft.splitlines() if 'iifname "guest"' in line and "oifname" in line]
    assert forwards == ['iifname "guest" oifname "wan" ct state related accept', 'iifname "guest" oifname "wan" accept']
    unbound = render_all(default_stack)["router/host/unbound.conf"]
    assert "access-control-view: 192.168.200.0/24 guest" in unbound


def test_router_advertisements_announce_a_dns_server_unbound_serves(default_stack: OrionStack) -> None:
    files = render_all(default_stack)
    host = json.loads(files["router/host/host.json"])
    unbound = files["router/host/unbound.conf"]
    listening = {
        line.split(":", 1)[1].strip() for line in unbound.splitlines() if line.strip().startswith("interface:")
    }
    allowed = [
        ipaddress.ip_network(line.split()[1])
        for line in unbound.splitlines()
        if line.strip().startswith("access-control:") and line.split()[2] == "allow"
    ]
    advertising = [interface for interface in host["interfaces"] if interface["router_advertisements"]]
    assert {interface["network"] for interface in advertising} == {"lan", "guest"}
    for interface in advertising:
        server = ipaddress.ip_address(interface["dns6"])
        assert str(server) in listening
        client = ipaddress.ip_interface(interface["ipv6"]).network.network_address + 0x77  # a host of that /64
        assert any(client in network for network in allowed if network.prefixlen)


def test_each_service_port_has_one_home(default_stack: OrionStack) -> None:
    """The router runs its exporters on the ports Prometheus scrapes, the firewall opens and the agent probes,
    all from orion_infra.model.ports: changing one there moves every file."""
    files = render_all(default_stack)
    host = json.loads(files["router/host/host.json"])
    scraped = {
        job["job_name"]: int(static["targets"][0].rsplit(":", 1)[1])
        for job in yaml.safe_load(files["monitor/host/prometheus.yml"])["scrape_configs"]
        for static in job["static_configs"]
        if static["labels"]["host"] == "orion-router"
    }
    exporters = {name: port for name, port in host["exporters"].items() if name != "node_netstat_fields"}
    assert scraped == exporters == ports.ROUTER_EXPORTERS
    nft = files["router/host/nftables.nft"]
    opened = {int(port) for port in re.findall(r"\d+", nft.split("tcp dport {", 1)[1].split("}", 1)[0])}
    assert opened == {ports.SSH, *ports.ROUTER_EXPORTERS.values()}
    settings = json.loads(files["monitor/host/agent-settings.json"])
    assert settings["router"]["bird_exporter_url"].endswith(f":{host['exporters']['bird']}/metrics")


def test_a_port_changed_at_its_home_changes_everywhere(
    default_stack: OrionStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ports.ROUTER_EXPORTERS, "bird", 9999)
    files = render_all(default_stack)
    assert json.loads(files["router/host/host.json"])["exporters"]["bird"] == 9999
    assert "192.168.100.1:9999" in files["monitor/host/prometheus.yml"]
    assert "9999" in files["router/host/nftables.nft"].split("tcp dport {", 1)[1].split("}", 1)[0]
    assert ":9999/metrics" in files["monitor/host/agent-settings.json"]
