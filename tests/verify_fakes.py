"""Stand-ins for `orion verify`'s unit tests: a strict fake `ssh` that answers the checks' commands with the real
programs' recorded answers (tests/fixtures/verify/, taken from the lab's twin), and a local HTTPS Proxmox API."""

from __future__ import annotations

import json
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDED = Path(__file__).parent / "fixtures" / "verify"

_FAKE_SSH = """#!{python}
# A fake ssh: refuses any call without the pinning options, logs the call and the known_hosts it was given,
# answers the remote command from recorded outputs, as the mode in {mode_file} says.
import json, sys, time
from pathlib import Path

args = sys.argv[1:]
options = dict(args[i + 1].split("=", 1) for i, arg in enumerate(args) if arg == "-o")
required = {{"BatchMode": "yes", "StrictHostKeyChecking": "yes", "GlobalKnownHostsFile": "/dev/null"}}
if any(options.get(key) != value for key, value in required.items()):
    print("fake ssh: called without pinning the host key: " + " ".join(args), file=sys.stderr)
    sys.exit(64)
known_hosts = Path(options["UserKnownHostsFile"]).read_text()
target, command = args[-2], args[-1]
with open({log!r}, "a") as log:
    log.write(json.dumps({{"args": args, "known_hosts": known_hosts}}) + "\\n")
recorded = Path({recorded!r})
modes = json.loads(Path({mode_file!r}).read_text())
mode = modes.get(target, modes.get("*", "healthy"))
if mode == "silent":
    time.sleep(60)
if mode == "stranger":
    print("Host key verification failed.", file=sys.stderr)
    sys.exit(255)
if mode == "refused":
    print("ssh: connect to host " + target.split("@")[1] + " port 22: Connection refused", file=sys.stderr)
    sys.exit(255)
if command == "true":
    sys.exit(0)
if command == "sudo -n birdc show protocols":
    print((recorded / ("birdc-peer-down.txt" if mode == "peer-down" else "birdc-healthy.txt")).read_text(), end="")
elif command.startswith("dig ") and mode == "no-dig":
    print("bash: line 1: dig: command not found", file=sys.stderr)
    sys.exit(127)
elif command.startswith("dig "):
    print((recorded / "dig-name.txt").read_text() + "--- orion verify ---\\n" + (recorded / "dig-root.txt").read_text())
elif command.startswith("curl "):
    if "9090" in command and mode == "prometheus-down":
        print((recorded / "curl-refused.stderr").read_text(), end="", file=sys.stderr)
        sys.exit(7)
    if "/api/v1/targets" in command:
        print((recorded / "targets.json").read_text().rstrip() + "\\n200", end="")
    elif "/-/healthy" in command:
        print((recorded / "alertmanager.curl").read_text(), end="")
    elif "/health" in command:
        print((recorded / "agent-ok.curl").read_text(), end="")
elif command.startswith("timeout ") and mode == "no-internet":
    sys.exit(124)  # what timeout(1) exits with when the command outlasts it
elif command.startswith("timeout "):
    sys.exit(0)
else:
    print("fake ssh: unexpected command: " + command, file=sys.stderr)
    sys.exit(64)
"""


@dataclass
class FakeSsh:
    directory: Path
    """Put it first on PATH."""
    log: Path
    modes: Path

    def set(self, modes: dict[str, str]) -> None:
        """How each target (user@address, or "*") answers: healthy, peer-down, prometheus-down, silent, stranger,
        refused."""
        self.modes.write_text(json.dumps(modes))

    def calls(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def fake_ssh(directory: Path) -> FakeSsh:
    bin_dir = directory / "fake-bin"
    bin_dir.mkdir()
    fake = FakeSsh(bin_dir, directory / "ssh-calls.jsonl", directory / "ssh-modes.json")
    fake.set({})
    script = bin_dir / "ssh"
    script.write_text(
        _FAKE_SSH.format(python=sys.executable, log=str(fake.log), recorded=str(RECORDED), mode_file=str(fake.modes))
    )
    script.chmod(0o755)
    return fake


@dataclass
class FakeProxmox:
    """A Proxmox API on 127.0.0.1 over HTTPS: what it was asked (path and Authorization/Cookie), and what it
    answers."""

    url: str = ""
    seen: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, credential sent: the Authorization header or the cookie)."""
    token: str = "orion-verify@pve!audit=5e3c1b2a-0000-4000-8000-000000000001"
    root_password: str = "s3cret-root"
    qemu: list[dict[str, object]] = field(default_factory=list)


@contextmanager
def fake_proxmox(cert: Path, key: Path, qemu: list[dict[str, object]]) -> Iterator[FakeProxmox]:
    api = FakeProxmox(qemu=qemu)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorized(self) -> bool:
            credential = self.headers.get("Authorization") or self.headers.get("Cookie") or ""
            api.seen.append((self.command, self.path, credential))
            return credential in (f"PVEAPIToken={api.token}", "PVEAuthCookie=PVE:root@pam:TICKET")

        def do_GET(self) -> None:
            if not self._authorized():
                self._answer(401, {"data": None})
            elif self.path == "/api2/json/version":
                # The shape of Proxmox VE 9's GET /version (its API viewer: version, release, repoid).
                self._answer(200, {"data": {"version": "9.0.3", "release": "9.0", "repoid": "025864202ebb6109"}})
            elif self.path == "/api2/json/nodes/orion-pve/qemu":
                self._answer(200, {"data": api.qemu})
            else:
                self._answer(404, {"data": None})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(pair.split("=", 1) for pair in self.rfile.read(length).decode().split("&"))
            api.seen.append((self.command, self.path, form.get("password", "")))
            if self.path == "/api2/json/access/ticket" and form == {
                "username": "root%40pam",
                "password": api.root_password,
            }:
                self._answer(200, {"data": {"ticket": "PVE:root@pam:TICKET", "CSRFPreventionToken": "x"}})
            else:
                self._answer(401, {"data": None})

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    api.url = f"https://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
