"""`orion idrac ...`: the iDRAC from the command line, with the same client and operations as the provider.

Kept light to start: the Redfish client (requests), the stack model (pydantic) and the Pulumi CLI helpers are
imported when a command needs them, so `orion idrac power-on --endpoint ...` loads neither the model nor Pulumi.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import click
from click.core import ParameterSource

from orion_infra.cli_options import DEFAULT_STACK_FILE, HELP_CONTEXT, stack_file_default

if TYPE_CHECKING:
    from orion_infra.cli_common import StackCli
    from orion_infra.redfish import operations
    from orion_infra.redfish.client import Clock, RedfishClient
    from orion_infra.redfish.tls import TlsSettings

PASSWORD_VARIABLE = "ORION_IDRAC_PASSWORD"  # noqa: S105 - the variable's name, not a password
SCHEMES = ("https", "http")

clock: Clock | None = None
"""The clock the commands' waits read and sleep on; None for the system's. Tests set their own."""


class UsageProblem(click.ClickException):
    """A usage error printed as one line (`Error: ...`), exit 2: click's UsageError raised in a command would
    print the command's usage first."""

    exit_code = 2


def _usage(message: str) -> UsageProblem:
    return UsageProblem(message)


# -- options, accepted before the subcommand (`orion idrac --json status`) and after it (`orion idrac status --json`)

_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    click.option(
        "--stack-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=stack_file_default,
        help="the Pulumi stack file the iDRAC, its user, password and TLS policy come from  [default: orion's own "
        f"--stack-file, else {DEFAULT_STACK_FILE}]",
    ),
    click.option("--host", "host_name", help="which host of the stack (default: the first)"),
    click.option("--endpoint", help="the iDRAC's address (192.168.1.2, host:port or https://...), not the stack's"),
    click.option("--username", help="the iDRAC user, instead of the stack file's"),
    click.option("--insecure", is_flag=True, help="accept any certificate (a warning is printed)"),
    click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="trust this PEM bundle"),
    click.option("--pin-sha256", help="trust only the certificate with this SHA-256 fingerprint"),
    click.option("--json", "as_json", is_flag=True, help="machine-readable output"),
    click.option(
        "--poll-interval", type=float, default=5.0, show_default=True, help="seconds between state reads while waiting"
    ),
    click.option(
        "--timeout",
        "retry_seconds",
        type=float,
        default=120.0,
        show_default=True,
        help="seconds to keep retrying an iDRAC that does not answer (refused, dropped, busy) before giving up",
    ),
    click.option(
        "--retries", type=int, default=5, show_default=True, help="how many times a failed request is tried again"
    ),
)
F = TypeVar("F", bound=Callable[..., Any])
SHARED = (
    "stack_file",
    "host_name",
    "endpoint",
    "username",
    "insecure",
    "ca_bundle",
    "pin_sha256",
    "as_json",
    "poll_interval",
    "retry_seconds",
    "retries",
)


def _shared_options(command: F) -> F:
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


_GROUP_VALUES = "orion_infra.cli_idrac.group"  # the key in click's context meta, shared by the group and commands


def _given(context: click.Context, group_values: dict[str, Any], command_values: dict[str, Any]) -> dict[str, Any]:
    """Each option's value: the subcommand's when given there, else the group's (given or default)."""
    merged = dict(group_values)
    for name in SHARED:
        if context.get_parameter_source(name) not in (None, ParameterSource.DEFAULT):
            merged[name] = command_values[name]
    return merged


# -- what the options say, checked before anything is sent -------------------------------------------------


def parse_endpoint(text: str, option: str = "--endpoint") -> str:
    """`https://host[:port]` from what an operator types: a bare host or host:port means https://."""
    candidate = text.strip() if "://" in text else f"https://{text.strip()}"
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        parts = None
    expected = "the iDRAC's address: 192.168.1.2, idrac.lan:8443, https://... or http://..."
    if parts is None or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise _usage(f"{option}: expected {expected}, got {text!r}")
    if parts.scheme not in SCHEMES:
        raise _usage(f"{option}: expected {expected} (Redfish is spoken over HTTPS or HTTP), got {text!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _check_numbers(given: dict[str, Any]) -> None:
    if not (math.isfinite(given["poll_interval"]) and given["poll_interval"] > 0):
        raise _usage(f"--poll-interval: expected seconds more than 0, got {given['poll_interval']:g}")
    if not (math.isfinite(given["retry_seconds"]) and given["retry_seconds"] >= 0):
        raise _usage(f"--timeout: expected seconds, 0 or more, got {given['retry_seconds']:g}")
    if given["retries"] < 0:
        raise _usage(f"--retries: expected 0 or more, got {given['retries']}")


def _explicit_tls(given: dict[str, Any], endpoint: str | None) -> TlsSettings | None:
    """The TLS settings the options ask for, None when they ask for none."""
    from orion_infra.redfish.tls import (  # noqa: PLC0415 - see the module's docstring
        SHA256_FINGERPRINT,
        TlsSettings,
        bundle_problem,
    )

    chosen = [flag for flag in ("insecure", "ca_bundle", "pin_sha256") if given[flag]]
    if len(chosen) > 1:
        raise _usage("choose one of --insecure, --ca-bundle and --pin-sha256")
    if not chosen:
        return None
    pin = given["pin_sha256"]
    if pin is not None and not SHA256_FINGERPRINT.fullmatch(pin):
        raise _usage(f"--pin-sha256: expected a SHA-256 fingerprint (64 hex digits, AB:CD:... or abcd...), got {pin!r}")
    if endpoint is not None and endpoint.startswith("http://") and chosen[0] != "insecure":
        option = "--" + chosen[0].replace("_", "-")
        raise _usage(f"{option} is for https://: {endpoint} is plain HTTP, with no certificate to check")
    if given["insecure"]:
        return TlsSettings("insecure")
    if given["ca_bundle"]:
        # Read now, as the connection would read it: a file that is no bundle is the operator's to fix, not a
        # connection failure to retry for a minute.
        if (problem := bundle_problem(given["ca_bundle"])) is not None:
            raise _usage(f"--ca-bundle: {problem}")
        return TlsSettings("ca_bundle", ca_bundle=given["ca_bundle"])
    return TlsSettings("fingerprint", sha256_fingerprint=pin)


@dataclass(frozen=True)
class Target:
    endpoint: str
    username: str
    password_key: str | None
    host_name: str | None
    tls: TlsSettings | None
    """None with verify: first_use: the pin recorded by `pulumi up` is looked up when the command runs."""
    as_json: bool
    waits: operations.Waits
    retry_attempts: int
    retry_seconds: float
    stack_file: Path
    """Where passwords and recorded pins come from, through the Pulumi CLI for the stack it belongs to."""
    insecure_not_inherited: bool = False
    """The stack says `tls: insecure` for its own address, and an --endpoint override does not get it (0039)."""

    @property
    def cli(self) -> StackCli:
        from orion_infra.cli_common import StackCli  # noqa: PLC0415 - imports the model

        return StackCli(self.stack_file)


@dataclass(frozen=True)
class _StackHost:
    endpoint: str
    username: str
    password_key: str
    name: str
    tls: TlsSettings | None


def _from_stack(stack_file: Path, host_name: str | None, *, trusting_it: bool) -> _StackHost:
    """The host's iDRAC as the stack file describes it. A problem in the file exits 1 with its located lines, as
    every command that reads it does (0036), and so does a CA bundle it names that is none, when its TLS policy is
    the one used (`trusting_it`); naming a host the file lacks is a usage error."""
    from orion_infra.cli_common import load_or_exit  # noqa: PLC0415 - imports the model
    from orion_infra.redfish.tls import TlsSettings, bundle_problem, renewal_advice  # noqa: PLC0415

    stack, _ = load_or_exit(stack_file)
    hosts = {host.name: host for host in stack.hosts}
    host = hosts.get(host_name) if host_name else stack.hosts[0]
    if host is None:
        raise _usage(f"no host {host_name!r} in {stack_file} (hosts: {', '.join(hosts)})")
    policy = host.idrac.tls
    index = stack.hosts.index(host)
    if trusting_it and policy.ca_bundle is not None and (problem := bundle_problem(policy.ca_bundle)) is not None:
        _exit_with_problem(stack_file, ("hosts", index, "idrac", "tls", "ca_bundle"), problem)
    tls = None  # first_use: the recorded pin, looked up when the command runs
    if policy.verify != "first_use":
        renewal = renewal_advice(policy.verify, stack=str(stack_file), host_index=index)
        tls = TlsSettings(policy.verify, policy.ca_bundle, policy.sha256_fingerprint, renewal=renewal)
    return _StackHost(f"https://{host.idrac.address}", host.idrac.user, host.idrac.password.secret, host.name, tls)


def _exit_with_problem(stack_file: Path, loc: tuple[str | int, ...], message: str) -> NoReturn:
    """A problem of the stack file found outside the model (what a path in it holds), printed as the model's are."""
    from orion_infra.cli_common import print_problems  # noqa: PLC0415
    from orion_infra.model import StackConfigError, read_stack_file  # noqa: PLC0415
    from orion_infra.model.problems import StackProblem, line_of  # noqa: PLC0415

    line = line_of(read_stack_file(stack_file).lines, loc)
    print_problems(stack_file, StackConfigError([StackProblem(loc, message, line=line, source=str(stack_file))]))
    raise SystemExit(1)


def resolve_target(given: dict[str, Any]) -> Target:
    """Where and how to connect, from the options and the stack file; every usage error is raised here, before
    anything is sent."""
    from orion_infra.redfish import operations  # noqa: PLC0415

    _check_numbers(given)
    endpoint = parse_endpoint(given["endpoint"]) if given["endpoint"] else None
    explicit = _explicit_tls(given, endpoint)
    if endpoint is not None and endpoint.startswith("http://") and not given["insecure"]:
        # Plain HTTP verifies nobody and carries the password readable on the wire: only on the operator's say-so.
        raise _usage(
            f"--endpoint {endpoint}: plain HTTP would send the iDRAC's password unencrypted to a server nobody "
            "verified; use https://, or add --insecure to accept that"
        )
    stack_file: Path = given["stack_file"]
    username: str | None = given["username"]
    password_key: str | None = None
    host_name: str | None = None
    tls: TlsSettings | None = explicit
    insecure_not_inherited = False
    if endpoint is None or username is None:
        if not stack_file.exists():
            raise _usage(f"give --endpoint and --username, or a stack file ({stack_file} does not exist)")
        plain_http = endpoint is not None and endpoint.startswith("http://")
        stack_host = _from_stack(stack_file, given["host_name"], trusting_it=explicit is None and not plain_http)
        password_key, host_name, username = stack_host.password_key, stack_host.name, username or stack_host.username
        if explicit is None:
            tls = _stack_tls_for(stack_host, endpoint)
            stack_insecure = stack_host.tls is not None and stack_host.tls.verify == "insecure"
            insecure_not_inherited = stack_insecure and (tls is None or tls.verify != "insecure")
        endpoint = endpoint or stack_host.endpoint
    elif explicit is None:
        from orion_infra.redfish.tls import TlsSettings  # noqa: PLC0415

        tls = TlsSettings()
    if endpoint.startswith("http://"):
        from orion_infra.redfish.tls import TlsSettings  # noqa: PLC0415

        tls = tls if tls is not None and tls.verify == "insecure" else TlsSettings()  # no certificate to check
    return Target(
        endpoint=endpoint,
        username=username,
        password_key=password_key,
        host_name=host_name,
        tls=tls,
        as_json=given["as_json"],
        waits=operations.Waits(poll_seconds=given["poll_interval"]),
        retry_attempts=given["retries"] + 1,
        retry_seconds=given["retry_seconds"],
        stack_file=stack_file,
        insecure_not_inherited=insecure_not_inherited and endpoint.startswith("https://"),
    )


def _stack_tls_for(stack_host: _StackHost, endpoint: str | None) -> TlsSettings | None:
    """The stack's TLS policy, for its own address or an --endpoint override. An override keeps what only
    narrows trust (a pin, recorded or the stack's, or a CA bundle: the same iDRAC reached another way passes, any
    other certificate is refused) but not `insecure`: that was decided for the stack's address, and an override
    gets the system's verification unless --insecure is given."""
    from orion_infra.redfish.tls import TlsSettings  # noqa: PLC0415

    if endpoint is not None and stack_host.tls is not None and stack_host.tls.verify == "insecure":
        return TlsSettings()
    return stack_host.tls


# -- credentials and trust, read when a command runs --------------------------------------------------------


def current_password(key: str | None, host_name: str | None, stack_file: Path) -> str:
    """The password the iDRAC has now: ORION_IDRAC_PASSWORD, else the one `pulumi up` rotated it to (the stack's
    `credentials` output), else, before any rotation, the stack's secret (its factory password); both read with
    the Pulumi CLI for the stack `stack_file` belongs to."""
    if PASSWORD_VARIABLE in os.environ:
        return os.environ[PASSWORD_VARIABLE]
    from orion_infra.cli_common import StackCli  # noqa: PLC0415 - imports the model: only when it is needed

    if key is None:
        raise _usage(f"set {PASSWORD_VARIABLE}: no stack secret names this iDRAC's password")
    cli = StackCli(stack_file)
    try:
        if host_name:
            credentials = cli.output("credentials", show_secrets=True)
            rotated = credentials.get("idrac_root", {}).get(host_name) if isinstance(credentials, dict) else None
            if isinstance(rotated, str):
                return rotated
        return cli.config_secret(key)
    except click.UsageError as error:
        raise _usage(
            f"the iDRAC's password: set {PASSWORD_VARIABLE}, or make the Pulumi CLI able to read the stack's "
            f"outputs (install it, log in, and set the passphrase if the stack has one): {error.message}"
        ) from None


def recorded_fingerprint(host_name: str, cli: StackCli) -> str | None:
    """The certificate fingerprint `pulumi up` recorded on first contact with the host's iDRAC (verify: first_use):
    the stack's `idrac.<host>.tls_sha256` output, read with the Pulumi CLI; None if there is none."""
    from orion_infra.outputs import OUTPUT_IDRAC  # noqa: PLC0415
    from orion_infra.redfish.tls import SHA256_FINGERPRINT  # noqa: PLC0415

    idracs = cli.output(OUTPUT_IDRAC)
    recorded = idracs.get(host_name, {}).get("tls_sha256") if isinstance(idracs, dict) else None
    return recorded if isinstance(recorded, str) and SHA256_FINGERPRINT.fullmatch(recorded) else None


def _tls(target: Target) -> TlsSettings:
    if target.tls is not None:
        return target.tls
    from orion_infra.outputs import OUTPUT_IDRAC  # noqa: PLC0415 - imports the model: only for first_use
    from orion_infra.redfish.tls import TlsSettings, renewal_advice  # noqa: PLC0415

    host = target.host_name or "?"
    # Never a silent fallback to trusting whatever answers: nothing is sent.
    instead = (
        "Pass --pin-sha256 with the fingerprint checked over a path you trust, or --insecure to accept any "
        "certificate. Nothing was sent to the iDRAC."
    )
    try:
        recorded = recorded_fingerprint(host, target.cli)
    except click.UsageError as error:
        raise _usage(
            f"host {host}: its iDRAC's certificate is trusted on first use (tls verify: first_use), and the "
            f"fingerprint recorded cannot be read: {error.message}. {instead}"
        ) from None
    if recorded is None:
        raise click.ClickException(
            f"host {host}: its iDRAC's certificate is trusted on first use (tls verify: first_use), and no "
            f"fingerprint is recorded: `pulumi stack output {OUTPUT_IDRAC}` has no {host}.tls_sha256 (the first "
            f"`pulumi up` records it). {instead}"
        )
    renewal = renewal_advice("first_use", stack=str(target.stack_file), host=host, alternative="pass --pin-sha256")
    return TlsSettings("first_use", sha256_fingerprint=recorded, renewal=renewal)


# -- running a command, and what it prints ----------------------------------------------------------------------


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _run(target: Target, action: Callable[[RedfishClient, Callable[[str], None]], Any]) -> None:
    from orion_infra.redfish.client import SYSTEM_CLOCK, Credentials, RedfishClient, RetryPolicy  # noqa: PLC0415
    from orion_infra.redfish.errors import (  # noqa: PLC0415
        RedfishCertificateError,
        RedfishError,
        RedfishUnavailableError,
        RedfishUnsupportedError,
    )

    tls = _tls(target)
    password = current_password(target.password_key, target.host_name, target.stack_file)
    retry = RetryPolicy(attempts=target.retry_attempts, deadline_seconds=target.retry_seconds)
    client = RedfishClient(
        target.endpoint,
        Credentials(target.username, password),
        tls,
        retry=retry,
        clock=clock or SYSTEM_CLOCK,
        progress=_progress,
    )
    try:
        with client:
            result = action(client, _progress)
    except (RedfishError, RedfishUnavailableError, RedfishUnsupportedError) as error:
        advice = ""
        if isinstance(error, RedfishCertificateError) and target.insecure_not_inherited:
            pin = f"--pin-sha256 {error.presented_sha256}" if error.presented_sha256 else "--pin-sha256"
            advice = (
                f". The stack's tls: insecure is for its own address, not for an --endpoint override (decision "
                f"0039): pass --insecure, or {pin} once that fingerprint is checked over a path you trust"
            )
        # click's own form, as its usage errors print: one `Error:` for every failure of the command.
        click.echo(f"Error: {error}{advice}", err=True)
        raise SystemExit(1) from None
    click.echo(json.dumps(result, indent=2, sort_keys=True) if target.as_json else human(result))


def _words(key: str) -> str:
    return key.replace("_", " ")


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{_words(key)} {_value(item)}" for key, item in value.items())
    return str(value)


def human(result: Any) -> str:
    """A result as lines an operator reads: `power state: On`; a list of named things one per indented line."""
    if not isinstance(result, dict):
        return _value(result)
    lines: list[str] = []
    for key, value in result.items():
        if isinstance(value, list):
            lines.append(f"{_words(key)}:" if value else f"{_words(key)}: none")
            for item in value:
                if isinstance(item, dict):
                    rest = {name: field for name, field in item.items() if name != "name"}
                    lines.append(f"  {item.get('name', '?')}: {_value(rest)}")
                else:
                    lines.append(f"  {_value(item)}")
        else:
            lines.append(f"{_words(key)}: {_value(value)}")
    return "\n".join(lines)


# -- the commands -------------------------------------------------------------------------------------------------


@click.group(context_settings=HELP_CONTEXT)
@_shared_options
@click.pass_context
def idrac(context: click.Context, /, **given: Any) -> None:
    """Power, media and facts of a host's iDRAC over Redfish. The password comes from ORION_IDRAC_PASSWORD, else the
    stack's outputs; the certificate is trusted as the stack file says (with first_use, the fingerprint `pulumi up`
    recorded), unless --insecure, --ca-bundle or --pin-sha256 says otherwise. Options go before or after the
    subcommand (after wins). Exit codes: 0 done, 1 failed, 2 usage error."""
    context.meta[_GROUP_VALUES] = given


def _command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """A subcommand taking the shared options too; the function gets the resolved Target and its own arguments."""

    def register(action: Callable[..., None]) -> click.Command:
        @functools.wraps(action)
        def command(**arguments: Any) -> None:
            context = click.get_current_context()
            own = {option: arguments.pop(option) for option in SHARED}
            group_values = context.meta.get(_GROUP_VALUES, own)
            action(resolve_target(_given(context, group_values, own)), **arguments)

        return idrac.command(name)(_shared_options(command))

    return register


@_command("status")
def status(target: Target) -> None:
    """Power state, model, service tag, firmware, health, power supplies, temperatures and the virtual CD."""
    from orion_infra.redfish import operations  # noqa: PLC0415

    def read(client: RedfishClient, _: Callable[[str], None]) -> dict[str, Any]:
        with client.snapshot():  # one picture, each resource read once (a GET costs an iDRAC 8 seconds)
            facts = operations.system_facts(client).as_dict()
            facts["virtual_cd"] = operations.media_state(client)
            facts["boot_override"] = operations.boot_override(client)
        return facts

    _run(target, read)


_NO_WAIT = click.option(
    "--no-wait", is_flag=True, help="send the request and return: print the state read first and the reset sent"
)


def _power(target: Target, desired: operations.PowerTarget, *, no_wait: bool) -> None:
    from orion_infra.redfish import operations  # noqa: PLC0415

    if no_wait:
        _run(target, lambda client, _: operations.request_power(client, desired))
    else:
        _run(
            target,
            lambda client, progress: {"power_state": operations.set_power(client, desired, target.waits, progress)},
        )


@_command("power-on")
@_NO_WAIT
def power_on(target: Target, *, no_wait: bool) -> None:
    """Power the host on and wait until it is (--no-wait: only ask)."""
    _power(target, "On", no_wait=no_wait)


@_command("power-off")
@_NO_WAIT
def power_off(target: Target, *, no_wait: bool) -> None:
    """Shut the host down gracefully; force it off if the OS does not stop in time (--no-wait: only ask, gracefully
    where the firmware can)."""
    _power(target, "Off", no_wait=no_wait)


@_command("reboot")
def reboot(target: Target) -> None:
    """Restart the host (start it if it is off)."""
    from orion_infra.redfish import operations  # noqa: PLC0415

    _run(target, lambda client, progress: {"power_state": operations.reboot(client, target.waits, progress)})


@_command("insert-media")
@click.argument("url")
def insert_media(target: Target, url: str) -> None:
    """Insert the image at URL (which the iDRAC itself fetches) in the virtual CD."""
    from orion_infra.redfish import operations  # noqa: PLC0415

    if urlsplit(url).scheme not in SCHEMES or not urlsplit(url).hostname:
        raise _usage(f"URL: expected an http(s):// URL the iDRAC can fetch the image from, got {url!r}")
    _run(target, lambda client, _: operations.insert_media(client, url))


@_command("eject-media")
def eject_media(target: Target) -> None:
    """Eject the virtual CD."""
    from orion_infra.redfish import operations  # noqa: PLC0415

    _run(target, lambda client, _: operations.eject_media(client))
