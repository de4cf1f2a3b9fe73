"""The Proxmox host's daemon stand-ins log one whole line per accepted connection, also when connections arrive on
several ports at once (the tests probe the ports together): interleaved lines hid that port 22 accepted one."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from orion_infra.lab.twin import LISTENERS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_connections_on_several_ports_at_once_are_logged_one_whole_line_each(tmp_path: Path) -> None:
    ports = [free_port() for _ in range(4)]
    log = tmp_path / "listeners.log"
    with log.open("w") as output:
        listeners = subprocess.Popen(
            [sys.executable, str(LISTENERS), *(f"127.0.0.1:{port}" for port in ports)], stdout=output
        )
    try:
        deadline = time.monotonic() + 10
        for port in ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except ConnectionRefusedError:
                    assert time.monotonic() < deadline, f"nothing listens on {port}"
                    time.sleep(0.05)
        with ThreadPoolExecutor(max_workers=len(ports) * 10) as pool:
            list(pool.map(lambda port: socket.create_connection(("127.0.0.1", port)).close(), ports * 100))
        expected = len(ports) * 101
        while len(log.read_text().splitlines()) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listeners.kill()
        listeners.wait()
    lines = log.read_text().splitlines()
    assert sorted(set(lines)) == sorted(f"{port} 127.0.0.1" for port in ports)
    assert len(lines) == expected
