"""What the agent reads: the Prometheus HTTP API and the router's bird exporter, each failing as a `SourceError`."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

# An exporter page is a few kilobytes; anything this large is not one and would only cost memory to parse.
MAX_BODY_BYTES = 4 * 1024 * 1024


class SourceError(Exception):
    """An input that did not answer usefully: unreachable, too slow, or answering something else."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector."""

    labels: Mapping[str, str]
    value: float


@dataclass(frozen=True)
class Series:
    """One element of a range vector: (unix time, value) pairs, oldest first."""

    labels: Mapping[str, str]
    points: list[tuple[float, float]]


def _get(session: requests.Session, source: str, url: str, timeout: float, params: Mapping[str, str]) -> bytes:
    try:
        with session.get(url, params=params, timeout=timeout, stream=True) as response:
            body = response.raw.read(MAX_BODY_BYTES + 1, decode_content=True)
            status = response.status_code
    except requests.Timeout:
        raise SourceError(source, f"no answer within {timeout:g} s") from None
    except requests.RequestException as error:
        raise SourceError(source, f"unreachable ({type(error).__name__})") from None
    if len(body) > MAX_BODY_BYTES:
        raise SourceError(source, f"answer larger than {MAX_BODY_BYTES} bytes")
    # Prometheus answers 400/422 with a JSON error body worth reading; other statuses are just failures.
    if status != 200 and not (source == "prometheus" and status in (400, 422, 503)):
        raise SourceError(source, f"HTTP {status}")
    return bytes(body)


class PrometheusClient:
    """Instant and range queries against the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`)."""

    def __init__(self, base_url: str, timeout: float, session: requests.Session | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._session = session or requests.Session()

    def query(self, expr: str) -> list[Sample]:
        data = self._call("/api/v1/query", {"query": expr}, "vector")
        return [Sample(labels, _number(_pair(item.get("value"))[1])) for labels, item in data]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = self._call("/api/v1/query_range", params, "matrix")
        series = []
        for labels, item in data:
            values = item.get("values")
            if not isinstance(values, list):
                raise SourceError("prometheus", "a range result without values")
            points = [(_number(_pair(value)[0]), _number(_pair(value)[1])) for value in values]
            series.append(Series(labels, points))
        return series

    def _call(self, path: str, params: Mapping[str, str], result_type: str) -> list[tuple[dict[str, str], Any]]:
        body = _get(self._session, "prometheus", self._base + path, self._timeout, params)
        try:
            document = json.loads(body)
        except ValueError:
            raise SourceError("prometheus", "answered something that is not JSON") from None
        if not isinstance(document, dict):
            raise SourceError("prometheus", "answered JSON that is not an API response")
        if document.get("status") != "success":
            raise SourceError("prometheus", f"query failed: {document.get('error', 'no error given')}")
        data = document.get("data")
        if not isinstance(data, dict) or data.get("resultType") != result_type:
            raise SourceError("prometheus", f"expected a {result_type} result")
        results = data.get("result")
        if not isinstance(results, list):
            raise SourceError("prometheus", "a result that is not a list")
        parsed = []
        for item in results:
            metric = item.get("metric") if isinstance(item, dict) else None
            if not isinstance(metric, dict):
                raise SourceError("prometheus", "a result element without labels")
            parsed.append(({str(key): str(value) for key, value in metric.items()}, item))
        return parsed


def _pair(value: object) -> tuple[object, object]:
    if not isinstance(value, list) or len(value) != 2:
        raise SourceError("prometheus", f"expected a [time, value] pair, got {value!r}"[:200])
    return value[0], value[1]


def _number(value: object) -> float:
    try:
        return float(str(value))
    except ValueError:
        raise SourceError("prometheus", f"expected a number, got {value!r}"[:200]) from None


@dataclass(frozen=True)
class BirdScrape:
    """What the router's bird exporter reported in one scrape."""

    bird_reachable: bool
    """False when the exporter answered but could not query BIRD's socket: `bird_socket_query_success 0` (newer
    exporters), or no bird metrics at all from an exporter that has reported BGP before (Debian 12's 1.4)."""
    sessions: Mapping[str, bool] = field(default_factory=dict)
    """Each BGP protocol by name: up on any of its channels (IPv4 or IPv6)."""
    imported_prefixes: Mapping[str, float] = field(default_factory=dict)


class BirdExporterProbe:
    """Scrapes the bird exporter directly (format.new metrics), bypassing Prometheus' scrape interval."""

    def __init__(self, url: str, timeout: float, session: requests.Session | None = None) -> None:
        self._url = url
        self._timeout = timeout
        self._session = session or requests.Session()
        self._known_bird_exporter = False

    def scrape(self) -> BirdScrape:
        body = _get(self._session, "bird_exporter", self._url, self._timeout, {})
        scrape = parse_bird_metrics(body.decode("utf-8", errors="replace"), self._known_bird_exporter)
        self._known_bird_exporter = self._known_bird_exporter or bool(scrape.sessions)
        return scrape


def parse_bird_metrics(text: str, known_bird_exporter: bool = False) -> BirdScrape:
    """Reads the BGP protocols' state out of an exposition-format page; anything else is a `SourceError`.

    `known_bird_exporter`: this URL has answered with BGP sessions before, so a well-formed page without any bird
    metric is that exporter failing to reach BIRD: exporter 1.4 (Debian 12) has no `bird_socket_query_success` and
    answers 200 with an empty page when BIRD's socket does not answer."""
    sessions: dict[str, bool] = {}
    prefixes: dict[str, float] = {}
    socket_ok: bool | None = None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "bird_socket_query_success":
                    socket_ok = sample.value == 1
                    continue
                if sample.labels.get("proto") != "BGP" or "name" not in sample.labels:
                    continue
                name = sample.labels["name"]
                if sample.name == "bird_protocol_up":
                    sessions[name] = sessions.get(name, False) or sample.value == 1
                elif sample.name == "bird_protocol_prefix_import_count" and math.isfinite(sample.value):
                    prefixes[name] = prefixes.get(name, 0.0) + sample.value
    except (ValueError, TypeError, IndexError) as error:
        raise SourceError("bird_exporter", f"not the exposition format ({error})"[:300]) from None
    if socket_ok is None and not sessions:
        if known_bird_exporter:
            return BirdScrape(bird_reachable=False)
        # An empty page or another exporter: nothing here says anything about BGP.
        raise SourceError("bird_exporter", "no bird metrics in the answer")
    return BirdScrape(bird_reachable=socket_ok is not False, sessions=sessions, imported_prefixes=prefixes)
