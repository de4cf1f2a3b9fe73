"""A Redfish service for the tests: sushy-tools' emulator (fake driver) keeps the server's state, and a thin WSGI
layer adds what iDRAC 8 does that sushy does not: sessions and their limit, accounts and password changes,
Dell's paths and reset list, chassis power data, latency, and faults."""

from __future__ import annotations

import base64
import functools
import http.server
import io
import itertools
import json
import secrets
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
Wsgi = Callable[[Environ, StartResponse], Iterable[bytes]]

SYSTEM_UUID = "4c4c4544-0051-3510-8051-c3c04f514d32"
IDRAC8_RESETS = ["On", "ForceOff", "ForceRestart", "GracefulShutdown", "PushPowerButton", "Nmi"]
IDRAC8_FIRMWARE = "2.86.86.86"
# How often a server's loop looks for shutdown(): socketserver's default, 0.5 s, is what each test's teardown waited.
POLL_SECONDS = 0.02


def error_body(message_id: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "Base.1.0.GeneralError",
            "message": "See ExtendedInfo for more information.",
            "@Message.ExtendedInfo": [{"MessageId": f"IDRAC.1.6.{message_id}", "Message": message}],
        }
    }


@dataclass
class Fault:
    """What the next matching request suffers: an error answer, a dropped connection, or silence."""

    kind: str  # "status", "reset", "hang"
    status: int = 500
    body: dict[str, Any] | None = None
    seconds: float = 0.0
    method: str | None = None  # only requests of this method; None for any


@dataclass(frozen=True)
class Seen:
    """One request as the iDRAC received it, and whether it carried a credential in its headers."""

    method: str
    path: str
    authorization: bool
    """An Authorization header (Basic credentials) or an X-Auth-Token."""


@dataclass
class Idrac8Layer:
    app: Wsgi
    passwords: dict[str, str] = field(default_factory=lambda: {"root": "calvin"})
    max_sessions: int = 4
    latency: float = 0.0
    honour_graceful_shutdown: bool = True
    requests: int = 0
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (token, user)
    faults: deque[Fault] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    """Every request received, in order."""
    boot_enabled: str = "Disabled"
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    system = f"/redfish/v1/Systems/{SYSTEM_UUID}"
    manager = f"/redfish/v1/Managers/{SYSTEM_UUID}"

    @property
    def manager_media(self) -> str:
        return f"{self.manager}/VirtualMedia"

    @property
    def system_media(self) -> str:
        return f"{self.system}/VirtualMedia"

    # -- WSGI ---------------------------------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = "/" + environ.get("PATH_INFO", "").strip("/")
        method = environ["REQUEST_METHOD"]
        with self._lock:
            self.requests += 1
            self.seen.append(
                Seen(
                    method,
                    path,
                    authorization=bool(environ.get("HTTP_AUTHORIZATION") or environ.get("HTTP_X_AUTH_TOKEN")),
                )
            )
            fault = self._next_fault(method)
        if self.latency:
            time.sleep(self.latency)
        if fault is not None:
            if fault.kind == "reset":
                environ["werkzeug.socket"].shutdown(2)
                return []
            if fault.kind == "hang":
                time.sleep(fault.seconds)
            else:
                return self._json(start_response, fault.status, fault.body or error_body("SYS446", "Internal error"))
        body = self._read_json(environ)
        if path == "/redfish/v1/SessionService/Sessions" and method == "POST":
            return self._log_in(start_response, body)
        if path not in ("/redfish", "/redfish/v1"):
            user = self._authenticated(environ)
            if user is None:
                return self._json(start_response, 401, error_body("RAC0178", "Authentication failed."))
        handled = self._own(method, path, body, environ, start_response)
        if handled is not None:
            return handled
        return self._forward(environ, start_response, method, path, body)

    def _next_fault(self, method: str) -> Fault | None:
        if self.faults and self.faults[0].method in (None, method):
            return self.faults.popleft()
        return None

    @staticmethod
    def _read_json(environ: Environ) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["orion.body"] = raw
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @staticmethod
    def _json(
        start_response: StartResponse, status: int, body: object, headers: list[tuple[str, str]] | None = None
    ) -> list[bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        reason = http.server.BaseHTTPRequestHandler.responses.get(status, ("",))[0]
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), *(headers or [])],
        )
        return [payload]

    # -- authentication and sessions ------------------------------------------------------------------------

    def _authenticated(self, environ: Environ) -> str | None:
        token = environ.get("HTTP_X_AUTH_TOKEN")
        if token:
            return next((user for tok, user in self.sessions.values() if tok == token), None)
        basic = environ.get("HTTP_AUTHORIZATION", "")
        if basic.startswith("Basic "):
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            if self.passwords.get(user) == password:
                return user
        return None

    def _log_in(self, start_response: StartResponse, body: dict[str, Any]) -> list[bytes]:
        user, password = body.get("UserName"), body.get("Password")
        if self.passwords.get(str(user)) != password:
            return self._json(start_response, 401, error_body("RAC0178", "Authentication failed."))
        with self._lock:
            if len(self.sessions) >= self.max_sessions:
                return self._json(
                    start_response,
                    503,
                    error_body("RAC0218", "The maximum number of user sessions is reached."),
                )
            session_id = str(next(self._ids))
            token = secrets.token_hex(16)
            self.sessions[session_id] = (token, str(user))
        location = f"/redfish/v1/SessionService/Sessions/{session_id}"
        return self._json(
            start_response,
            201,
            {"@odata.id": location, "Id": session_id, "UserName": user},
            [("X-Auth-Token", token), ("Location", location)],
        )

    # -- what this layer answers itself ------------------------------------------------------------------------

    def _own(  # noqa: PLR0911 - a router: one answer per route
        self, method: str, path: str, body: dict[str, Any], environ: Environ, start_response: StartResponse
    ) -> list[bytes] | None:
        sessions = "/redfish/v1/SessionService/Sessions"
        accounts = f"{self.manager}/Accounts"
        if path == sessions and method == "GET":
            members = [{"@odata.id": f"{sessions}/{sid}"} for sid in self.sessions]
            return self._json(start_response, 200, {"@odata.id": sessions, "Members": members})
        if path.startswith(sessions + "/") and method == "DELETE":
            removed = self.sessions.pop(path.rsplit("/", 1)[1], None)
            return self._json(
                start_response, 200 if removed else 404, {} if removed else error_body("SYS403", "No such session.")
            )
        if path == f"{self.manager}/AccountService" and method == "GET":
            return self._json(start_response, 200, {"@odata.id": path, "Accounts": {"@odata.id": accounts}})
        if path == accounts and method == "GET":
            members = [{"@odata.id": f"{accounts}/{index}"} for index in range(1, 3)]
            return self._json(start_response, 200, {"@odata.id": accounts, "Members": members})
        if path.startswith(accounts + "/"):
            return self._account(method, path, body, start_response)
        if path.endswith("/Power") and path.startswith("/redfish/v1/Chassis/") and method == "GET":
            supplies = [
                {
                    "MemberId": str(n),
                    "Name": f"PS{n}",
                    "PowerCapacityWatts": 750,
                    "Status": {"State": "Enabled", "Health": "OK"},
                }
                for n in (1, 2)
            ]
            return self._json(start_response, 200, {"@odata.id": path, "PowerSupplies": supplies})
        if path == f"{self.system}/Actions/ComputerSystem.Reset" and method == "POST":
            return self._reset(environ, start_response, str(body.get("ResetType")))
        if path == f"{self.manager}/Actions/Oem/EID_674_Manager.ImportSystemConfiguration" and method == "POST":
            if "VCD-DVD" in str(body.get("ImportBuffer")):
                self.boot_enabled = "Once"
                self._sushy("PATCH", self.system, {"Boot": {"BootSourceOverrideTarget": "Cd"}}, environ)
            job = f"{self.manager}/Jobs/JID_{next(self._ids)}"
            return self._json(start_response, 202, {}, [("Location", job)])
        if path.startswith(f"{self.manager}/Jobs/") and method == "GET":
            return self._json(
                start_response, 200, {"@odata.id": path, "JobState": "Completed", "Message": "Successfully imported"}
            )
        if path == self.system and method == "PATCH" and "Boot" in body:
            self.boot_enabled = str(body["Boot"].get("BootSourceOverrideEnabled", self.boot_enabled))
            target = body["Boot"].get("BootSourceOverrideTarget")
            if target:
                self._sushy("PATCH", self.system, {"Boot": {"BootSourceOverrideTarget": target}}, environ)
            return self._json(start_response, 200, {})
        return None

    def _account(self, method: str, path: str, body: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        index = path.rsplit("/", 1)[1]
        user = {"1": "", "2": "root"}.get(index)
        if user is None:
            return self._json(start_response, 404, error_body("SYS403", "No such account."))
        if method == "GET":
            return self._json(
                start_response, 200, {"@odata.id": path, "Id": index, "UserName": user, "Enabled": bool(user)}
            )
        if method == "PATCH" and "Password" in body:
            password = str(body["Password"])
            if not 1 <= len(password) <= 20:
                return self._json(
                    start_response, 400, error_body("RAC0916", "The password must be 1 to 20 characters.")
                )
            self.passwords[user] = password
            # iDRAC ends every session of a user whose password changed.
            self.sessions = {sid: entry for sid, entry in self.sessions.items() if entry[1] != user}
            return self._json(start_response, 200, {})
        return self._json(start_response, 405, error_body("SYS402", "Method not allowed."))

    def _reset(self, environ: Environ, start_response: StartResponse, reset_type: str) -> list[bytes]:
        if reset_type not in IDRAC8_RESETS:
            return self._json(
                start_response, 400, error_body("SYS444", f"The value {reset_type} for ResetType is not supported.")
            )
        state = self._power_state(environ)
        if (reset_type == "On" and state == "On") or (
            reset_type in ("ForceOff", "GracefulShutdown") and state == "Off"
        ):
            return self._json(start_response, 409, error_body("RAC0509", f"The server is already {state}."))
        if reset_type == "PushPowerButton":
            reset_type = "On" if state == "Off" else "GracefulShutdown"
        if reset_type == "GracefulShutdown" and not self.honour_graceful_shutdown:
            return self._json(start_response, 204, None)  # accepted, and the OS ignores ACPI
        if reset_type in ("On", "ForceRestart") and self.boot_enabled == "Once":
            self.boot_enabled = "Disabled"  # the one-time override is used by this boot
        status, _, _ = self._sushy(
            "POST", f"{self.system}/Actions/ComputerSystem.Reset", {"ResetType": reset_type}, environ
        )
        return self._json(start_response, status, None)

    def _power_state(self, environ: Environ) -> str:
        _, _, raw = self._sushy("GET", self.system, None, environ)
        return str(json.loads(raw).get("PowerState"))

    # -- sushy, and what its answers need to look like an iDRAC 8 ---------------------------------------------

    def _sushy(
        self, method: str, path: str, body: dict[str, Any] | None, environ: Environ
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        payload = json.dumps(body).encode() if body is not None else b""
        inner = {
            **{key: value for key, value in environ.items() if key != "HTTP_AUTHORIZATION"},
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_LENGTH": str(len(payload)),
            "CONTENT_TYPE": "application/json",
            "wsgi.input": io.BytesIO(payload),
        }
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            captured["status"], captured["headers"] = int(status.split(maxsplit=1)[0]), headers

        raw = b"".join(self.app(inner, capture))
        return captured["status"], captured["headers"], raw

    def _forward(
        self, environ: Environ, start_response: StartResponse, method: str, path: str, body: dict[str, Any]
    ) -> list[bytes]:
        target = path.replace(self.manager_media, self.system_media, 1) if path.startswith(self.manager_media) else path
        status, headers, raw = self._sushy(method, target, body if environ["orion.body"] else None, environ)
        if not raw or not raw.lstrip().startswith(b"{"):
            start_response(f"{status} X", headers)
            return [raw]
        document = json.loads(raw.replace(self.system_media.encode(), self.manager_media.encode()))
        self._dress(path, document)
        return self._json(start_response, status, document)

    def _dress(self, path: str, document: dict[str, Any]) -> None:
        if path == "/redfish/v1":
            document["Links"] = {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}
            document["AccountService"] = {"@odata.id": f"{self.manager}/AccountService"}
            document["Oem"] = {"Dell": {"ServiceTag": "CQ5QBM2"}}
        elif path == self.system:
            document.pop("VirtualMedia", None)  # iDRAC 8 lists it under the manager only
            document.update(
                {"Model": "PowerEdge R730", "SKU": "CQ5QBM2", "BiosVersion": "2.17.0", "Manufacturer": "Dell Inc."}
            )
            document["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"] = IDRAC8_RESETS
            document["Boot"]["BootSourceOverrideEnabled"] = self.boot_enabled
            document["Status"] = {"State": "Enabled", "Health": "OK", "HealthRollup": "OK"}
        elif path == self.manager:
            document["FirmwareVersion"] = IDRAC8_FIRMWARE
            document["VirtualMedia"] = {"@odata.id": self.manager_media}
            document["Actions"] = {
                "Oem": {
                    "#OemManager.v1_0_0#OemManager.ImportSystemConfiguration": {
                        "target": f"{self.manager}/Actions/Oem/EID_674_Manager.ImportSystemConfiguration"
                    }
                }
            }
        elif path.startswith("/redfish/v1/Chassis/") and path.count("/") == 4:
            document["Power"] = {"@odata.id": f"{path}/Power"}


@dataclass
class RunningService:
    url: str
    layer: Idrac8Layer | None
    server: BaseWSGIServer

    def session_count(self) -> int:
        return len(self.layer.sessions) if self.layer else 0


def sushy_app(state_dir: Path) -> Wsgi:
    """sushy-emulator's application (fake driver) on a fresh state directory.

    The emulator is a module-level singleton that caches its drivers on itself; dropping that cache after
    reconfiguring gives each test a new server.
    """
    from sushy_tools.emulator.main import app  # noqa: PLC0415 - importing builds the emulator

    app.configure(
        extra_config={
            "SUSHY_EMULATOR_FAKE_DRIVER": True,
            "SUSHY_EMULATOR_STATE_DIR": str(state_dir),
            "SUSHY_EMULATOR_FAKE_SYSTEMS": [
                {"uuid": SYSTEM_UUID, "name": "orion-pve", "power_state": "Off", "nics": []}
            ],
        }
    )
    app.__dict__.pop("_cache", None)
    return app  # type: ignore[no-any-return]


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate like a new iDRAC's own: self-signed, made by openssl, for 127.0.0.1. Returns (cert, key)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
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
            f"/CN={name}",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def openssl_sha256(cert: Path) -> str:
    """The certificate's SHA-256 fingerprint as `openssl x509 -noout -fingerprint -sha256` prints it."""
    printed = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return printed.strip().partition("=")[2]  # "sha256 Fingerprint=AB:CD:..."


@dataclass
class HttpsIdrac:
    """The emulated iDRAC 8 over TLS on one loopback port. `start` again serves the same state with another
    certificate, as after a new certificate is uploaded to the iDRAC, or when someone else answers at its address."""

    layer: Idrac8Layer
    port: int = 0
    server: BaseWSGIServer | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, cert: Path, key: Path) -> None:
        self.stop()
        self.server = make_server("127.0.0.1", self.port, self.layer, threaded=True, ssl_context=(str(cert), str(key)))
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def serve(app: Wsgi) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    return server, thread


def serve_files(directory: Path) -> http.server.ThreadingHTTPServer:
    """A loopback HTTP server for installer images (the emulator, like the iDRAC, fetches them itself)."""
    handler = functools.partial(_QuietFiles, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()
    return server


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
