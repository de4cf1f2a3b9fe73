"""The iDRAC's TLS policy: first_use needs no material, an unknown mode is refused naming the field, and only the
explicit opt-out (insecure) is warned about."""

from __future__ import annotations

import datetime

import pytest

from orion_infra.model import RawConfig, StackConfigError, load_stack
from orion_infra.model.hosts import TlsPolicy
from orion_infra.schema import field_docstrings
from tests.stack_edits import edited

TLS = ("hosts", 0, "idrac", "tls")
INSECURE_ADVISORY = "hosts[0].idrac.tls.verify: insecure accepts any certificate"


def test_first_use_needs_neither_a_bundle_nor_a_fingerprint_and_only_insecure_is_warned_about(
    default_raw: RawConfig, today: datetime.date
) -> None:
    stack, warnings = load_stack(edited(default_raw, (TLS, {"verify": "first_use"})), today=today)
    tls = stack.hosts[0].idrac.tls
    assert (tls.verify, tls.ca_bundle, tls.sha256_fingerprint) == ("first_use", None, None)
    assert not [line for line in warnings if line.startswith("hosts[0].idrac.tls")]
    # The explicit per-host opt-out stays possible, and `orion validate` says what it costs.
    _, warnings = load_stack(edited(default_raw, (TLS, {"verify": "insecure"})), today=today)
    assert any(line.startswith(INSECURE_ADVISORY) for line in warnings)
    # And there is no default to fall back on: the stack must choose.
    with pytest.raises(StackConfigError) as refused:
        load_stack(edited(default_raw, (TLS, {})), today=today)
    assert refused.value.problems == ["hosts[0].idrac.tls.verify: is required but missing"]


@pytest.mark.parametrize(
    ("tls", "problem"),
    [
        (
            {"verify": "trust_on_first_use"},
            "hosts[0].idrac.tls.verify: expected 'system', 'ca_bundle', 'fingerprint', 'first_use' or 'insecure', "
            "got 'trust_on_first_use'",
        ),
        (
            {"verify": "first_use", "sha256_fingerprint": "AB" * 32},
            "hosts[0].idrac.tls.sha256_fingerprint: is only used with verify: fingerprint, not verify: first_use",
        ),
        (
            {"verify": "first_use", "ca_bundle": "/etc/ssl/idrac.pem"},
            "hosts[0].idrac.tls.ca_bundle: is only used with verify: ca_bundle, not verify: first_use",
        ),
    ],
)
def test_a_policy_that_is_not_one_is_refused_naming_the_field(
    default_raw: RawConfig, today: datetime.date, tls: dict[str, str], problem: str
) -> None:
    with pytest.raises(StackConfigError) as refused:
        load_stack(edited(default_raw, (TLS, tls)), today=today)
    assert refused.value.problems == [problem]


def test_the_field_explains_first_use() -> None:
    description = field_docstrings(TlsPolicy)["verify"]
    assert "first_use:" in description
    assert "nothing sent" in description
    assert "before any password is sent" in description
