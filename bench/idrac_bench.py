"""Requests and wall time of `power-on` and `insert-media` against the emulated iDRAC 8 with 1 s of latency per
request (iDRAC 8 answers a GET in seconds). Run: uv run python -m bench.idrac_bench"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from orion_infra.redfish import operations
from orion_infra.redfish.client import Credentials, RedfishClient, RetryPolicy, Timeouts
from orion_infra.redfish.tls import TlsSettings
from tests.redfish.emulator import Idrac8Layer, serve, serve_files, sushy_app

LATENCY_SECONDS = 1.0
WAITS = operations.Waits(graceful_seconds=60.0, force_seconds=60.0, poll_seconds=1.0)


def measure(name: str, layer: Idrac8Layer, url: str, action: Callable[[RedfishClient], object]) -> dict[str, object]:
    client = RedfishClient(
        url,
        Credentials("root", "calvin"),
        TlsSettings("insecure"),
        timeouts=Timeouts(5, 30),
        retry=RetryPolicy(3, 0.5, 2),
    )
    before = layer.requests
    started = time.perf_counter()
    with client:
        action(client)
    return {"operation": name, "requests": layer.requests - before, "seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        images = root / "images"
        images.mkdir()
        (images / "proxmox-ve.iso").write_bytes(b"\0" * 4096)
        files = serve_files(images)
        layer = Idrac8Layer(sushy_app(root / "sushy"), latency=LATENCY_SECONDS)
        server, _ = serve(layer)
        url = f"http://127.0.0.1:{server.server_port}"
        image = f"http://127.0.0.1:{files.server_port}/proxmox-ve.iso"
        # sushy applies a power change 1-11 s after the request, at random; fix it at 1 s so runs compare.
        with mock.patch("sushy_tools.emulator.resources.systems.fakedriver.random.randint", return_value=1):
            results = [
                measure("power-on (from off)", layer, url, lambda c: operations.set_power(c, "On", WAITS)),
                measure("power-on (already on)", layer, url, lambda c: operations.set_power(c, "On", WAITS)),
                measure("insert-media", layer, url, lambda c: operations.insert_media(c, image)),
                measure("insert-media (same image)", layer, url, lambda c: operations.insert_media(c, image)),
            ]
        server.shutdown()
        server.server_close()
        files.shutdown()
        files.server_close()
    print(json.dumps({"latency_seconds_per_request": LATENCY_SECONDS, "results": results}, indent=2))


if __name__ == "__main__":
    main()
