"""Pulumi dynamic providers for the iDRAC: the certificate trusted on first contact, power, one-time boot, virtual
media, root password, system facts.

The provider objects are pickled into Pulumi's state, so they hold only plain settings; every Redfish client is
built inside a method and closed before it returns. How to connect (the password, the TLS settings and pin) is kept
in the state but never acted on: rotating a password or pinning a certificate must not look like a change of the
server (a one-time boot re-armed, say).
"""

from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

from orion_infra.redfish import operations
from orion_infra.redfish.client import SYSTEM_CLOCK, Clock, Credentials, RedfishClient, RetryPolicy, Timeouts
from orion_infra.redfish.errors import RedfishError, RedfishUnavailableError
from orion_infra.redfish.tls import (
    PINNED,
    SHA256_FINGERPRINT,
    TLS_MODES,
    TlsSettings,
    presented_certificate,
    renewal_advice,
    tls_modes_text,
)

log = logging.getLogger(__name__)

# What a value looks like before it is known (during a preview).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
CONNECTION = ("endpoint", "username", "password", "tls_verify", "ca_bundle", "sha256_fingerprint", "tls_identity")
# How to reach and trust the iDRAC and log in: a change is stored (later reads and deletes need the settings in
# force) without touching the server.
HOW_TO_CONNECT = frozenset({"password", "tls_verify", "ca_bundle", "sha256_fingerprint", "tls_identity"})
# iDRAC 8 accepts up to 20 characters from this set for a local user's password.
IDRAC_PASSWORD = re.compile(r"^[A-Za-z0-9~!@#$%^&*()_+\-={}|:<>?.]{1,20}$")


def _known(value: object) -> bool:
    return value is not None and value != UNKNOWN


class IdracProvider(ResourceProvider):
    """What every iDRAC resource shares: connection checks, a diff that only stores how to connect, the client."""

    inputs: ClassVar[tuple[str, ...]] = ()
    replace_on: ClassVar[frozenset[str]] = frozenset({"endpoint"})

    def __init__(
        self,
        waits: operations.Waits = operations.Waits(),
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        super().__init__()
        self.waits = waits
        self.retry = retry
        self.timeouts = timeouts
        self.clock = clock

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = check_connection(news) + self.check_inputs(news)
        return CheckResult(news, failures)

    def check_inputs(self, news: dict[str, Any]) -> list[CheckFailure]:
        return []

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = self._changed(olds, news)
        # A new password (a later rotation) or a new pin is kept in the state without touching the server: reads
        # and deletes must log in with the password, and trust the certificate, in force now.
        connection = any(olds.get(key) != news.get(key) for key in HOW_TO_CONNECT)
        return DiffResult(
            changes=bool(changed) or connection,
            replaces=[key for key in changed if key in self.replace_on],
            delete_before_replace=True,
        )

    def _changed(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        watched = [key for key in (*CONNECTION, *self.inputs) if key not in HOW_TO_CONNECT]
        return [key for key in watched if olds.get(key) != news.get(key)]

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if not self._changed(olds, news):
            return UpdateResult(dict(news))  # only how to connect: nothing to do on the server
        return self.apply_update(id_, olds, news)

    def apply_update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(dict(news))

    def client(self, props: dict[str, Any], password: str | None = None) -> RedfishClient:
        tls = TlsSettings(
            verify=props.get("tls_verify") or "system",
            ca_bundle=props.get("ca_bundle"),
            sha256_fingerprint=props.get("sha256_fingerprint"),
            renewal=renewal(props),
        )
        credentials = Credentials(str(props["username"]), str(password if password is not None else props["password"]))
        return RedfishClient(
            str(props["endpoint"]), credentials, tls, retry=self.retry, timeouts=self.timeouts, clock=self.clock
        )


def renewal(props: dict[str, Any]) -> str:
    """What the operator does when the iDRAC's certificate was replaced on purpose (said when a pin refuses it)."""
    return renewal_advice(props.get("tls_verify") or "system", identity=props.get("tls_identity"))


def check_connection(news: dict[str, Any]) -> list[CheckFailure]:
    failures: list[CheckFailure] = []
    endpoint = news.get("endpoint")
    if _known(endpoint):
        parts = urlsplit(str(endpoint))
        if parts.scheme not in ("https", "http") or not parts.hostname:
            failures.append(
                CheckFailure("endpoint", f"expected the iDRAC's URL like https://192.168.1.2, got {endpoint!r}")
            )
    username = news.get("username")
    if _known(username) and not re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", str(username)):
        failures.append(CheckFailure("username", f"expected an iDRAC user name of 1-16 characters, got {username!r}"))
    if news.get("password") is None:
        failures.append(CheckFailure("password", "the iDRAC password is required (a secret)"))
    verify = news.get("tls_verify") or "system"
    if verify not in TLS_MODES:
        failures.append(CheckFailure("tls_verify", f"expected {tls_modes_text()}, got {verify!r}"))
    if verify == "ca_bundle" and not news.get("ca_bundle"):
        failures.append(CheckFailure("ca_bundle", "tls_verify=ca_bundle needs the path of a PEM bundle"))
    fingerprint = news.get("sha256_fingerprint")
    # A fingerprint recorded on first contact is unknown until that contact (during a preview).
    if verify in PINNED and fingerprint != UNKNOWN and not SHA256_FINGERPRINT.fullmatch(str(fingerprint or "")):
        expected = (
            "the fingerprint recorded on first contact (a TlsIdentity's sha256_fingerprint)"
            if verify == "first_use"
            else "a SHA-256 fingerprint (64 hex digits)"
        )
        failures.append(CheckFailure("sha256_fingerprint", f"expected {expected}, got {fingerprint!r}"))
    return failures


# -- the certificate trusted on first contact -----------------------------------------------------------------


class TlsIdentityProvider(ResourceProvider):
    """First contact with a new iDRAC (verify: first_use): records the certificate it presents, from a TLS handshake
    alone (no request, no credential). The host's other resources are pinned to it. Only a new endpoint, or
    `pulumi up --replace`, records another: a refresh never contacts the iDRAC, so it cannot accept a new
    certificate behind the operator's back."""

    def __init__(
        self, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts(), clock: Clock = SYSTEM_CLOCK
    ) -> None:
        super().__init__()
        self.retry = retry
        self.timeouts = timeouts
        self.clock = clock

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        endpoint = news.get("endpoint")
        failures: list[CheckFailure] = []
        parts = urlsplit(str(endpoint or ""))
        if endpoint != UNKNOWN and (parts.scheme != "https" or not parts.hostname):
            failures.append(
                CheckFailure(
                    "endpoint", f"expected the iDRAC's https:// URL like https://192.168.1.2, got {endpoint!r}"
                )
            )
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = olds.get("endpoint") != news.get("endpoint")
        # A new address is a new first contact; nothing else may change what is trusted.
        return DiffResult(changes=moved, replaces=["endpoint"] if moved else [], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        endpoint = str(props["endpoint"])
        last_problem = "no attempt made"
        for attempt in range(1, self.retry.attempts + 1):
            try:
                certificate = presented_certificate(endpoint, self.timeouts.connect)
            except ssl.SSLError as error:
                # Something answers and the handshake fails (not TLS, no common protocol): it fails the same again.
                raise RedfishUnavailableError(f"{endpoint}: the TLS handshake failed: {error}") from error
            except OSError as error:  # refused, timed out, reset: an iDRAC restarting
                last_problem = f"{type(error).__name__}: {error}"
                if attempt < self.retry.attempts:
                    delay = self.retry.delay(attempt - 1)
                    log.info(
                        "%s: %s (attempt %d of %d); next in %.1f s",
                        endpoint,
                        last_problem,
                        attempt,
                        self.retry.attempts,
                        delay,
                    )
                    self.clock.sleep(delay)
                continue
            return CreateResult(f"{endpoint}#tls", {"endpoint": endpoint, **certificate.as_dict()})
        raise RedfishUnavailableError(
            f"{endpoint}: no TLS handshake after {self.retry.attempts} attempts (last: {last_problem})"
        )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The certificate as recorded, without contacting the iDRAC."""
        return ReadResult(id_, dict(props))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forgetting a recorded certificate changes nothing on the iDRAC."""


# -- power --------------------------------------------------------------------------------------------------


class PowerStateProvider(IdracProvider):
    inputs = ("desired",)

    def check_inputs(self, news: dict[str, Any]) -> list[CheckFailure]:
        desired = news.get("desired")
        if _known(desired) and desired not in ("On", "Off"):
            return [CheckFailure("desired", f"expected On or Off, got {desired!r}")]
        return []

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        with self.client(props) as client:
            state = operations.set_power(client, props["desired"], self.waits)
        return {**props, "power_state": state}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['endpoint']}#power", self._apply(props))

    def apply_update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as client:
            return ReadResult(id_, {**props, "power_state": operations.power_state(client)})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forgetting the desired state leaves the server running as it is: deleting must not cut power."""


# -- boot ---------------------------------------------------------------------------------------------------


class BootOnceProvider(IdracProvider):
    inputs = ("method", "trigger")

    def check_inputs(self, news: dict[str, Any]) -> list[CheckFailure]:
        method = news.get("method")
        if _known(method) and method not in ("standard", "dell-scp"):
            return [CheckFailure("method", f"expected standard or dell-scp, got {method!r}")]
        return []

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        with self.client(props) as client:
            override = operations.boot_once_from_cd(client, props.get("method") or "standard")
        return {**props, "boot_target": override["target"], "boot_enabled": override["enabled"]}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['endpoint']}#boot-once", self._apply(props))

    def apply_update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as client:
            override = operations.boot_override(client)
        return ReadResult(id_, {**props, "boot_target": override["target"], "boot_enabled": override["enabled"]})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with self.client(props) as client:
            operations.clear_boot_override(client)


# -- virtual media ------------------------------------------------------------------------------------------


class VirtualMediaProvider(IdracProvider):
    inputs = ("image_url",)
    replace_on = frozenset({"endpoint", "image_url"})

    def check_inputs(self, news: dict[str, Any]) -> list[CheckFailure]:
        url = news.get("image_url")
        if _known(url) and urlsplit(str(url)).scheme not in ("http", "https"):
            return [CheckFailure("image_url", f"expected an http(s) URL the iDRAC can fetch, got {url!r}")]
        return []

    def create(self, props: dict[str, Any]) -> CreateResult:
        with self.client(props) as client:
            state = operations.insert_media(client, str(props["image_url"]))
        return CreateResult(f"{props['endpoint']}#virtual-cd", {**props, "inserted": state["inserted"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(props) as client:
            state = operations.media_state(client)
        return ReadResult(id_, {**props, "image_url": state["image"], "inserted": state["inserted"]})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        with self.client(props) as client:
            operations.eject_media(client)


# -- root password --------------------------------------------------------------------------------------------


class RootPasswordProvider(IdracProvider):
    """Replaces the iDRAC user's password (the factory calvin, first) by `new_password`."""

    inputs = ("new_password",)

    def check_inputs(self, news: dict[str, Any]) -> list[CheckFailure]:
        new = news.get("new_password")
        if _known(new) and not IDRAC_PASSWORD.fullmatch(str(new)):
            return [CheckFailure("new_password", "expected 1-20 characters that iDRAC 8 accepts (value not shown)")]
        return []

    def _rotate(self, props: dict[str, Any], current: str, new: str) -> None:
        try:
            with self.client(props, current) as client:
                operations.change_password(client, str(props["username"]), new)
        except RedfishError as error:
            if error.status != 401:
                raise
            # A rotation that already happened (a retried create): the new password must work, or this fails.
        with self.client(props, new) as client:
            client.system()

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._rotate(props, str(props["password"]), str(props["new_password"]))
        return CreateResult(f"{props['endpoint']}#{props['username']}", dict(props))

    def apply_update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if olds.get("new_password") != news.get("new_password"):
            self._rotate(news, str(olds["new_password"]), str(news["new_password"]))
        return UpdateResult(dict(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """The password stays as it is: the factory default is never restored."""


# -- facts ----------------------------------------------------------------------------------------------------


class SystemInfoProvider(IdracProvider):
    def _facts(self, props: dict[str, Any]) -> dict[str, Any]:
        with self.client(props) as client:
            return {**props, **operations.system_facts(client).as_dict()}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['endpoint']}#system", self._facts(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, self._facts(props))

    def apply_update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._facts(news))


# -- resources ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdracConnection:
    """Where an iDRAC is, how to trust it and how to log in; the password is a secret Output."""

    endpoint: pulumi.Input[str]
    username: pulumi.Input[str]
    password: pulumi.Input[str]
    tls_verify: str = "system"
    ca_bundle: str | None = None
    sha256_fingerprint: pulumi.Input[str] | None = None
    """The pin: the stack's own (verify fingerprint) or a TlsIdentity's recorded one (verify first_use)."""
    tls_identity: pulumi.Input[str] | None = None
    """The URN of the TlsIdentity that recorded the pin (verify first_use), named when a certificate is refused."""

    def props(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "username": self.username,
            "password": pulumi.Output.secret(self.password),
            "tls_verify": self.tls_verify,
            "ca_bundle": self.ca_bundle,
            "sha256_fingerprint": self.sha256_fingerprint,
            "tls_identity": self.tls_identity,
        }


def _opts(opts: pulumi.ResourceOptions | None, *secret_outputs: str) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=["password", *secret_outputs])
    )


class TlsIdentity(Resource, module="idrac", name="TlsIdentity"):
    """The certificate an iDRAC presented on first contact, recorded in the state; the host's other resources are
    pinned to `sha256_fingerprint`. A refresh keeps it; a new endpoint or `pulumi up --replace` records anew."""

    sha256_fingerprint: pulumi.Output[str]
    """SHA-256 of the leaf certificate, `AB:CD:...` as `openssl x509 -fingerprint -sha256` prints it."""
    subject: pulumi.Output[str]
    not_after: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        endpoint: pulumi.Input[str],
        *,
        provider: TlsIdentityProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"endpoint": endpoint, "sha256_fingerprint": None, "subject": None, "not_after": None}
        super().__init__(provider or TlsIdentityProvider(), name, props, opts)


class PowerState(Resource, module="idrac", name="PowerState"):
    """The server's power, held On or Off."""

    power_state: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        connection: IdracConnection,
        desired: pulumi.Input[str],
        *,
        provider: PowerStateProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {**connection.props(), "desired": desired, "power_state": None}
        super().__init__(provider or PowerStateProvider(), name, props, _opts(opts))


class BootOnce(Resource, module="idrac", name="BootOnce"):
    """The next boot (only) from the virtual CD; `trigger` re-arms it when it changes (a new image, say)."""

    boot_target: pulumi.Output[str]
    boot_enabled: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        connection: IdracConnection,
        *,
        method: str = "standard",
        trigger: pulumi.Input[str] = "",
        provider: BootOnceProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {**connection.props(), "method": method, "trigger": trigger, "boot_target": None, "boot_enabled": None}
        super().__init__(provider or BootOnceProvider(), name, props, _opts(opts))


class VirtualMedia(Resource, module="idrac", name="VirtualMedia"):
    """An ISO in the virtual CD, fetched by the iDRAC from `image_url`; ejected when deleted."""

    inserted: pulumi.Output[bool]

    def __init__(
        self,
        name: str,
        connection: IdracConnection,
        image_url: pulumi.Input[str],
        *,
        provider: VirtualMediaProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {**connection.props(), "image_url": image_url, "inserted": None}
        super().__init__(provider or VirtualMediaProvider(), name, props, _opts(opts))


class RootPassword(Resource, module="idrac", name="RootPassword"):
    """The iDRAC user's password, rotated from `connection.password` to `new_password`."""

    new_password: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        connection: IdracConnection,
        new_password: pulumi.Input[str],
        *,
        provider: RootPasswordProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {**connection.props(), "new_password": pulumi.Output.secret(new_password)}
        super().__init__(provider or RootPasswordProvider(), name, props, _opts(opts, "new_password"))


class SystemInfo(Resource, module="idrac", name="SystemInfo"):
    """What the server is and how it is: model, service tag, firmware, power, health, supplies, temperatures."""

    model: pulumi.Output[str]
    service_tag: pulumi.Output[str]
    bios_version: pulumi.Output[str]
    idrac_firmware: pulumi.Output[str]
    power_state: pulumi.Output[str]
    health: pulumi.Output[str]
    power_supplies: pulumi.Output[list[dict[str, Any]]]
    temperatures: pulumi.Output[list[dict[str, Any]]]

    def __init__(
        self,
        name: str,
        connection: IdracConnection,
        *,
        provider: SystemInfoProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        facts = dict.fromkeys(operations.SystemFacts.__dataclass_fields__)
        super().__init__(provider or SystemInfoProvider(), name, {**connection.props(), **facts}, _opts(opts))
