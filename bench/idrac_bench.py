"""What `orion idrac` costs against the emulated iDRAC 8 (sushy-emulator with the tests' iDRAC 8 layer, on loopback).

1. Whole processes: `orion idrac power-on` against DMTF's `redfishtool ... Systems reset On`, from power off each
   time, median wall time of N runs and the requests each sent (the layer records every request). sushy applies a
   power change at once here, so the comparison is of the tools, not of the server.
2. In-process operations with 1 s of latency per request (iDRAC 8 answers a GET in seconds): requests and wall time.

Run: uv run python -m bench.idrac_bench [--runs N] [--skip-latency] [--only TEXT ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import requests

from orion_infra.redfish import operations
from orion_infra.redfish.client import Credentials, RedfishClient, RetryPolicy, Timeouts
from orion_infra.redfish.tls import TlsSettings
from tests.redfish.emulator import Idrac8Layer, serve, serve_files, sushy_app

LATENCY_SECONDS = 1.0
WAITS = operations.Waits(graceful_seconds=60.0, force_seconds=60.0, poll_seconds=1.0)
BIN = Path(sys.executable).parent
# `orion idrac` as the CLI's lazy group runs it: only orion_infra.cli_idrac is imported for `orion idrac ...`. The
# console script of a tree whose orion_infra/cli.py imports every command eagerly is measured too.
ORION_IDRAC = [sys.executable, "-c", "from orion_infra.cli_idrac import idrac; idrac(prog_name='orion idrac')"]


# -- 1. whole processes -------------------------------------------------------------------------------------------


def force_off(layer: Idrac8Layer, url: str) -> None:
    """Back to power off between runs, outside the counted requests."""
    with requests.Session() as http:
        http.auth = ("root", "calvin")
        system = f"{url}{layer.system}"
        if http.get(system, timeout=5).json()["PowerState"] != "Off":
            http.post(f"{system}/Actions/ComputerSystem.Reset", json={"ResetType": "ForceOff"}, timeout=5)
        if http.get(system, timeout=5).json()["PowerState"] != "Off":
            raise RuntimeError("the emulated server did not power off")


def run_process(layer: Idrac8Layer, url: str, command: list[str], env: dict[str, str]) -> tuple[float, list[str]]:
    """Wall time of one run and the requests it sent, as `METHOD path`."""
    force_off(layer, url)
    before = len(layer.seen)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    sent = [f"{seen.method} {seen.path}" for seen in layer.seen[before:]]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... exited {done.returncode}: {done.stderr.strip()[-500:]}")
    power = requests.get(f"{url}{layer.system}", auth=("root", "calvin"), timeout=5).json()["PowerState"]
    if power != "On":
        raise RuntimeError(f"{command[0]} left the server {power}")
    return elapsed, sent


def compare_processes(runs: int, scratch: Path, only: list[str]) -> list[dict[str, object]]:
    layer = Idrac8Layer(sushy_app(scratch / "sushy-processes"))
    server, _ = serve(layer)
    url = f"http://127.0.0.1:{server.server_port}"
    # redfishtool reads credentials from a file with -c, so the password is in no process's argv.
    credentials = scratch / "redfishtool.json"
    credentials.write_text(json.dumps({"user": "root", "password": "calvin"}))
    env = {**os.environ, "ORION_IDRAC_PASSWORD": "calvin"}
    target = ["--endpoint", url, "--username", "root", "--insecure"]  # the emulator speaks plain HTTP
    commands = {
        "redfishtool Systems reset On": [
            str(BIN / "redfishtool"),
            *["-r", f"127.0.0.1:{server.server_port}", "-S", "Never", "-c", str(credentials)],
            *["Systems", "reset", "On"],
        ],
        "orion idrac power-on --no-wait": [*ORION_IDRAC, *target, "power-on", "--no-wait"],
        "orion idrac power-on (waits until On)": [*ORION_IDRAC, *target, "power-on"],
        "orion idrac power-on (waits; this tree's orion console script)": [
            str(BIN / "orion"),
            "idrac",
            *target,
            "power-on",
        ],
    }
    chosen = {name: command for name, command in commands.items() if not only or any(word in name for word in only)}
    times: dict[str, list[float]] = {name: [] for name in chosen}
    sent: dict[str, list[list[str]]] = {name: [] for name in chosen}
    try:
        # sushy applies a power change 1-11 s after the request, at random; at once here, so runs compare tools.
        with mock.patch("sushy_tools.emulator.resources.systems.fakedriver.random.randint", return_value=0):
            # Round robin: a load on the (shared) machine falls on every command alike.
            for _ in range(runs):
                for name, command in chosen.items():
                    elapsed, requests_sent = run_process(layer, url, command, env)
                    times[name].append(elapsed)
                    sent[name].append(requests_sent)
        return [
            {
                "command": name,
                "runs": runs,
                "median_seconds": round(statistics.median(times[name]), 3),
                "min_seconds": round(min(times[name]), 3),
                "max_seconds": round(max(times[name]), 3),
                "requests": sorted({len(one) for one in sent[name]}),
                "sent": sent[name][0],
            }
            for name in chosen
        ]
    finally:
        server.shutdown()
        server.server_close()


# -- 2. in-process operations with an iDRAC 8's latency -------------------------------------------------------------


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


def with_latency(scratch: Path) -> list[dict[str, object]]:
    images = scratch / "images"
    images.mkdir()
    (images / "proxmox-ve.iso").write_bytes(b"\0" * 4096)
    files = serve_files(images)
    layer = Idrac8Layer(sushy_app(scratch / "sushy-latency"), latency=LATENCY_SECONDS)
    server, _ = serve(layer)
    url = f"http://127.0.0.1:{server.server_port}"
    image = f"http://127.0.0.1:{files.server_port}/proxmox-ve.iso"
    try:
        # sushy applies a power change 1-11 s after the request, at random; fix it at 1 s so runs compare.
        with mock.patch("sushy_tools.emulator.resources.systems.fakedriver.random.randint", return_value=1):
            return [
                measure("power-on (from off)", layer, url, lambda c: operations.set_power(c, "On", WAITS)),
                measure("power-on (already on)", layer, url, lambda c: operations.set_power(c, "On", WAITS)),
                measure("insert-media", layer, url, lambda c: operations.insert_media(c, image)),
                measure("insert-media (same image)", layer, url, lambda c: operations.insert_media(c, image)),
            ]
    finally:
        server.shutdown()
        server.server_close()
        files.shutdown()
        files.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=11, help="runs of each command (the median is reported)")
    parser.add_argument("--skip-latency", action="store_true", help="only the whole-process comparison")
    parser.add_argument("--only", action="append", default=[], help="only the commands whose name has this text")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        parser.error(f"--runs: expected 1 or more, got {arguments.runs}")
    with tempfile.TemporaryDirectory() as scratch:
        report: dict[str, object] = {"processes": compare_processes(arguments.runs, Path(scratch), arguments.only)}
        if not arguments.skip_latency:
            report["latency_seconds_per_request"] = LATENCY_SECONDS
            report["operations"] = with_latency(Path(scratch))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
