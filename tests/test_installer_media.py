"""The prepared installer reaches the iDRAC alone, over HTTPS, and is withdrawn however the installation ends: the
media server on loopback (127.0.0.1 playing the iDRAC, 127.0.0.2 anyone else), and the two scripts that start and
stop it, run as the deploy runs them."""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from orion_infra.components.scripts import UNPACK_FILES, file_lines, shell_command
from orion_infra.installer_media import MediaServer, _range
from tests.fakes import fake_program, run_shell

IDRAC = "127.0.0.1"
SOMEONE_ELSE = "127.0.0.2"
IMAGE = bytes(range(256)) * 4096  # 1 MiB that shows where each byte came from


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str, *, source: str = IDRAC, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """GET `url` from `source`, trusting any certificate (the iDRAC does not check it either)."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=10, source_address=(source, 0), context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", parts.path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "media" / "orion-pve-auto-install.iso"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(IMAGE)
    return path


@pytest.fixture
def served(image: Path) -> Iterator[MediaServer]:
    media = MediaServer(image, address="127.0.0.1", port=0, client=IDRAC, seconds=30, tls_dir=image.parent / "tls")
    serving = threading.Thread(target=media.serve)
    serving.start()
    try:
        yield media
    finally:
        media.stop()
        serving.join(timeout=10)


@pytest.mark.programs
def test_the_idrac_gets_the_image_over_https_in_ranges(served: MediaServer) -> None:
    assert served.url.startswith("https://127.0.0.1:")
    status, body, _ = fetch(served.url)
    assert (status, body) == (200, IMAGE)
    status, body, headers = fetch(served.url, headers={"Range": "bytes=1000-1999"})
    assert (status, body, headers["Content-Range"]) == (206, IMAGE[1000:2000], f"bytes 1000-1999/{len(IMAGE)}")
    status, body, _ = fetch(served.url, headers={"Range": "bytes=-10"})
    assert (status, body) == (206, IMAGE[-10:])
    assert fetch(served.url, headers={"Range": f"bytes={len(IMAGE)}-"})[0] == 416


@pytest.mark.programs
def test_nobody_else_gets_it_nor_a_path_without_the_token(served: MediaServer) -> None:
    assert fetch(served.url, source=SOMEONE_ELSE)[:2] == (403, b"")
    assert fetch(served.url.replace(served.token, "guess"))[0] == 404
    assert len(served.token) >= 32


def test_plain_http_only_when_asked(image: Path) -> None:
    media = MediaServer(image, address="127.0.0.1", port=0, client=IDRAC, seconds=30, tls_dir=None)
    serving = threading.Thread(target=media.serve)
    serving.start()
    try:
        assert media.url.startswith("http://")
        assert fetch(media.url)[:2] == (200, IMAGE)
    finally:
        media.stop()
        serving.join(timeout=10)


@pytest.mark.realtime
def test_the_image_is_withdrawn_at_the_deadline(image: Path) -> None:
    media = MediaServer(image, address="127.0.0.1", port=0, client=IDRAC, seconds=0.5, tls_dir=None)
    serving = threading.Thread(target=media.serve)
    serving.start()
    serving.join(timeout=10)
    assert not serving.is_alive()
    assert not image.exists()


@pytest.mark.parametrize(
    ("header", "window"),
    [("bytes=0-0", (0, 0)), ("bytes=10-", (10, 99)), ("bytes=-5", (95, 99)), ("bytes=90-200", (90, 99))],
)
def test_ranges_within_the_image(header: str, window: tuple[int, int]) -> None:
    assert _range(header, 100) == window


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-4", "bytes=-0", "bytes=-", "items=0-1", "bytes=0-1,5-6"])
def test_ranges_that_cannot_be_served(header: str) -> None:
    assert _range(header, 100) is None


# -- the scripts, with a stand-in for proxmox-auto-install-assistant (only in Proxmox's own repository) that is as
# -- strict about its arguments as the real one and refuses an answer without the first-boot section it needs ----

ASSISTANT = """#!/usr/bin/env python3
import sys, tomllib, os
command, *arguments = sys.argv[1:]
if command == "validate-answer":
    answer = tomllib.load(open(arguments[0], "rb"))
    sys.exit(0 if answer.get("first-boot", {}).get("source") == "from-iso" else "no [first-boot] from-iso")
assert command == "prepare-iso", command
iso, options = arguments[0], dict(zip(arguments[1::2], arguments[2::2]))
assert set(options) == {"--fetch-from", "--answer-file", "--on-first-boot", "--output"}, options
hook = options["--on-first-boot"]
assert os.access(hook, os.X_OK) and open(hook).read().startswith("#!/bin/sh"), "the hook is not an executable script"
with open(options["--output"], "wb") as output:
    output.write(open(iso, "rb").read() + open(options["--answer-file"], "rb").read())
"""


@pytest.fixture
def deploy_env(tmp_path: Path) -> dict[str, str]:
    tools = tmp_path / "tools"
    fake_program(tools, "proxmox-auto-install-assistant", ASSISTANT)
    serve_dir = tmp_path / "serve"
    serve_dir.mkdir()
    (serve_dir / "proxmox-ve_9.1-1.iso").write_bytes(IMAGE)
    return {
        "PATH": f"{tools}:{os.environ['PATH']}",
        "SERVE_DIR": str(serve_dir),
        "ISO_URL": "https://enterprise.proxmox.com/iso/proxmox-ve_9.1-1.iso",
        "ISO_NAME": "proxmox-ve_9.1-1.iso",
        "ISO_SHA256": hashlib.sha256(IMAGE).hexdigest(),
        "CHECKSUM_URL": "",
        "OUTPUT_NAME": "orion-pve-auto-install.iso",
        "MEDIA_DIR": str(tmp_path / ".orion" / "installer" / "orion-pve"),
        "MEDIA_ADDRESS": "127.0.0.1",
        "MEDIA_PORT": str(free_port()),
        "MEDIA_HTTPS": "true",
        "MEDIA_SECONDS": "60",
        "IDRAC_ADDRESS": IDRAC,
        "PYTHON": sys.executable,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


ANSWER = (
    '[global]\nfqdn = "orion-pve.orion.home.arpa"\n[first-boot]\nsource = "from-iso"\nordering = "before-network"\n'
)


HOOK = "#!/bin/sh\necho sealed\n"


def prepare(environment: dict[str, str], answer: str) -> subprocess.CompletedProcess[str]:
    """prepare-installer.sh as the installer's Command runs it: the answer and the hook on stdin."""
    return run_script("prepare-installer.sh", environment, file_lines({"answer.toml": answer, "first-boot": HOOK}))


def run_script(name: str, environment: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`name` (after unpack-files.sh) as the deploy's Command runs it."""
    return run_shell(shell_command(UNPACK_FILES, name), environment, stdin)


class ProxmoxApi(BaseHTTPRequestHandler):
    """A freshly installed node's API as the wait sees it: 401 without credentials."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.realtime
def test_prepared_served_to_the_idrac_alone_and_withdrawn_once_proxmox_answers(deploy_env: dict[str, str]) -> None:
    prepared = prepare(deploy_env, ANSWER)
    assert prepared.returncode == 0, prepared.stderr
    url = prepared.stdout.strip().splitlines()[-1]
    media = Path(deploy_env["MEDIA_DIR"])
    image = media / "orion-pve-auto-install.iso"
    assert stat.S_IMODE(media.stat().st_mode) == 0o700
    assert stat.S_IMODE(image.stat().st_mode) == 0o600
    assert not (media / "inputs").exists()  # the answer and the hook live inside the image only
    assert not list(Path(deploy_env["SERVE_DIR"]).glob("orion-pve*"))  # nothing in the public directory
    status, body, _ = fetch(url)
    assert (status, tomllib.loads(body[len(IMAGE) :].decode())["first-boot"]["ordering"]) == (200, "before-network")
    assert fetch(url, source=SOMEONE_ELSE)[0] == 403
    api = HTTPServer(("127.0.0.1", 0), ProxmoxApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        waited = run_script(
            "wait-for-proxmox.sh",
            {
                **deploy_env,
                "API_URL": f"http://127.0.0.1:{api.server_address[1]}",
                "TIMEOUT_SECONDS": "30",
                "POLL_SECONDS": "1",
            },
        )
    finally:
        api.shutdown()
        api.server_close()
    assert waited.returncode == 0, waited.stderr
    wait_until_gone(image)


@pytest.mark.realtime
def test_a_failed_installation_withdraws_the_installer_too(deploy_env: dict[str, str]) -> None:
    prepared = prepare(deploy_env, ANSWER)
    assert prepared.returncode == 0, prepared.stderr
    image = Path(deploy_env["MEDIA_DIR"]) / "orion-pve-auto-install.iso"
    waited = run_script(
        "wait-for-proxmox.sh",
        {**deploy_env, "API_URL": f"http://127.0.0.1:{free_port()}", "TIMEOUT_SECONDS": "1", "POLL_SECONDS": "1"},
    )
    assert waited.returncode == 1
    assert "did not answer" in waited.stderr
    wait_until_gone(image)


@pytest.mark.realtime
def test_an_answer_the_installer_refuses_leaves_nothing_behind(deploy_env: dict[str, str]) -> None:
    prepared = prepare(deploy_env, '[global]\nfqdn = "x"\n')
    assert prepared.returncode != 0
    assert "no [first-boot]" in prepared.stderr
    # Neither the answer nor the hook (the node's SSH host key) is left behind.
    assert list(Path(deploy_env["MEDIA_DIR"]).iterdir()) == []


@pytest.mark.realtime
def test_a_server_nobody_stops_withdraws_the_image_at_its_deadline(deploy_env: dict[str, str]) -> None:
    prepared = prepare({**deploy_env, "MEDIA_SECONDS": "1"}, ANSWER)
    assert prepared.returncode == 0, prepared.stderr
    wait_until_gone(Path(deploy_env["MEDIA_DIR"]) / "orion-pve-auto-install.iso")


@pytest.mark.realtime
def test_a_second_preparation_stops_the_first_server(deploy_env: dict[str, str]) -> None:
    first = prepare(deploy_env, ANSWER)
    assert first.returncode == 0, first.stderr
    pid = int((Path(deploy_env["MEDIA_DIR"]) / "server.pid").read_text())
    second = prepare({**deploy_env, "MEDIA_PORT": str(free_port())}, ANSWER)
    assert second.returncode == 0, second.stderr
    wait_until_dead(pid)
    os.kill(int((Path(deploy_env["MEDIA_DIR"]) / "server.pid").read_text()), signal.SIGTERM)


def wait_until_gone(path: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while path.exists():
        assert time.monotonic() < deadline, f"{path} is still there"
        time.sleep(0.05)


def wait_until_dead(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, f"process {pid} is still running"
        time.sleep(0.05)
