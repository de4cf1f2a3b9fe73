"""`orion doctor`: the operator's machine and site, checked before `pulumi up`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from orion_infra.cli_common import stack_file_option
from orion_infra.cli_options import HELP_CONTEXT
from orion_infra.doctor.findings import Finding, Verdict
from orion_infra.doctor.run import DEFAULT_TIMEOUT, run_checks

_LABEL = {Verdict.OK: "ok", Verdict.WARN: "WARN", Verdict.FAIL: "FAIL", Verdict.SKIP: "skip"}


@click.command(context_settings=HELP_CONTEXT)
@stack_file_option
@click.option("--json", "as_json", is_flag=True, help="print the findings as JSON")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=60),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="seconds each network check waits",
)
def doctor(stack_file: Path, as_json: bool, timeout: float) -> None:
    """Check this machine and the site before `pulumi up`.

    The tools, the Pulumi login, stack and secrets, SSL_CERT_DIR, bootstrap.serve_dir and its images, serve_url
    serving them, the management network, each iDRAC and Proxmox API. One line per check (ok, WARN, FAIL, skip) with
    what to do; exit 1 if any check fails."""
    findings = run_checks(stack_file, timeout)
    failed = any(finding.verdict is Verdict.FAIL for finding in findings)
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [finding.as_json() for finding in findings]}, indent=2))
    else:
        click.echo(report(findings))
    raise SystemExit(1 if failed else 0)


def report(findings: list[Finding]) -> str:
    width = max(len(finding.name) for finding in findings)
    lines = []
    for finding in findings:
        lines.append(f"{_LABEL[finding.verdict]:<4}  {finding.name:<{width}}  {finding.reason}")
        if finding.action:
            lines.append(f"{'':<4}  {'':<{width}}  -> {finding.action}")
    counts = {verdict: sum(finding.verdict is verdict for finding in findings) for verdict in Verdict}
    lines.append(", ".join(f"{counts[verdict]} {verdict}" for verdict in Verdict))
    return "\n".join(lines)
