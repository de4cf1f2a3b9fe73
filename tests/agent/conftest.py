"""Fakes for the agent's inputs and outputs, an adjustable clock, and loopback HTTP servers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from orion_agent.runbooks import CommandResult
from orion_agent.service import Agent
from orion_agent.settings import Remediation, Router, Settings
from orion_agent.sources import BirdScrape, Sample, Series, SourceError

START = 1_700_000_000.0


class FakeClock:
    """Wall time that only moves when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeBird:
    """Answers each scrape with the next scripted result (a scrape, or an error to raise); the last one repeats."""

    def __init__(self, *results: BirdScrape | SourceError) -> None:
        self.results = list(results)
        self.scrapes = 0

    def scrape(self) -> BirdScrape:
        self.scrapes += 1
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, SourceError):
            raise result
        return result


@dataclass
class FakePrometheus:
    """Answers a query with the samples of the first key that is a substring of it; no match is an empty result."""

    answers: dict[str, list[Sample]] = field(default_factory=dict)
    ranges: dict[str, list[Series]] = field(default_factory=dict)
    error: SourceError | None = None
    queries: list[str] = field(default_factory=list)

    def query(self, expr: str) -> list[Sample]:
        self.queries.append(expr)
        if self.error is not None:
            raise self.error
        return next((samples for key, samples in self.answers.items() if key in expr), [])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        self.queries.append(expr)
        if self.error is not None:
            raise self.error
        return next((series for key, series in self.ranges.items() if key in expr), [])


@dataclass
class RecordingRunner:
    """Records every argv it is asked to run and answers `result`, running nothing."""

    result: CommandResult = field(default_factory=lambda: CommandResult(0, "restarted"))
    calls: list[list[str]] = field(default_factory=list)

    def run(self, argv: Sequence[str], timeout: float) -> CommandResult:
        self.calls.append(list(argv))
        return self.result


def sessions(**up: bool) -> BirdScrape:
    return BirdScrape(bird_reachable=True, sessions=up, imported_prefixes=dict.fromkeys(up, 10.0))


ALL_DOWN = sessions(transit=False, backup=False)
ONE_UP = sessions(transit=True, backup=False)


def make_settings(tmp_path: Path, **remediation: Any) -> Settings:
    router = Router(
        host="orion-router",
        address="192.0.2.1",
        bird_exporter_url="http://192.0.2.1:9324/metrics",  # type: ignore[arg-type]
        wan_device="wan",
        wan_capacity_bits=1_000_000_000,
        lan_devices=["lan"],
        lan_capacity_bits=10_000_000_000,
    )
    guard = {"dry_run": False, "confirm_probes": 3, "cooldown_seconds": 600, "budget_per_hour": 2} | remediation
    return Settings(
        router=router,
        remediation=Remediation(**guard),
        state_dir=tmp_path / "state",
        audit_log=tmp_path / "state" / "audit.jsonl",
        log_file=None,
    )


@dataclass
class Rig:
    """An agent wired to fakes, with the fakes at hand."""

    agent: Agent
    clock: FakeClock
    bird: FakeBird
    prometheus: FakePrometheus
    runner: RecordingRunner
    posted: list[list[dict[str, Any]]]
    settings: Settings


@pytest.fixture
def make_rig(tmp_path: Path) -> Callable[..., Rig]:
    def build(bird: FakeBird | None = None, settings: Settings | None = None, **remediation: Any) -> Rig:
        settings = settings or make_settings(tmp_path, **remediation)
        clock = FakeClock()
        prometheus = FakePrometheus()
        runner = RecordingRunner()
        posted: list[list[dict[str, Any]]] = []
        bird = bird or FakeBird(ONE_UP)
        agent = Agent(settings, prometheus=prometheus, bird=bird, post_alerts=posted.append, runner=runner, clock=clock)
        return Rig(agent, clock, bird, prometheus, runner, posted, settings)

    return build


Route = Callable[[str, bytes], tuple[int, bytes]]


@contextmanager
def http_server(route: Route, delay: float = 0.0) -> Iterator[str]:
    """A loopback server answering every request with `route(path, body)`, after `delay` seconds; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, payload = route(self.path, body)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up waiting, which is what a timeout test wants

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def unused_port() -> int:
    """A loopback port nothing listens on (bound and released, so connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
