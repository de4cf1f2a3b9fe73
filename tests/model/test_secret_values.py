"""A secret's value is checked before anything is created, where the stack uses it: refused with the config key and
what was expected, never with the value."""

from __future__ import annotations

import pytest

from orion_infra.model import RawConfig
from orion_infra.model.secret_values import value_problem
from tests.keys import private_key
from tests.pulumi_harness import PulumiUp
from tests.test_program import SECRETS, errors

BREAKOUT = 'abc"; export all; #'


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "bgpPasswordHePrimary",
            BREAKOUT,
            'bgp.peers[0].password: secret bgpPasswordHePrimary: expected printable ASCII without " or \\ (BIRD '
            "writes it as a quoted string, without escapes) (the value is not shown)",
        ),
        (
            "bgpPasswordHeSecondary",
            "k" * 200,
            "bgp.peers[1].password: secret bgpPasswordHeSecondary: expected 1 to 80 bytes (the kernel's TCP-MD5 key "
            "limit), got 200 (the value is not shown)",
        ),
        (
            "sshDeployKey",
            "not a key",
            "access.deploy_key: secret sshDeployKey: expected an OpenSSH private key (-----BEGIN OPENSSH PRIVATE "
            "KEY----- ...), as ssh-keygen writes it (the value is not shown)",
        ),
        (
            "sshDeployKey",
            private_key("locked", passphrase="a passphrase"),
            "access.deploy_key: secret sshDeployKey: expected a key without a passphrase: Pulumi cannot type one "
            "(ssh-keygen -p -N '' removes it) (the value is not shown)",
        ),
    ],
)
def test_a_bad_secret_stops_the_program_before_any_resource(
    key: str, value: str, expected: str, default_raw: RawConfig, pulumi_up: PulumiUp
) -> None:
    run = pulumi_up(default_raw.values, {**SECRETS, key: value})
    assert run.error is not None
    assert run.registrations == []
    assert errors(run) == [expected]
    assert all(value not in line for line in errors(run))


def test_good_values_pass() -> None:
    assert value_problem(("bgp", "peers", 0, "password"), "x7-primary-session-key") is None
    assert value_problem(("access", "deploy_key"), private_key("deploy")) is None
    assert value_problem(("hosts", 0, "idrac", "password"), "calvin") is None
    assert value_problem(("hosts", 0, "idrac", "password"), "x" * 21) is not None
    assert value_problem(("hosts", 1, "proxmox", "root_password"), "short") is not None
    assert value_problem(("dns", "upstreams"), "anything") is None  # no rule: not a secret's place
