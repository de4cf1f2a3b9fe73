"""A strict stand-in for the Pulumi CLI, for the `orion` commands that read a stack through it (StackCli).

It answers exactly the calls StackCli makes for one stack file, and fails loudly on anything else, so that a wrong
output name, a dropped `--json` or `--show-secrets`, or another directory or stack shows as a failure:

    pulumi stack output NAME --json [--show-secrets] --cwd <the stack file's directory> --stack <stack>
    pulumi config get KEY --cwd <the stack file's directory> --stack <stack>
    pulumi stack --show-name --cwd <the stack file's directory> --stack <stack>     (orion doctor)
    pulumi whoami --json --cwd <the stack file's directory>                          (orion doctor)

What it says for a missing output or key, and its exit status, are the real CLI's (checked with .engine/bin/pulumi
3.x): exit 1 and `error: current stack does not have output property 'NAME'` / `error: configuration key 'KEY' not
found for stack 'STACK'`. A secret output read without --show-secrets is `"[secret]"`, as the real CLI prints it.
Logged out, `whoami` exits 3 with "error: this command requires logging in; try running `pulumi login` first" and
every other call exits 3 with `error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI
sessions`; without the stack, a call on it exits 6 with `error: no stack named 'STACK' found` (all
checked with .engine/bin/pulumi 3.274.1, stdin not a terminal).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

UNEXPECTED_EXIT = 64
"""The fake's exit status for a call the real `orion` code does not make (neither 0 nor the CLI's 1)."""

_SCRIPT = """
import json, sys

spec = json.loads({spec!r})
args = sys.argv[1:]
with open(spec["calls"], "a") as log:
    log.write(json.dumps(args) + "\\n")


def fail(message, status=1):
    print(message, file=sys.stderr)
    sys.exit(status)


where = ["--cwd", spec["cwd"]] + (["--stack", spec["stack"]] if spec["stack"] else [])
if spec["error"] is not None:
    fail(spec["error"])
if args == ["whoami", "--json", "--cwd", spec["cwd"]]:
    if spec["user"] is None:
        fail("error: this command requires logging in; try running `pulumi login` first", 3)
    print(json.dumps({{"user": spec["user"], "url": spec["backend"]}}, indent=2))
    sys.exit(0)
if spec["user"] is None:
    fail("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions", 3)
if not spec["stack_exists"] and args[-len(where):] == where:
    fail(f"error: no stack named {{spec['stack']!r}} found", 6)
if args == ["stack", "--show-name", *where]:
    print(spec["stack"])
elif len(args) >= 3 and args[:2] == ["stack", "output"] and args[3:] in (
    ["--json", *where],
    ["--json", "--show-secrets", *where],
):
    name = args[2]
    if name not in spec["outputs"]:
        fail(f"error: current stack does not have output property {{name!r}}")
    secret = name in spec["secret"] and "--show-secrets" not in args
    print(json.dumps("[secret]" if secret else spec["outputs"][name], indent=2))
elif len(args) >= 3 and args[:2] == ["config", "get"] and args[3:] == where:
    key = args[2]
    if key not in spec["config"]:
        fail(f"error: configuration key {{key!r}} not found for stack {{spec['stack']!r}}")
    print(spec["config"][key])
else:
    fail("fake pulumi: unexpected call: pulumi " + " ".join(args), {unexpected})
"""


@dataclass(frozen=True)
class FakePulumi:
    bin_dir: Path
    """The directory holding `pulumi`, to put on PATH."""

    @property
    def path(self) -> str:
        return str(self.bin_dir)

    def calls(self) -> list[list[str]]:
        """The arguments of every call made so far, in order."""
        log = self.bin_dir / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def fake_pulumi(
    directory: Path,
    stack_file: Path,
    *,
    outputs: Mapping[str, object] | None = None,
    secret_outputs: Collection[str] = (),
    config: Mapping[str, str] | None = None,
    error: str | None = None,
    user: str | None = "operator",
    stack_exists: bool = True,
) -> FakePulumi:
    """A `pulumi` in `directory`/bin for the stack of `stack_file`: its `outputs` (those named in `secret_outputs`
    are secret) and its config values `config` (key without the project prefix, as `pulumi config get` takes it).
    With `error`, every call fails with exit 1 and that message, as the real CLI does without its passphrase.
    `user` is who `pulumi whoami` says is logged in (None: logged out); `stack_exists` False is a backend without
    the stack (`pulumi stack init` not run yet)."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    name = stack_file.name
    spec = {
        "cwd": str(stack_file.resolve().parent),
        "stack": name[len("Pulumi.") : -len(".yaml")] if name.startswith("Pulumi.") else None,
        "outputs": dict(outputs or {}),
        "secret": sorted(secret_outputs),
        "config": dict(config or {}),
        "error": error,
        "user": user,
        "backend": f"file://{directory / 'backend'}",
        "stack_exists": stack_exists,
        "calls": str(bin_dir / "calls.jsonl"),
    }
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\n" + _SCRIPT.format(spec=json.dumps(spec), unexpected=UNEXPECTED_EXIT))
    script.chmod(0o755)
    return FakePulumi(bin_dir)
