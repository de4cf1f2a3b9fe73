"""The prepared Proxmox installer, served to one iDRAC only, and withdrawn whatever happens.

The image holds the node's answer file (the root password's hash, the operator's keys). It is served from a
private directory (never the web server's `serve_dir`), at a path with a random token, over HTTPS with a
certificate made for this run (iDRAC8 from firmware 2.70 fetches virtual media over HTTPS without credentials; it
does not check certificates, so TLS here is against eavesdropping), to the iDRAC's address and nobody else. The
image is deleted when the server stops: when the installation is confirmed, when its deadline passes (a `pulumi up`
that failed half-way), on SIGTERM or on an error. Byte ranges are served: virtual media reads the image in pieces.

Run by `prepare-installer.sh` as `python -m orion_infra.installer_media serve ...` in a session of its own.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import secrets
import signal
import ssl
import subprocess
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger("orion.installer_media")
CHUNK_BYTES = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class MediaServer:
    """Serves `image` at https://address:port/<token>/<image name> to `client` until `stop` or `seconds` pass; the
    image is gone afterwards."""

    def __init__(
        self,
        image: Path,
        *,
        address: str,
        port: int,
        client: str,
        seconds: float,
        tls_dir: Path | None,
    ) -> None:
        self.image = image
        self.token = secrets.token_urlsafe(24)
        self.client = ipaddress.ip_address(client)
        self._address = address
        handler = type("Handler", (_Handler,), {"media": self})
        self._server = ThreadingHTTPServer((address, port), handler)
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls_dir is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            # Old BMCs speak TLS 1.2 and RSA; nothing older.
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(*_self_signed(tls_dir, address))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._deadline = threading.Timer(seconds, self.stop)
        self._deadline.daemon = True

    @property
    def path(self) -> str:
        return f"/{self.token}/{self.image.name}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self._address}:{self._server.server_address[1]}{self.path}"

    def serve(self) -> None:
        """Serves until stopped; withdraws the image however serving ends."""
        self._deadline.start()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._deadline.cancel()
            self._server.server_close()
            self.image.unlink(missing_ok=True)
            log.info("installer withdrawn: %s", self.image)

    def stop(self) -> None:
        # From another thread than serve's: shutdown waits for serve_forever to return.
        threading.Thread(target=self._server.shutdown, daemon=True).start()


def _self_signed(directory: Path, address: str) -> tuple[str, str]:
    """A certificate for `address`, valid two days, made here (the key never leaves `directory`)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key, certificate = directory / "key.pem", directory / "certificate.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=ORION installer media",
            "-addext",
            f"subjectAltName=IP:{address}",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
    )
    return str(certificate), str(key)


class _Handler(BaseHTTPRequestHandler):
    media: MediaServer
    server_version = "orion-installer-media"

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        client = ipaddress.ip_address(self.client_address[0])
        if client != self.media.client:
            log.warning("refused %s: only %s may fetch the installer", client, self.media.client)
            self._status(HTTPStatus.FORBIDDEN)
            return
        if self.path != self.media.path or not self.media.image.exists():
            self._status(HTTPStatus.NOT_FOUND)
            return
        size = self.media.image.stat().st_size
        start, end = 0, size - 1
        requested = self.headers.get("Range")
        if requested is not None:
            window = _range(requested, size)
            if window is None:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = window
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(HTTPStatus.OK)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        if body:
            with self.media.image.open("rb") as image:
                image.seek(start)
                left = end - start + 1
                while left > 0 and (chunk := image.read(min(CHUNK_BYTES, left))):
                    self.wfile.write(chunk)
                    left -= len(chunk)

    def _status(self, status: HTTPStatus) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.info(format, *args)


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte of a single `bytes=` range within `size`, or None when it cannot be served."""
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        return (max(size - int(last), 0), size - 1) if int(last) > 0 else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orion_infra.installer_media")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve one installer image to one client, then withdraw it")
    serve.add_argument("--image", type=Path, required=True)
    serve.add_argument("--address", required=True, help="the operator machine's address on the management network")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--client", required=True, help="the only address that may fetch it: the iDRAC's")
    serve.add_argument("--seconds", type=float, required=True, help="withdraw it after this long in any case")
    serve.add_argument("--plain-http", action="store_true", help="for iDRAC firmware that cannot fetch over HTTPS")
    serve.add_argument("--url-file", type=Path, required=True, help="where the URL goes once it is served")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        media = MediaServer(
            arguments.image,
            address=arguments.address,
            port=arguments.port,
            client=arguments.client,
            seconds=arguments.seconds,
            tls_dir=None if arguments.plain_http else arguments.image.parent / "tls",
        )
    except Exception:
        arguments.image.unlink(missing_ok=True)  # not served, so not kept either
        raise

    def stop(signum: int, frame: FrameType | None) -> None:
        media.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The URL holds the token: readable by the operator alone, written whole before anyone reads it.
    partial = arguments.url_file.with_suffix(".part")
    partial.write_text(media.url + "\n")
    os.chmod(partial, 0o600)
    partial.replace(arguments.url_file)
    log.info("serving %s to %s", arguments.image, arguments.client)
    media.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
