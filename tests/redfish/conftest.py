from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orion_infra.redfish.client import Credentials, RedfishClient, RetryPolicy, Timeouts
from orion_infra.redfish.operations import Waits
from orion_infra.redfish.tls import TlsSettings
from tests.redfish.emulator import Idrac8Layer, RunningService, serve, serve_files, sushy_app

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
FAST_WAITS = Waits(graceful_seconds=4.0, force_seconds=20.0, poll_seconds=0.2)


@pytest.fixture(autouse=True)
def quick_power_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """sushy's fake driver applies a power change 1-11 s later, at random; 1 s keeps the same behaviour faster."""
    from sushy_tools.emulator.resources.systems import fakedriver  # noqa: PLC0415

    monkeypatch.setattr(fakedriver.random, "randint", lambda low, high: 1)


@pytest.fixture
def idrac(tmp_path: Path) -> Iterator[RunningService]:
    """An iDRAC 8 as the tests know it: sushy's state behind the iDRAC 8 layer, on loopback."""
    layer = Idrac8Layer(sushy_app(tmp_path / "sushy"))
    server, _ = serve(layer)
    yield RunningService(f"http://127.0.0.1:{server.server_port}", layer, server)
    server.shutdown()
    server.server_close()


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


def connect(service: RunningService, password: str = "calvin", *, use_session: bool = False) -> RedfishClient:
    return RedfishClient(
        service.url,
        Credentials("root", password),
        TlsSettings(verify="insecure"),
        use_session=use_session,
        timeouts=Timeouts(connect=1.0, read=2.0),
        retry=FAST_RETRY,
    )
