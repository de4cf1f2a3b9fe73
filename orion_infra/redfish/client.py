"""A Redfish client for iDRAC 8 and its successors: discovery through links, bounded retries, sessions that are
always closed, and errors that carry the service's own explanation."""

from __future__ import annotations

import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import urljoin

import requests
import urllib3

from orion_infra.redfish.errors import (
    RedfishCertificateError,
    RedfishError,
    RedfishUnavailableError,
    extended_messages,
)
from orion_infra.redfish.tls import TlsSettings

log = logging.getLogger(__name__)

# Answers worth another try: the service is busy or restarting (502, 504), or turned the request away unprocessed
# (503: iDRAC 8 out of sessions, RAC0218). A 500 is retried only where repeating is harmless (not for a POST: an
# action that failed, a media image the iDRAC cannot fetch, fails the same way again).
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
_UNPROCESSED_STATUSES = frozenset({502, 503, 504})
# A POST that may have reached the service is not repeated blindly: callers re-read state and decide.
_NOT_SENT = (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError)
_TRANSPORT_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
# What the OS said (`[Errno 111] Connection refused`), inside the layers of requests' and urllib3's wrappers.
_OS_REASON = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
# A name that does not resolve stays unresolved while we wait: a typo, not an iDRAC rebooting.
_UNRESOLVED = ("NameResolutionError", "Name or service not known", "nodename nor servname", "getaddrinfo failed")

Progress = Callable[[str], None]


class Clock(Protocol):
    """Where waits get the time and pass it: the system's, or a test's own that moves only when slept on."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


def _log_progress(line: str) -> None:
    log.info("%s", line)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by a number of attempts and, if given, by `deadline_seconds` of
    retrying in all. iDRAC 8 can vanish for minutes after a reset, so the defaults wait about one."""

    attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 60.0
    deadline_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"retry attempts: expected 1 or more, got {self.attempts}")
        if self.deadline_seconds is not None and self.deadline_seconds < 0:
            raise ValueError(f"retry deadline: expected 0 s or more, got {self.deadline_seconds:g}")

    def delay(self, attempt: int) -> float:
        backoff: float = min(self.max_delay, self.base_delay * 2**attempt)
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True)
class Timeouts:
    """Per request. iDRAC 8 takes 4-8 s for a GET; power changes are waited for separately, in minutes."""

    connect: float = 10.0
    read: float = 60.0


def transport_reason(error: BaseException, timeouts: Timeouts) -> str:
    """A transport failure in a few words (`connection refused`), not requests' nested reprs."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return f"no connection within {timeouts.connect:g} s"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return f"no answer within {timeouts.read:g} s"
    text = str(error)
    if any(marker in text for marker in _UNRESOLVED):
        return "the name does not resolve"
    found = _OS_REASON.search(text)
    if found:
        return found.group(1).strip().rstrip(".").lower()
    if "RemoteDisconnected" in text or "Connection aborted" in text:
        return "the connection was closed without an answer"
    return text


class RedfishClient:
    """Use as a context manager: a session token, if one is taken, is deleted on the way out."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        tls: TlsSettings,
        *,
        use_session: bool = False,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        clock: Clock = SYSTEM_CLOCK,
        progress: Progress = _log_progress,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.credentials = credentials
        self.tls = tls
        self.use_session = use_session
        self.timeouts = timeouts
        self.retry = retry
        self.clock = clock
        """What every wait of this client and of the operations on it reads and sleeps on."""
        self.progress = progress
        """Where each retry is reported (the attempt, the reason, the next wait): the CLI's stderr, a log."""
        self._http: requests.Session | None = None
        self._session_location: str | None = None
        self._links: dict[str, str] = {}
        self._snapshot: dict[str, dict[str, Any]] | None = None

    def __enter__(self) -> Self:
        self._http = requests.Session()
        self._http.headers.update({"Accept": "application/json", "OData-Version": "4.0"})
        self.tls.configure(self._http)
        if self.use_session:
            self._log_in()
        else:
            self._http.auth = (self.credentials.username, self.credentials.password)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            self._log_out()
        finally:
            if self._http is not None:
                self._http.close()
                self._http = None

    # -- requests --------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        """One request, retried while the failure is one that passes (no connection yet, a dropped one, a busy
        service) within the retry policy's attempts and deadline, each retry reported to `progress`. A refused
        certificate, an error answer (4xx) and a POST that may have been acted on fail at once."""
        if method != "GET" and self._snapshot is not None:
            self._snapshot.clear()  # what was read before a change is not what the service holds after it
        started = self.clock.monotonic()
        relogged = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, path, body)
            except _TRANSPORT_ERRORS as error:
                problem = self._transport_problem(method, path, error)
            else:
                if response.status_code == 401 and self._session_location is not None and not relogged:
                    # The session died (a password change ends them): take a new one, once.
                    relogged = True
                    self._session_location = None
                    self._log_in()
                    attempt -= 1
                    continue
                retryable = RETRYABLE_STATUSES if method != "POST" else _UNPROCESSED_STATUSES
                if response.status_code < 400:
                    return response
                refused = RedfishError(method, path, response.status_code, self._messages(response))
                if response.status_code not in retryable:
                    raise refused
                problem = f"HTTP {response.status_code}: {'; '.join(refused.messages) or 'no details given'}"
            self._wait_before_retry(method, path, attempt, problem, started)

    def _transport_problem(self, method: str, path: str, error: BaseException) -> str:
        """The failure in a few words if another attempt may help; raises if it cannot."""
        refusal = self.tls.refusal(self.endpoint, error, self.timeouts.connect)
        if refusal is not None:
            # The certificate was checked right after the handshake: no request, no credential went out. urllib3's
            # own text (its pool, "Max retries exceeded") is left out: it names retries that never happened.
            raise RedfishCertificateError(f"{method} {path}: {refusal.message}", refusal.presented_sha256) from error
        reason = transport_reason(error, self.timeouts)
        if reason == "the name does not resolve":
            raise RedfishUnavailableError(f"{method} {path}: {self.endpoint}: {reason}") from error
        if method == "POST" and not isinstance(error, _NOT_SENT):
            raise RedfishUnavailableError(
                f"POST {path}: the connection failed after sending ({reason}); not repeated, as the iDRAC may "
                "have acted on it"
            ) from error
        return reason

    def _wait_before_retry(self, method: str, path: str, attempt: int, problem: str, started: float) -> None:
        """Sleep before the next attempt, or raise when the attempts or the deadline are spent."""
        what = f"{method} {path} at {self.endpoint}"
        if attempt >= self.retry.attempts:
            tries = f"{attempt} attempt{'s' if attempt != 1 else ''}"
            raise RedfishUnavailableError(f"{what}: no usable answer after {tries} (last: {problem})")
        delay = self.retry.delay(attempt - 1)
        deadline = self.retry.deadline_seconds
        if deadline is not None and self.clock.monotonic() + delay - started > deadline:
            raise RedfishUnavailableError(
                f"{what}: no usable answer within the {deadline:g} s allowed for retries, after {attempt} "
                f"attempt{'s' if attempt != 1 else ''} (last: {problem})"
            )
        self.progress(f"{what}: {problem} (attempt {attempt} of {self.retry.attempts}); next in {delay:.1f} s")
        self.clock.sleep(delay)

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> requests.Response:
        if self._http is None:
            raise RuntimeError("use RedfishClient as a context manager")
        with warnings.catch_warnings():
            # verify=insecure was asked for explicitly and warned about once already.
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return self._http.request(
                method,
                self.url(path),
                json=body,
                timeout=(self.timeouts.connect, self.timeouts.read),
                verify=self.tls.requests_verify(),
            )

    @staticmethod
    def _messages(response: requests.Response) -> list[str]:
        try:
            return extended_messages(response.json())
        except ValueError:
            return [response.text.strip()[:200]] if response.text.strip() else []

    def url(self, path: str) -> str:
        return urljoin(self.endpoint + "/", path)

    def get(self, path: str) -> dict[str, Any]:
        key = self.url(path).rstrip("/")  # `/redfish/v1/` and the `/redfish/v1` a link gives are one resource
        if self._snapshot is not None and key in self._snapshot:
            return self._snapshot[key]
        body = self.request("GET", path).json()
        if not isinstance(body, dict):
            raise RedfishError("GET", path, 200, [f"expected a JSON object, got {type(body).__name__}"])
        if self._snapshot is not None:
            self._snapshot[key] = body
        return body

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Within it, each resource is read once and its first answer given again: discovery, facts and state
        read the system, the root and the manager several times, and each GET costs an iDRAC 8 seconds. Any write
        (POST, PATCH, DELETE) drops what was read, so a read-back after an action reads anew. Not for waits: a
        poll must read the service each time."""
        if self._snapshot is not None:  # within another: one picture for both
            yield
            return
        self._snapshot = {}
        try:
            yield
        finally:
            self._snapshot = None

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.request("POST", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> requests.Response:
        return self.request("DELETE", path)

    # -- sessions ----------------------------------------------------------------------------------------------

    def _log_in(self) -> None:
        if self._http is None:
            raise RuntimeError("use RedfishClient as a context manager")
        self._http.auth = None
        self._http.headers.pop("X-Auth-Token", None)
        sessions = self.link(self.root(), "Links", "Sessions")
        response = self.post(sessions, {"UserName": self.credentials.username, "Password": self.credentials.password})
        token = response.headers.get("X-Auth-Token")
        location = response.headers.get("Location")
        if not token or not location:
            raise RedfishError("POST", sessions, response.status_code, ["no X-Auth-Token or Location in the answer"])
        self._http.headers["X-Auth-Token"] = token
        self._session_location = location

    def _log_out(self) -> None:
        location, self._session_location = self._session_location, None
        if location is None:
            return
        try:
            self.delete(location)
        except (RedfishError, RedfishUnavailableError) as error:
            if not (isinstance(error, RedfishError) and error.status == 404):
                log.warning("could not delete Redfish session %s: %s", location, error)

    # -- discovery ---------------------------------------------------------------------------------------------

    def root(self) -> dict[str, Any]:
        return self.get("/redfish/v1/")

    @staticmethod
    def link(resource: dict[str, Any], *keys: str) -> str:
        """The `@odata.id` found by following `keys` in `resource`, or a clear error naming what is missing."""
        node: Any = resource
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, dict) or "@odata.id" not in node:
            where = resource.get("@odata.id", "the resource")
            raise RedfishError("GET", str(where), 200, [f"no link {'.'.join(keys)} in {where}"])
        return str(node["@odata.id"])

    def discovered(self, name: str, find: Callable[[], str]) -> str:
        """A path found once by `find`, then remembered for this client."""
        if name not in self._links:
            self._links[name] = find()
        return self._links[name]

    def members(self, collection: str) -> Iterator[dict[str, Any]]:
        for member in self.get(collection).get("Members", []):
            yield self.get(member["@odata.id"])

    def first_member(self, collection: str) -> str:
        members = self.get(collection).get("Members", [])
        if not members:
            raise RedfishError("GET", collection, 200, ["the collection is empty"])
        return str(members[0]["@odata.id"])

    def system_path(self) -> str:
        return self.discovered("system", lambda: self.first_member(self.link(self.root(), "Systems")))

    def system(self) -> dict[str, Any]:
        return self.get(self.system_path())

    def manager_path(self) -> str:
        return self.discovered("manager", lambda: self._manager_of(self.system()))

    def _manager_of(self, system: dict[str, Any]) -> str:
        try:
            return self.link(system, "Links", "ManagedBy")
        except RedfishError:
            return self.first_member(self.link(self.root(), "Managers"))

    def manager(self) -> dict[str, Any]:
        return self.get(self.manager_path())

    def chassis_path(self) -> str:
        def find() -> str:
            try:
                return self.link(self.system(), "Links", "Chassis")
            except RedfishError:
                return self.first_member(self.link(self.root(), "Chassis"))

        return self.discovered("chassis", find)

    def virtual_media_path(self) -> str:
        """iDRAC 9/10 and generic services list VirtualMedia under the system; iDRAC 8 under the manager."""

        def find() -> str:
            system = self.system()
            if "VirtualMedia" in system:
                return self.link(system, "VirtualMedia")
            manager = self.get(self.discovered("manager", lambda: self._manager_of(system)))
            if "VirtualMedia" in manager:
                return self.link(manager, "VirtualMedia")
            raise RedfishError("GET", self.system_path(), 200, ["neither the system nor its manager has VirtualMedia"])

        return self.discovered("virtual_media", find)

    def accounts_path(self) -> str:
        return self.discovered(
            "accounts", lambda: self.link(self.get(self.link(self.root(), "AccountService")), "Accounts")
        )
