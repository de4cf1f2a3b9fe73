from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2_grpc

from orion_infra.redfish.client import Credentials, RedfishClient, RetryPolicy, Timeouts
from orion_infra.redfish.operations import Waits
from orion_infra.redfish.tls import TlsSettings
from tests.redfish.emulator import (
    HttpsIdrac,
    Idrac8Layer,
    RunningService,
    self_signed_certificate,
    serve,
    serve_files,
    sushy_app,
)
from tests.render.checkers import require

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
"""For clients on the system clock (providers in Pulumi's host process, TLS tests); on a FakeClock the default
policy takes no time."""
FAST_WAITS = Waits(graceful_seconds=4.0, force_seconds=20.0, poll_seconds=0.2)


class FakeClock:
    """Time that passes only when slept on. The client's and the operations' waits read it, and so does sushy's
    fake driver, which applies a power change once its clock reaches the moment it set (1-11 s after the request):
    minutes of waiting and backing off take no time, with events in the same order."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def quick_power_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """sushy's fake driver applies a power change 1-11 s later, at random; 1 s keeps the same behaviour faster."""
    from sushy_tools.emulator.resources.systems import fakedriver  # noqa: PLC0415

    monkeypatch.setattr(fakedriver.random, "randint", lambda low, high: 1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A FakeClock for the emulator's power changes, for `connect`'s clients and for `orion idrac` run in-process;
    sushy's 1-11 s delay is kept (it costs nothing on this clock)."""
    from sushy_tools.emulator.resources.systems import fakedriver  # noqa: PLC0415

    from orion_infra import cli_idrac  # noqa: PLC0415

    fake = FakeClock()
    monkeypatch.setattr(fakedriver, "time", fake)
    monkeypatch.setattr(fakedriver.random, "randint", random.randint)
    monkeypatch.setattr(cli_idrac, "clock", fake)
    return fake


@pytest.fixture
def idrac(tmp_path: Path) -> Iterator[RunningService]:
    """An iDRAC 8 as the tests know it: sushy's state behind the iDRAC 8 layer, on loopback."""
    layer = Idrac8Layer(sushy_app(tmp_path / "sushy"))
    server, _ = serve(layer)
    yield RunningService(f"http://127.0.0.1:{server.server_port}", layer, server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def https_idrac_service(tmp_path: Path) -> Iterator[HttpsIdrac]:
    """The emulated iDRAC 8 over TLS with its own self-signed certificate (CN=idrac), as a new iDRAC ships."""
    require("openssl")
    service = HttpsIdrac(Idrac8Layer(sushy_app(tmp_path / "sushy")))
    service.start(*self_signed_certificate(tmp_path, "idrac"))
    yield service
    service.stop()


@pytest.fixture
def plain_redfish(tmp_path: Path) -> Iterator[RunningService]:
    """sushy-emulator as it comes: a generic Redfish service, VirtualMedia under the system, no auth."""
    server, _ = serve(sushy_app(tmp_path / "sushy"))
    yield RunningService(f"http://127.0.0.1:{server.server_port}", None, server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[str]:
    images = tmp_path / "images"
    images.mkdir()
    for name in ("proxmox-ve.iso", "nixos.iso"):
        (images / name).write_bytes(b"\\0" * 4096)
    server = serve_files(images)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def connect(
    service: RunningService,
    clock: FakeClock,
    password: str = "calvin",
    *,
    use_session: bool = False,
    read_timeout: float = 2.0,
) -> RedfishClient:
    """A client of `service` with the default retry policy, on `clock`."""
    return RedfishClient(
        service.url,
        Credentials("root", password),
        TlsSettings(verify="insecure"),
        use_session=use_session,
        timeouts=Timeouts(connect=1.0, read=read_timeout),
        clock=clock,
    )


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


@pytest.fixture
def dynamic_provider_host() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """Pulumi's own dynamic-provider host (`python -m pulumi.dynamic`), as the engine starts it, over gRPC."""
    host = subprocess.Popen([sys.executable, "-m", "pulumi.dynamic"], stdout=subprocess.PIPE, text=True)
    assert host.stdout is not None
    port = int(host.stdout.readline())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        channel.close()
        host.terminate()
        host.wait(timeout=10)
        host.stdout.close()
