"""From raw config to the model: secrets, unknown keys, error wording, and every problem at once."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest

from orion_infra.model import RawConfig, StackConfigError, load_stack, read_stack_file
from tests.keys import private_key
from tests.stack_edits import edited

ALL_SECRETS = frozenset(
    {"idracPassword", "bgpPasswordHePrimary", "bgpPasswordHeSecondary", "bgpPasswordHeTertiary", "sshDeployKey"}
)


def problems(raw: RawConfig, today: datetime.date, *, require_secrets: bool = False) -> list[str]:
    with pytest.raises(StackConfigError) as rejected:
        load_stack(raw, today=today, require_secrets=require_secrets)
    return rejected.value.problems


def with_secrets(raw: RawConfig, **values: str) -> RawConfig:
    defaults = {**dict.fromkeys(ALL_SECRETS, "a-long-random-secret"), "sshDeployKey": private_key("deploy")}
    return dataclasses.replace(raw, secret_keys=ALL_SECRETS, secret_values={**defaults, **values})


def test_missing_secrets_are_errors_before_a_deployment(default_raw: RawConfig, today: datetime.date) -> None:
    found = problems(default_raw, today, require_secrets=True)
    assert len(found) == 5
    assert found[0] == (
        "hosts[0].idrac.password: secret idracPassword is not set; set it with `pulumi config set --secret idracPassword` (it prompts for the value) or `... --secret idracPassword < FILE`"
    )


def test_all_secrets_set_is_valid(default_raw: RawConfig, today: datetime.date) -> None:
    stack, warnings = load_stack(with_secrets(default_raw), today=today, require_secrets=True)
    assert stack.bgp.peers[0].password is not None
    assert not any("not set" in warning for warning in warnings)


def test_a_default_credential_is_refused_but_the_idrac_factory_password_is_expected(
    default_raw: RawConfig, today: datetime.date
) -> None:
    raw = with_secrets(default_raw, idracPassword="calvin", bgpPasswordHePrimary="orion2025")
    assert problems(raw, today) == [
        "bgp.peers[0].password: secret bgpPasswordHePrimary is a well-known default credential; choose a new one"
    ]


def test_a_section_stored_as_secret_is_refused(default_raw: RawConfig, today: datetime.date) -> None:
    raw = dataclasses.replace(default_raw, secret_keys=frozenset({"dns"}))
    values = dict(default_raw.values)
    del values["dns"]
    assert "dns: the dns section is facts, not a secret; set it as plain config" in problems(
        dataclasses.replace(raw, values=values), today
    )


def test_an_unreferenced_secret_is_a_warning(default_raw: RawConfig, today: datetime.date) -> None:
    raw = dataclasses.replace(with_secrets(default_raw), secret_keys=ALL_SECRETS | {"grafanaPassword"})
    _, warnings = load_stack(raw, today=today)
    assert "grafanaPassword: secret orion:grafanaPassword is set but nothing references it" in warnings


def test_the_alternatives_of_a_union_make_one_line(default_raw: RawConfig, today: datetime.date) -> None:
    raw = edited(default_raw, (("vms", "macos", "nics", 0, "ipv4"), "dhcpv4"))
    assert problems(raw, today) == ["vms.macos.nics[0].ipv4: expected 'dhcp' or an IPv4 address, got 'dhcpv4'"]


def test_a_discriminated_union_names_the_field_not_the_branch(default_raw: RawConfig, today: datetime.date) -> None:
    raw = edited(default_raw, (("vms", "router", "os"), {"family": "vyos", "release": "1.4"}))
    assert problems(raw, today) == ["vms.router.os: expected os.family nixos or macos"]
    raw = edited(default_raw, (("vms", "router", "os", "release"), "26.06"))
    assert problems(raw, today) == ["vms.router.os.release: expected text matching '^[0-9]{2}\\.(05|11)$', got '26.06'"]


def test_a_release_is_judged_by_the_date(default_raw: RawConfig) -> None:
    assert load_stack(default_raw, today=datetime.date(2027, 6, 30))
    after = problems(default_raw, datetime.date(2027, 7, 1))
    assert after == [
        "vms.router.os.release: NixOS 26.11 reached its end of life on 2027-06-30; supported: none",
        "vms.monitor.os.release: NixOS 26.11 reached its end of life on 2027-06-30; supported: none",
    ]


def test_a_supported_release_must_be_the_one_the_flake_pins(default_raw: RawConfig) -> None:
    raw = edited(
        default_raw, (("vms", "router", "os", "release"), "26.05"), (("vms", "router", "os", "state_version"), "26.05")
    )
    assert problems(raw, datetime.date(2026, 12, 1)) == [
        "vms.router.os.release: NixOS 26.05 is not the release flake.lock pins (26.11); every NixOS VM is built from it"
    ]


def test_types_are_named_with_what_was_given(default_raw: RawConfig, today: datetime.date) -> None:
    raw = edited(
        default_raw,
        (("hosts", 0, "memory_gib"), "lots"),
        (("networks", "lan", "gateway"), "192.168.100.300"),
        (("bgp", "peers", 0, "bfd"), "sometimes"),
    )
    assert problems(raw, today) == [
        "hosts[0].memory_gib: expected an integer, got 'lots'",
        "networks.lan.gateway: expected an IPv4 address, got '192.168.100.300'",
        "bgp.peers[0].bfd: expected true or false, got 'sometimes'",
    ]


def test_a_stack_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.broken.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(StackConfigError) as rejected:
        read_stack_file(path)
    assert rejected.value.problems == [f"{path}: expected a mapping with a 'config:' key, got list"]


def test_other_namespaces_are_left_to_pulumi(tmp_path: Path, default_stack_file: Path, today: datetime.date) -> None:
    path = tmp_path / "Pulumi.orion.yaml"
    text = default_stack_file.read_text().replace("config:\n", "config:\n  proxmoxve:insecure: 'false'\n", 1)
    path.write_text(text + "encryptionsalt: v1:abc\n")
    raw = read_stack_file(path)
    assert "proxmoxve:insecure" not in raw.values
    assert load_stack(raw, today=today)


def test_the_error_text_lists_every_problem(default_raw: RawConfig, today: datetime.date) -> None:
    raw = edited(default_raw, (("bgp", "asn"), 64512), (("dns", "domain"), "orion.local"))
    with pytest.raises(StackConfigError) as rejected:
        load_stack(raw, today=today)
    assert str(rejected.value).splitlines()[1:] == [f"  {line}" for line in rejected.value.problems]
    assert len(rejected.value.problems) == 2
