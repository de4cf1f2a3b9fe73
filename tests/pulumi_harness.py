"""Runs a Pulumi program under `pulumi.runtime.set_mocks` and records everything it registers.

Each run happens in a copy of the current context: Pulumi keeps its settings, config and root resource in
context variables, so runs cannot see each other's state.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks, rpc
from pulumi.runtime.sync_await import _sync_await

from orion_infra import program
from orion_infra.trust import TRUST_DIR

PROJECT = "orion"
STACK = "orion"


@dataclass(frozen=True)
class Registration:
    """One RegisterResource call, as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str
    dependencies: list[str]
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    custom: bool
    protect: bool
    additional_secret_outputs: list[str]
    import_id: str
    provider: str
    """The provider reference (`urn::id`) the resource is registered with; empty for the default provider."""
    replace_with: list[str]
    """The URNs whose replacement replaces this resource too."""


@dataclass
class ProgramRun:
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    log: list[tuple[str, str]] = field(default_factory=list)
    error: BaseException | None = None
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What the mocks returned as each resource's state, by name (generated values among them)."""

    def of_type(self, type_token: str) -> list[Registration]:
        return [registration for registration in self.registrations if registration.type == type_token]

    def by_name(self, name: str) -> Registration:
        matches = [registration for registration in self.registrations if registration.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]


MOCK_FINGERPRINT = ":".join(["AB"] * 32)
"""The certificate fingerprint a TlsIdentity records under the mocks."""


class _EchoMocks(pulumi.runtime.Mocks):
    """Resources come back with their inputs as state and a predictable id."""

    def __init__(self, states: dict[str, dict[str, Any]] | None = None) -> None:
        self.states = states if states is not None else {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id, state = self._state(args)
        self.states[args.name] = state
        return resource_id, state

    def _state(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = f"generated-for-{args.name}"
            state["bcrypt_hash"] = f"$2b$10$hash-of-{args.name}"
        if args.typ == "random:index/randomBytes:RandomBytes":
            seed = hashlib.sha256(args.name.encode()).digest()[: int(args.inputs["length"])]
            state["base64"] = base64.b64encode(seed).decode()
            state["hex"] = seed.hex()
        if args.typ == "random:index/randomId:RandomId":
            # New whenever its keepers change, as the provider replaces it then.
            keepers = json.dumps(args.inputs.get("keepers"), sort_keys=True, default=str)
            state["hex"] = hashlib.sha256(f"{args.name}{keepers}".encode()).hexdigest()[
                : 2 * int(args.inputs["byteLength"])
            ]
        if args.typ == "pulumi-python:dynamic/idrac:TlsIdentity":
            # What its create() records from the handshake: the certificate's SHA-256, as openssl prints it.
            state["sha256_fingerprint"] = MOCK_FINGERPRINT
            state["subject"] = "CN=idrac-CQ5QBM2"
        if args.typ.startswith("command:"):
            state["stdout"] = f"stdout-of-{args.name}"
        if args.typ == "command:remote:Command" and args.name.endswith("-api-token"):
            # What `pveum user token add --output-format json` prints.
            state["stdout"] = json.dumps({"full-tokenid": "orion@pve!deploy", "value": f"secret-of-{args.name}"})
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def _is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, run: ProgramRun) -> None:
        super().__init__(_EchoMocks(run.states))
        self.run = run

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            wire = rpc.deserialize_properties(request.object, keep_internal=True)
            secret_inputs = frozenset(key for key, value in wire.items() if _is_secret(value))
            inputs, _ = rpc.deserialize_properties_unwrap_secrets(request.object)
            self.run.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    inputs=inputs,
                    secret_inputs=secret_inputs,
                    custom=request.custom,
                    protect=request.protect,
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    import_id=request.importId,
                    provider=request.provider,
                    replace_with=list(request.replace_with),
                )
            )
        return response


class _LogRecorder(logging.Handler):
    def __init__(self, run: ProgramRun) -> None:
        super().__init__()
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.log.append((record.levelname, record.getMessage()))


PulumiUp = Callable[[Mapping[str, object], Mapping[str, str]], ProgramRun]
"""The `pulumi_up` fixture: plain config and secret config in, the recorded run out."""


def run_program(program: Callable[[], None], config: dict[str, object], secret_keys: set[str]) -> ProgramRun:
    """Runs `program` with `config` (keys without the project prefix) as `pulumi up` would, under mocks."""
    run = ProgramRun()
    logger = logging.getLogger(f"pulumi-mocks-{id(run)}")
    logger.propagate = False
    logger.addHandler(_LogRecorder(run))
    logger.setLevel(logging.DEBUG)
    wire_config = {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in config.items()
    }

    def in_fresh_context() -> None:
        pulumi.runtime.set_mocks(
            _EchoMocks(), project=PROJECT, stack=STACK, preview=False, logger=logger, monitor=RecordingMonitor(run)
        )
        pulumi.runtime.set_all_config(wire_config, [f"{PROJECT}:{key}" for key in secret_keys])
        try:
            pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
        except Exception as error:  # noqa: BLE001 - the test inspects whatever the program raised
            run.error = error
            return
        root = pulumi.runtime.get_root_resource()
        assert root is not None
        for name, value in root.outputs.items():  # type: ignore[attr-defined]
            output = pulumi.Output.from_input(value)
            run.outputs[name] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                run.secret_outputs.add(name)

    contextvars.copy_context().run(in_fresh_context)
    return run


def name_trust_anchors(monkeypatch: pytest.MonkeyPatch) -> None:
    """SSL_CERT_DIR naming the Proxmox trust anchors' directory, as the README tells operators to."""
    monkeypatch.setenv("SSL_CERT_DIR", str(Path.cwd() / TRUST_DIR))


def up_under_mocks(values: Mapping[str, object], secrets: Mapping[str, str]) -> ProgramRun:
    """ORION's program run as `pulumi up` would, on plain config `values` (keys without `orion:`) and `secrets`."""
    return run_program(program.main, {**values, **secrets}, set(secrets))
