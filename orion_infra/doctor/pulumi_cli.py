"""The Pulumi side: logged in, the stack exists, every secret the stack file references is set, the passphrase at
hand, and SSL_CERT_DIR naming the Proxmox trust anchors where the stack verifies nodes by their own CA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from orion_infra.cli_common import cli_reason
from orion_infra.doctor.findings import Finding, fail, ok, skip, warn
from orion_infra.model import OrionStack, RawConfig, StackConfigError, load_stack
from orion_infra.trust import TRUST_DIR

PULUMI_SECONDS = 20.0
"""A Pulumi Cloud backend answers `whoami` over the internet; a hung one must not hold the doctor."""
# The real CLI's words (3.274) when no backend is logged in, interactive or not.
NOT_LOGGED_IN = ("requires logging in", "PULUMI_ACCESS_TOKEN must be set")
NO_SUCH_STACK = "no stack named"
PASSPHRASE_VARIABLES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")


def stack_name(stack_file: Path) -> str | None:
    """The stack a `Pulumi.<stack>.yaml` file belongs to, as StackCli takes it."""
    name = stack_file.name
    return name[len("Pulumi.") : -len(".yaml")] if name.startswith("Pulumi.") and name.endswith(".yaml") else None


def _pulumi(
    stack_file: Path, *arguments: str, stack: str | None = None
) -> subprocess.CompletedProcess[str] | str | None:
    """`pulumi ARGUMENTS --cwd <the stack file's directory> [--stack STACK]` (StackCli's order), or why it could
    not run; None when the CLI is not on PATH."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    try:
        return subprocess.run(
            [pulumi, *arguments, "--cwd", str(stack_file.resolve().parent), *(["--stack", stack] if stack else [])],
            capture_output=True,
            text=True,
            timeout=PULUMI_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`pulumi {' '.join(arguments)}` did not finish in {PULUMI_SECONDS:.0f} s"
    except OSError as error:
        return f"{pulumi} could not run: {error.strerror}"


def pulumi_findings(stack_file: Path) -> list[Finding]:
    """`pulumi whoami`, then, once logged in, the stack."""
    login = "pulumi login"
    done = _pulumi(stack_file, "whoami", "--json")
    if done is None:
        # `tool pulumi` fails for it already; one failure per cause.
        return [skip(login, "needs the Pulumi CLI (see tool pulumi)"), skip("pulumi stack", "needs the Pulumi CLI")]
    if isinstance(done, str):
        return [fail(login, done, "check that `pulumi whoami` answers"), skip("pulumi stack", "needs a Pulumi login")]
    if done.returncode != 0:
        reason = cli_reason(done)
        action = (
            "`pulumi login` (a backend URL, or Pulumi Cloud with PULUMI_ACCESS_TOKEN set)"
            if any(words in reason for words in NOT_LOGGED_IN)
            else "fix the backend `pulumi whoami` names, then `pulumi login` again"
        )
        return [fail(login, reason, action), skip("pulumi stack", "needs a Pulumi login")]
    try:
        who = json.loads(done.stdout)
        identity = f"logged in as {who['user']} at {who['url']}"
    except (ValueError, KeyError, TypeError):
        identity = "logged in"
    return [ok(login, identity), _stack_finding(stack_file)]


def _stack_finding(stack_file: Path) -> Finding:
    name = "pulumi stack"
    stack = stack_name(stack_file)
    if stack is None:
        return skip(name, f"{stack_file.name} is not named Pulumi.<stack>.yaml; the selected stack is used")
    done = _pulumi(stack_file, "stack", "--show-name", stack=stack)
    if done is None or isinstance(done, str):
        return fail(name, done or "the Pulumi CLI went away", "run the doctor again")
    if done.returncode != 0:
        reason = cli_reason(done)
        action = f"`pulumi stack init {stack}` in {stack_file.resolve().parent}" if NO_SUCH_STACK in reason else ""
        return fail(name, reason, action or "see the Pulumi CLI's message")
    return ok(name, f"stack {done.stdout.strip() or stack} exists")


def secrets_finding(raw: RawConfig) -> Finding:
    """Every `{secret: key}` the stack file references is set: `orion validate --require-secrets`'s rule."""
    name = "secrets"
    try:
        load_stack(raw, require_secrets=True)
    except StackConfigError as error:
        unset = [line for line in error.problems if " is not set;" in line]
        first = (unset or error.problems)[0]
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        return fail(
            name,
            f"{first}{more}",
            "`pulumi config set --secret KEY` for each; `orion validate --require-secrets` lists them",
        )
    referenced = len(raw.secret_keys)
    return ok(name, f"every referenced secret is set ({referenced} secret key(s) in the stack file)")


def passphrase_finding(stack_file: Path) -> Finding:
    """A stack on the passphrase secrets provider (an `encryptionsalt` in its file) asks for the passphrase."""
    name = "pulumi passphrase"
    try:
        document = yaml.safe_load(stack_file.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return skip(name, f"{stack_file} could not be read")
    if not isinstance(document, dict) or "encryptionsalt" not in document:
        return skip(name, "the stack does not use the passphrase secrets provider")
    given = [variable for variable in PASSPHRASE_VARIABLES if variable in os.environ]
    if given:
        return ok(name, f"{given[0]} is set")
    return warn(
        name,
        "the stack's secrets are encrypted with a passphrase and neither PULUMI_CONFIG_PASSPHRASE nor "
        "PULUMI_CONFIG_PASSPHRASE_FILE is set",
        "`pulumi up` will ask for it on a terminal; set one of them for a run without one (CI)",
    )


def trust_dir_finding(stack: OrionStack, stack_file: Path) -> Finding:
    """SSL_CERT_DIR names .orion/trust beside the stack file when a node is verified by its own CA (ADR 0031)."""
    name = "SSL_CERT_DIR"
    nodes = [host.proxmox.node for host in stack.hosts if host.proxmox.tls.verify == "node_ca"]
    if not nodes:
        return skip(name, "no node is verified with tls.verify: node_ca")
    expected = stack_file.resolve().parent / TRUST_DIR
    export = f"export SSL_CERT_DIR={expected}"
    given = os.environ.get("SSL_CERT_DIR", "")
    if not given:
        return fail(
            name, f"not set; the Proxmox provider verifies {', '.join(nodes)} by the anchors in {expected}", export
        )
    if any(Path(entry).resolve() == expected for entry in given.split(os.pathsep) if entry):
        return ok(name, f"names {expected}")
    return fail(name, f"is {given}, not {expected} where the deploy keeps the nodes' anchors", export)
