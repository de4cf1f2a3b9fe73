"""The default stack is a consistent version of the seed document."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from pydantic import ValidationError

from orion_infra.model import OrionStack, RawConfig, load_stack


def load(raw: RawConfig, today: datetime.date) -> OrionStack:
    stack, _ = load_stack(raw, today=today)
    return stack


def test_default_stack_validates_with_only_the_expected_warnings(default_raw: RawConfig, today: datetime.date) -> None:
    _, warnings = load_stack(default_raw, today=today)
    assert warnings == [
        "hosts[0].idrac.password: secret idracPassword is not set; set it with `pulumi config set --secret idracPassword` (it prompts for the value) or `... --secret idracPassword < FILE`",
        "bgp.peers[0].password: secret bgpPasswordHePrimary is not set; "
        "set it with `pulumi config set --secret bgpPasswordHePrimary` (it prompts for the value) or `... --secret bgpPasswordHePrimary < FILE`",
        "bgp.peers[1].password: secret bgpPasswordHeSecondary is not set; "
        "set it with `pulumi config set --secret bgpPasswordHeSecondary` (it prompts for the value) or `... --secret bgpPasswordHeSecondary < FILE`",
        "bgp.peers[2].password: secret bgpPasswordHeTertiary is not set; "
        "set it with `pulumi config set --secret bgpPasswordHeTertiary` (it prompts for the value) or `... --secret bgpPasswordHeTertiary < FILE`",
        "access.deploy_key: secret sshDeployKey is not set; set it with `pulumi config set --secret sshDeployKey` (it prompts for the value) or `... --secret sshDeployKey < FILE`",
        "flake.lock: pins a pre-release of NixOS 26.11 (https://releases.nixos.org/nixos/unstable/"
        "nixos-26.11pre1035164.753cc8a3a874/nixexprs.tar.xz); move it to the release branch before deploying "
        "(docs/decisions/0021-one-pinned-nixpkgs.md)",
        "access.authorized_keys: no operator key; only the deploy key can log in to the NixOS VMs",
    ]


def test_the_default_stack_still_validates_after_nixos_26_05_reached_its_end(default_raw: RawConfig) -> None:
    stack, warnings = load_stack(default_raw, today=datetime.date(2027, 1, 2))
    assert {vm.os.release for vm in stack.vms.values() if vm.os.family == "nixos"} == {"26.11"}
    assert not any("os.release" in line for line in warnings)


def test_the_seed_facts_survive(default_raw: RawConfig, today: datetime.date) -> None:
    stack = load(default_raw, today)
    host = stack.hosts[0]
    assert (host.service_tag, host.cpu.cores, host.cpu.threads, host.memory_gib) == ("CQ5QBM2", 28, 56, 384)
    assert [nic.name for nic in host.nics] == ["eno1", "eno2", "eno3", "eno4", "eno5", "eno6", "enp3s0f0", "enp3s0f1"]
    assert host.nics[0].mac == "D0:94:66:24:96:7C"
    assert stack.bgp.asn == 394955
    assert [(peer.address, peer.asn, peer.role.value) for peer in stack.bgp.peers] == [
        (ipaddress.ip_address("206.75.1.127"), 6939, "primary"),
        (ipaddress.ip_address("206.75.1.47"), 6939, "secondary"),
        (ipaddress.ip_address("206.75.1.48"), 6939, "tertiary"),
    ]
    assert [(vm.id, vm.cores, vm.memory_gib, vm.disk.size_gib, len(vm.nics)) for vm in stack.vms.values()] == [
        (200, 8, 32, 50, 4),
        (300, 4, 16, 50, 1),
        (100, 12, 64, 256, 1),
    ]
    lan = stack.networks.lan
    assert lan.dhcp is not None
    assert (str(lan.subnet), str(lan.gateway), str(lan.dhcp.start), str(lan.dhcp.end)) == (
        "192.168.100.0/24",
        "192.168.100.1",
        "192.168.100.100",
        "192.168.100.200",
    )
    assert stack.networks.guest.isolation == "internet_only"


def test_the_resolved_contradictions(default_raw: RawConfig, today: datetime.date) -> None:
    stack = load(default_raw, today)
    host = stack.hosts[0]
    # 1: the host is managed at 192.168.1.10 only, on the bridge the installer creates.
    assert stack.management_address(host) == ipaddress.IPv4Address("192.168.1.10")
    assert stack.networks.management.bridge == "vmbr0"
    # 2: the router's management NIC is on the management bridge.
    assert stack.network_of(stack.router.nics[3].bridge, None) == "management"
    # 3: the macOS VM is on the LAN, the guest network has its own bridge.
    assert stack.network_of(stack.vms["macos"].nics[0].bridge, None) == "lan"
    # 4: the LAN /64 is carved from the announced /48.
    assert lan_v6_inside_announced(stack)


def lan_v6_inside_announced(stack: OrionStack) -> bool:
    lan_v6 = stack.networks.lan.ipv6
    announced = stack.bgp.announce[0]
    return lan_v6 is not None and isinstance(announced, ipaddress.IPv6Network) and lan_v6.subnet.subnet_of(announced)


def test_the_model_is_frozen(default_raw: RawConfig, today: datetime.date) -> None:
    stack = load(default_raw, today)
    with pytest.raises(ValidationError, match="frozen"):
        stack.bgp.asn = 1  # type: ignore[misc]
