"""The agent's HTTP endpoints, on a small threaded stdlib server.

GET /metrics, GET /health, GET /report[?format=json], POST /alertmanager (the webhook), and
POST /admin/runbooks/<name>/clear, accepted from loopback only.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
from contextlib import suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from orion_agent.alerts import WebhookPayload
from orion_agent.metrics import agent_registry
from orion_agent.reports import render_markdown
from orion_agent.service import Agent

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/alertmanager"
CLEAR_PREFIX = "/admin/runbooks/"
# Alertmanager batches alerts; 256 KiB is hundreds of them, more is not Alertmanager.
MAX_REQUEST_BYTES = 256 * 1024
# Bounds on what clients can hold: connections served at once (more are closed at once), and how long one may
# take to send its request.
MAX_CONNECTIONS = 16
REQUEST_SECONDS = 5.0


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, up to `limit` at once: a flood of idle or slow clients cannot take every thread
    (or the memory of every thread's buffers)."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], limit: int) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(limit)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class AgentServer:
    """Serves `agent` on (address, port) from a daemon thread; port 0 picks a free one (see `port`)."""

    def __init__(
        self,
        agent: Agent,
        address: str,
        port: int,
        *,
        max_connections: int = MAX_CONNECTIONS,
        request_seconds: float = REQUEST_SECONDS,
    ) -> None:
        handler = type(
            "Handler",
            (_Handler,),
            {
                "agent": agent,
                "registry": agent_registry(agent),
                "timeout": request_seconds,
                "request_seconds": request_seconds,
            },
        )
        self._server = _BoundedServer((address, port), handler, max_connections)
        self._server.daemon_threads = True
        # A short poll keeps shutdown quick; serving itself does not poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="orion-agent-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    agent: Agent
    registry: Any
    server_version = "orion-agent"
    request_seconds: float

    def setup(self) -> None:
        super().setup()
        # `timeout` bounds each read; the deadline bounds the whole exchange, so a client sending a byte at a time
        # cannot hold its thread either.
        self._deadline = threading.Timer(self.request_seconds, self._hang_up)
        self._deadline.daemon = True
        self._deadline.start()

    def finish(self) -> None:
        self._deadline.cancel()
        super().finish()

    def _hang_up(self) -> None:
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/metrics":
            self._send(HTTPStatus.OK, generate_latest(self.registry), CONTENT_TYPE_LATEST)
        elif url.path == "/health":
            health = self.agent.health()
            # Degraded still answers 200: the agent works, with a partial view. Stalled means it does not.
            status = HTTPStatus.SERVICE_UNAVAILABLE if health["status"] == "stalled" else HTTPStatus.OK
            self._json(status, health)
        elif url.path == "/report":
            report = self.agent.report()
            if parse_qs(url.query).get("format") == ["json"]:
                self._json(HTTPStatus.OK, report)
            else:
                self._send(HTTPStatus.OK, render_markdown(report).encode(), "text/markdown; charset=utf-8")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {url.path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        if body is None:
            return
        if path == WEBHOOK_PATH:
            self._webhook(body)
        elif path.startswith(CLEAR_PREFIX) and path.endswith("/clear"):
            self._clear(path.removeprefix(CLEAR_PREFIX).removesuffix("/clear"), body)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path}"})

    def _webhook(self, body: bytes) -> None:
        try:
            payload = WebhookPayload.model_validate_json(body)
        except ValidationError as error:
            self._json(
                HTTPStatus.BAD_REQUEST, {"error": f"not an Alertmanager webhook: {error.error_count()} problems"}
            )
            return
        accepted = self.agent.inbox.accept(payload)
        log.info("webhook received", extra={"fields": {"alerts": accepted, "status": payload.status}})
        self._json(HTTPStatus.OK, {"accepted": accepted})

    def _clear(self, name: str, body: bytes) -> None:
        # Unfreezing a runbook is for the VM's operators, whatever address the agent is told to listen on.
        if not ipaddress.ip_address(self.client_address[0]).is_loopback:
            self._json(HTTPStatus.FORBIDDEN, {"error": "runbooks are cleared from the monitoring VM itself"})
            return
        try:
            document = json.loads(body or b"{}")
            by = str(document.get("by", "unknown")) if isinstance(document, dict) else "unknown"
            was_frozen = self.agent.clear(name, by)
        except json.JSONDecodeError:
            self._json(HTTPStatus.BAD_REQUEST, {"error": 'expected a JSON body such as {"by": "alice"}'})
            return
        except KeyError:
            known = ", ".join(sorted(self.agent.engine.runbooks))
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no runbook {name!r} (runbooks: {known})"})
            return
        self._json(HTTPStatus.OK, {"runbook": name, "was_frozen": was_frozen})

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_REQUEST_BYTES:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"body must be 0-{MAX_REQUEST_BYTES} bytes"})
            return None
        return self.rfile.read(length)

    def _json(self, status: HTTPStatus, document: object) -> None:
        self._send(status, json.dumps(document, indent=2, default=str).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # Prometheus scrapes every few seconds: requests are debug noise, not the journal's business.
        log.debug(format, *args)
