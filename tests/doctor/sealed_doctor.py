"""Run inside a network namespace of its own: give its loopback the addresses the spec names (the stack's management
subnet, so that the stack's own addresses are this namespace's and nothing can leave it), start the site's stand-ins
on them (a web server publishing a directory, TLS listeners for iDRACs and Proxmox APIs, silent listeners that
accept and never answer), then run `orion doctor`, through click's CliRunner or as a process.

`python -m tests.doctor.sealed_doctor RESULT` reads its spec as JSON on stdin and writes what happened as JSON to
RESULT: exit code, output, the seconds the doctor took, and the namespace's addresses.
"""

from __future__ import annotations

import functools
import http.server
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from orion_infra.cli_doctor import doctor


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _web_server(address: str, port: int, root: str) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((address, port), functools.partial(_QuietHandler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def tls_listener(address: str, port: int, cert: str | None, key: str | None) -> socket.socket:
    """TLS on (address, port) with `cert`; without one, a listener that accepts and never says a word."""
    server = socket.create_server((address, port))
    held: list[socket.socket] = []
    context = None
    if cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            if context is None:
                held.append(connection)
                continue
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.settimeout(5)
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    return server


def main(result: Path) -> None:
    spec = json.load(sys.stdin)
    ip = spec["ip"]
    subprocess.run([ip, "link", "set", "lo", "up"], check=True)
    for address in spec["addresses"]:
        subprocess.run([ip, "address", "add", address, "dev", "lo"], check=True)
    if spec.get("web"):
        _web_server(spec["web"]["address"], spec["web"]["port"], spec["web"]["root"])
    for listener in spec.get("listeners", []):
        tls_listener(listener["address"], listener["port"], listener.get("cert"), listener.get("key"))
    started = time.monotonic()
    if spec["mode"] == "process":
        done = subprocess.run(
            [sys.executable, "-c", "from orion_infra.cli_doctor import doctor; doctor()", *spec["args"]],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        exit_code, output, errors = done.returncode, done.stdout, done.stderr
    else:
        outcome = CliRunner().invoke(doctor, spec["args"])
        exit_code, output, errors = outcome.exit_code, outcome.stdout, outcome.stderr
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            errors += repr(outcome.exception)
    seconds = time.monotonic() - started
    addresses = subprocess.run([ip, "-brief", "address"], capture_output=True, text=True, check=True).stdout
    result.write_text(
        json.dumps(
            {"exit_code": exit_code, "output": output, "errors": errors, "seconds": seconds, "addresses": addresses}
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
