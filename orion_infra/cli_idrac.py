"""`orion idrac ...`: the iDRAC from the command line, with the same client and operations as the provider."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from orion_infra.cli_common import DEFAULT_STACK_FILE, StackCli
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.model import StackConfigError, load_stack, read_stack_file
from orion_infra.outputs import OUTPUT_IDRAC
from orion_infra.redfish import operations
from orion_infra.redfish.client import Credentials, RedfishClient
from orion_infra.redfish.errors import RedfishError, RedfishUnavailableError, RedfishUnsupportedError
from orion_infra.redfish.tls import SHA256_FINGERPRINT, TlsSettings, renewal_advice

PASSWORD_VARIABLE = "ORION_IDRAC_PASSWORD"  # noqa: S105 - the variable's name, not a password


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
    cli: StackCli
    """The Pulumi CLI for the stack the stack file belongs to, where passwords and recorded pins come from."""


def _from_stack(stack_file: Path, host_name: str | None) -> tuple[str, str, str, str, TlsSettings | None]:
    try:
        stack, _ = load_stack(read_stack_file(stack_file))
    except StackConfigError as error:
        raise click.UsageError(f"{stack_file} is not valid:\n" + "\n".join(error.problems)) from None
    hosts = {host.name: host for host in stack.hosts}
    host = hosts.get(host_name) if host_name else stack.hosts[0]
    if host is None:
        raise click.UsageError(f"no host {host_name!r} in {stack_file} (hosts: {', '.join(hosts)})")
    policy = host.idrac.tls
    tls = None  # first_use: the recorded pin, looked up when the command runs
    if policy.verify != "first_use":
        renewal = renewal_advice(policy.verify, stack=str(stack_file), host_index=stack.hosts.index(host))
        tls = TlsSettings(policy.verify, policy.ca_bundle, policy.sha256_fingerprint, renewal=renewal)
    return f"https://{host.idrac.address}", host.idrac.user, host.idrac.password.secret, host.name, tls


def current_password(key: str | None, host_name: str | None, cli: StackCli) -> str:
    """The password the iDRAC has now: ORION_IDRAC_PASSWORD, else the one `pulumi up` rotated it to (the stack's
    `credentials` output), else, before any rotation, the stack's secret (its factory password)."""
    if PASSWORD_VARIABLE in os.environ:
        return os.environ[PASSWORD_VARIABLE]
    if host_name:
        credentials = cli.output("credentials", show_secrets=True)
        rotated = credentials.get("idrac_root", {}).get(host_name) if isinstance(credentials, dict) else None
        if isinstance(rotated, str):
            return rotated
    if key is None:
        raise click.UsageError(f"set {PASSWORD_VARIABLE}: no stack secret names this iDRAC's password")
    return cli.config_secret(key)


def recorded_fingerprint(host_name: str, cli: StackCli) -> str | None:
    """The certificate fingerprint `pulumi up` recorded on first contact with the host's iDRAC (verify: first_use):
    the stack's `idrac.<host>.tls_sha256` output, read with the Pulumi CLI; None if there is none."""
    idracs = cli.output(OUTPUT_IDRAC)
    recorded = idracs.get(host_name, {}).get("tls_sha256") if isinstance(idracs, dict) else None
    return recorded if isinstance(recorded, str) and SHA256_FINGERPRINT.fullmatch(recorded) else None


def _tls(target: Target) -> TlsSettings:
    if target.tls is not None:
        return target.tls
    host = target.host_name or "?"
    # Never a silent fallback to trusting whatever answers: nothing is sent.
    instead = (
        "Pass --pin-sha256 with the fingerprint checked over a path you trust, or --insecure to accept any "
        "certificate. Nothing was sent to the iDRAC."
    )
    try:
        recorded = recorded_fingerprint(host, target.cli)
    except click.UsageError as error:
        raise click.UsageError(
            f"host {host}: its iDRAC's certificate is trusted on first use (tls verify: first_use), and the "
            f"fingerprint recorded cannot be read: {error.message}. {instead}"
        ) from None
    if recorded is None:
        raise click.ClickException(
            f"host {host}: its iDRAC's certificate is trusted on first use (tls verify: first_use), and no "
            f"fingerprint is recorded: `pulumi stack output {OUTPUT_IDRAC}` has no {host}.tls_sha256 (the first "
            f"`pulumi up` records it). {instead}"
        )
    renewal = renewal_advice("first_use", stack=str(target.cli.stack_file), host=host, alternative="pass --pin-sha256")
    return TlsSettings("first_use", sha256_fingerprint=recorded, renewal=renewal)


def _run(target: Target, action: Callable[[RedfishClient, operations.Progress], Any]) -> None:
    tls = _tls(target)
    credentials = Credentials(target.username, current_password(target.password_key, target.host_name, target.cli))

    def progress(line: str) -> None:
        click.echo(line, err=True)

    try:
        with RedfishClient(target.endpoint, credentials, tls) as client:
            result = action(client, progress)
    except (RedfishError, RedfishUnavailableError, RedfishUnsupportedError) as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(1) from None
    if target.as_json:
        click.echo(json.dumps(result, indent=2, sort_keys=True))
    elif isinstance(result, dict):
        for key, value in result.items():
            click.echo(f"{key}: {value}")
    else:
        click.echo(str(result))


@click.group(context_settings=HELP_CONTEXT)
@click.option(
    "--stack-file", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_STACK_FILE, show_default=True
)
@click.option("--host", "host_name", help="which host of the stack (default: the first)")
@click.option("--endpoint", help="the iDRAC's URL, instead of the stack file's")
@click.option("--username", help="the iDRAC user, instead of the stack file's")
@click.option("--insecure", is_flag=True, help="accept any certificate (a warning is printed)")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="trust this PEM bundle")
@click.option("--pin-sha256", help="trust only the certificate with this SHA-256 fingerprint")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option(
    "--poll-interval", type=float, default=5.0, show_default=True, help="seconds between state reads while waiting"
)
@click.pass_context
def idrac(
    context: click.Context,
    *,
    stack_file: Path,
    host_name: str | None,
    endpoint: str | None,
    username: str | None,
    insecure: bool,
    ca_bundle: str | None,
    pin_sha256: str | None,
    as_json: bool,
    poll_interval: float,
) -> None:
    """Power, media and facts of a host's iDRAC over Redfish. The password comes from ORION_IDRAC_PASSWORD, else the
    stack's outputs; the certificate is trusted as the stack file says (with first_use, the fingerprint `pulumi up`
    recorded), unless --insecure, --ca-bundle or --pin-sha256 says otherwise."""
    password_key: str | None = None
    stack_host: str | None = None
    tls: TlsSettings | None = TlsSettings()
    if not (endpoint and username):
        if not stack_file.exists():
            raise click.UsageError(f"give --endpoint and --username, or a stack file ({stack_file} does not exist)")
        stack_endpoint, stack_user, password_key, stack_host, tls = _from_stack(stack_file, host_name)
        endpoint, username = endpoint or stack_endpoint, username or stack_user
    if sum(bool(flag) for flag in (insecure, ca_bundle, pin_sha256)) > 1:
        raise click.UsageError("choose one of --insecure, --ca-bundle and --pin-sha256")
    if insecure:
        tls = TlsSettings("insecure")
    elif ca_bundle:
        tls = TlsSettings("ca_bundle", ca_bundle=ca_bundle)
    elif pin_sha256:
        tls = TlsSettings("fingerprint", sha256_fingerprint=pin_sha256)
    waits = operations.Waits(poll_seconds=poll_interval)
    context.obj = Target(endpoint, username, password_key, stack_host, tls, as_json, waits, StackCli(stack_file))


@idrac.command()
@click.pass_obj
def status(target: Target) -> None:
    """Power state, model, service tag, firmware, health, power supplies, temperatures and the virtual CD."""

    def read(client: RedfishClient, _: operations.Progress) -> dict[str, Any]:
        facts = operations.system_facts(client).as_dict()
        facts["virtual_cd"] = operations.media_state(client)
        facts["boot_override"] = operations.boot_override(client)
        return facts

    _run(target, read)


@idrac.command("power-on")
@click.pass_obj
def power_on(target: Target) -> None:
    """Power the host on and wait until it is."""
    _run(target, lambda client, progress: {"power_state": operations.set_power(client, "On", target.waits, progress)})


@idrac.command("power-off")
@click.pass_obj
def power_off(target: Target) -> None:
    """Shut the host down gracefully; force it off if the OS does not stop in time."""
    _run(target, lambda client, progress: {"power_state": operations.set_power(client, "Off", target.waits, progress)})


@idrac.command()
@click.pass_obj
def reboot(target: Target) -> None:
    """Restart the host (start it if it is off)."""
    _run(target, lambda client, progress: {"power_state": operations.reboot(client, target.waits, progress)})


@idrac.command("insert-media")
@click.argument("url")
@click.pass_obj
def insert_media(target: Target, url: str) -> None:
    """Insert the image at URL (which the iDRAC itself fetches) in the virtual CD."""
    _run(target, lambda client, _: operations.insert_media(client, url))


@idrac.command("eject-media")
@click.pass_obj
def eject_media(target: Target) -> None:
    """Eject the virtual CD."""
    _run(target, lambda client, _: operations.eject_media(client))
