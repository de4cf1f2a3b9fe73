"""`orion verify`: after `pulumi up`, the seed's verification step as one command (ADR 0042)."""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from pathlib import Path

import click

from orion_infra.cli_common import StackCli, load_or_exit, stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.outputs import OUTPUT_CREDENTIALS, OUTPUT_TRUST
from orion_infra.verify.checks import (
    CHECKS,
    ApiToken,
    Credential,
    CredentialSource,
    Result,
    RootPassword,
    Ssh,
    Verifier,
    run,
)
from orion_infra.verify.site import SiteError, site
from orion_infra.verify.verdicts import Status

TOKEN_VARIABLE = "ORION_PROXMOX_TOKEN"  # noqa: S105 - where the token is, not the token
# USER@REALM!TOKENID=SECRET, as Proxmox's PVEAPIToken header takes it.
TOKEN_SHAPE = re.compile(r"[^@!=\s]+@[^@!=\s]+![^@!=\s]+=\S+")


def _skips(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    skips: dict[str, str] = {}
    for value in values:
        name, _, why = value.partition("=")
        if name not in CHECKS:
            raise click.BadParameter(f"{name!r} is not a check (checks: {', '.join(CHECKS)})")
        skips[name] = f"skipped: {why}" if why else f"skipped on request (--skip {name})"
    return skips


def _token(value: str | None) -> str | None:
    if value is not None and not TOKEN_SHAPE.fullmatch(value):
        # The value is a secret: never printed, not even in part.
        raise click.UsageError(f"{TOKEN_VARIABLE}: expected USER@REALM!TOKENID=SECRET (the value is not shown)")
    return value


def credential_source(token: str | None, stack: StackCli | None) -> CredentialSource:
    """The API token from the environment; else root@pam's password from the stack's secret `credentials` output
    (read once, through the Pulumi CLI, only when a check needs it)."""
    lock = threading.Lock()
    read: list[tuple[object, str]] = []

    def for_node(node: str) -> tuple[Credential | None, str]:
        if token is not None:
            return ApiToken(token), ""
        if stack is None:
            return None, f"{TOKEN_VARIABLE} is not set (and --outputs gives no secret)"
        with lock:
            if not read:
                try:
                    read.append((stack.output(OUTPUT_CREDENTIALS, show_secrets=True), ""))
                except click.UsageError as error:
                    read.append((None, error.message))
        credentials, why = read[0]
        roots = credentials.get("proxmox_root") if isinstance(credentials, dict) else None
        password = roots.get(node) if isinstance(roots, dict) else None
        if isinstance(password, str) and password:
            return RootPassword(password), ""
        return None, why or f"{TOKEN_VARIABLE} is not set and the stack holds no root password for {node}"

    return for_node


def _recorded_trust(stack_file: Path, outputs: Path | None) -> object:
    if outputs is None:
        recorded = StackCli(stack_file).output(OUTPUT_TRUST)
        if recorded is None:
            raise click.ClickException(f"the stack has no `{OUTPUT_TRUST}` output yet: run `pulumi up` first")
        return recorded
    try:
        document = json.loads(outputs.read_text())
    except (OSError, ValueError) as error:
        raise click.BadParameter(f"{outputs}: expected the JSON of `pulumi stack output --json` ({error})") from None
    if not isinstance(document, dict) or OUTPUT_TRUST not in document:
        raise click.BadParameter(f"{outputs}: expected an object with the stack's `{OUTPUT_TRUST}` output")
    return document[OUTPUT_TRUST]


@click.command(name="verify", context_settings=HELP_CONTEXT)
@stack_file_option
@click.option(
    "--outputs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the stack's outputs as `pulumi stack output --json` prints them, instead of asking the Pulumi CLI",
)
@click.option(
    "--identity",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the SSH key to log in with as the admin user (default: ssh's own, e.g. from ssh-agent)",
)
@click.option(
    "--skip",
    multiple=True,
    callback=_skips,
    metavar="CHECK[=WHY]",
    help=f"report CHECK as skipped, with the reason WHY (checks: {', '.join(CHECKS)})",
)
@click.option(
    "--skip-target",
    multiple=True,
    metavar="JOB/HOST",
    help="leave a scrape target out of prometheus-targets (e.g. unbound/orion-router)",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 300),
    default=10.0,
    show_default=True,
    help="seconds each check may take (they run at once)",
)
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
def verify(  # noqa: PLR0917 - click passes each option
    stack_file: Path,
    outputs: Path | None,
    identity: Path | None,
    skip: dict[str, str],
    skip_target: tuple[str, ...],
    timeout: float,
    as_json: bool,
) -> None:
    """Check the deployed site after `pulumi up`, as the seed's verification step does.

    From this machine: the Proxmox API and the VMs' states, the router over SSH (its host key pinned to the
    deploy's), its BGP sessions and its DNS, the monitoring VM's Prometheus targets, Alertmanager and agent, Grafana,
    and the LAN reaching the internet.

    Proxmox's API credential: ORION_PROXMOX_TOKEN (USER@REALM!TOKENID=SECRET), else root's password from the stack's
    `credentials` output. Exit 0 when every check passed (or was skipped), 1 when one failed, 2 on a usage error."""
    token = _token(os.environ.get(TOKEN_VARIABLE))
    stack, _ = load_or_exit(stack_file)
    trust = _recorded_trust(stack_file, outputs)
    try:
        where = site(stack, trust, stack_file.resolve().parent)
    except SiteError as error:
        raise click.BadParameter(str(error), param_hint="--outputs" if outputs else "the stack's outputs") from None
    unknown = [target for target in skip_target if target not in where.targets]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}: not a scrape target of the stack (targets: {', '.join(where.targets)})",
            param_hint="--skip-target",
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="orion-verify-") as scratch:
        known_hosts = Path(scratch) / "known_hosts"
        known_hosts.write_text(where.known_hosts)
        verifier = Verifier(
            where,
            Ssh(where.admin_user, known_hosts, identity),
            credential_source(token, None if outputs else StackCli(stack_file)),
            skip_target,
        )
        results = run(verifier, CHECKS, skip, timeout)
    _report(results, time.monotonic() - started, as_json)
    if any(result.status == Status.FAIL for result in results):
        raise SystemExit(1)


def _report(results: list[Result], seconds: float, as_json: bool) -> None:
    if as_json:
        document = {
            "passed": not any(result.status == Status.FAIL for result in results),
            "seconds": round(seconds, 2),
            "checks": [
                {
                    "name": result.name,
                    "status": result.status.value,
                    "reason": result.reason,
                    "advice": result.advice,
                    "seconds": result.seconds,
                }
                for result in results
            ],
        }
        click.echo(json.dumps(document, indent=2))
        return
    width = max(len(result.name) for result in results)
    for result in results:
        click.echo(f"{result.status.value}  {result.name:<{width}}  {result.reason}")
        if result.status != Status.PASS and result.advice:
            click.echo(f"{'':<{width + 6}}  -> {result.advice}")
    counts = {status: sum(result.status == status for result in results) for status in Status}
    click.echo(
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped in {seconds:.1f} s"
    )
