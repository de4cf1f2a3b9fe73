from __future__ import annotations

import json

import pytest

from orion_agent.sources import BirdExporterProbe, PrometheusClient, SourceError, parse_bird_metrics
from tests.agent.conftest import http_server, unused_port

# What bird_exporter -format.new serves for a BIRD 2 router with two BGP peers, one of them down.
EXPORTER_PAGE = """\
# HELP bird_protocol_up Protocol is up
# TYPE bird_protocol_up gauge
bird_protocol_up{export_filter="",import_filter="",ip_version="4",name="transit",proto="BGP"} 1
bird_protocol_up{export_filter="",import_filter="",ip_version="6",name="transit",proto="BGP"} 1
bird_protocol_up{export_filter="",import_filter="",ip_version="4",name="backup",proto="BGP"} 0
bird_protocol_up{export_filter="",import_filter="",ip_version="4",name="device1",proto="Device"} 1
# HELP bird_protocol_prefix_import_count Number of imported routes
# TYPE bird_protocol_prefix_import_count gauge
bird_protocol_prefix_import_count{ip_version="4",name="transit",proto="BGP"} 950000
bird_protocol_prefix_import_count{ip_version="6",name="transit",proto="BGP"} 200000
bird_protocol_prefix_import_count{ip_version="4",name="backup",proto="BGP"} 0
# HELP bird_socket_query_success Result of querying bird socket: 0 = failed, 1 = succeeded
# TYPE bird_socket_query_success gauge
bird_socket_query_success 1
"""

VECTOR = {
    "status": "success",
    "data": {
        "resultType": "vector",
        "result": [{"metric": {"host": "orion-router", "job": "node"}, "value": [1700000000.1, "42.5"]}],
    },
}


def test_the_exporter_page_gives_each_bgp_protocol_once_across_channels() -> None:
    scrape = parse_bird_metrics(EXPORTER_PAGE)
    assert scrape.bird_reachable is True
    assert dict(scrape.sessions) == {"transit": True, "backup": False}
    assert dict(scrape.imported_prefixes) == {"transit": 1_150_000.0, "backup": 0.0}


def test_an_exporter_that_cannot_reach_bird_says_so() -> None:
    scrape = parse_bird_metrics("# TYPE bird_socket_query_success gauge\nbird_socket_query_success 0\n")
    assert scrape.bird_reachable is False
    assert dict(scrape.sessions) == {}


RUNTIME_ONLY = "# TYPE go_goroutines gauge\ngo_goroutines 7\n"


@pytest.mark.parametrize("page", ["", RUNTIME_ONLY], ids=["empty", "runtime-only"])
def test_the_bird_exporter_without_bird_metrics_has_lost_bird(page: str) -> None:
    """Debian 12's exporter (1.4) has no bird_socket_query_success: with BIRD stopped it answers an empty page."""
    assert parse_bird_metrics(page, known_bird_exporter=True).bird_reachable is False
    with pytest.raises(SourceError):  # from a URL never seen reporting BGP, the same page proves nothing
        parse_bird_metrics(page)
    with pytest.raises(SourceError):  # and garbage stays garbage
        parse_bird_metrics('bird_protocol_up{name="x" 1\n', known_bird_exporter=True)


@pytest.mark.parametrize(
    "page",
    ["<html><body>502 Bad Gateway</body></html>", "", "node_load1 0.5\n", 'bird_protocol_up{name="x" 1\n'],
    ids=["html", "empty", "another-exporter", "broken-line"],
)
def test_anything_else_is_missing_data(page: str) -> None:
    with pytest.raises(SourceError) as error:
        parse_bird_metrics(page)
    assert error.value.source == "bird_exporter"


def test_the_probe_scrapes_over_http_and_fails_on_an_error_status() -> None:
    with http_server(lambda path, body: (200, EXPORTER_PAGE.encode())) as url:
        assert dict(BirdExporterProbe(url + "/metrics", 1.0).scrape().sessions) == {"transit": True, "backup": False}
    with http_server(lambda path, body: (500, b"oops")) as url, pytest.raises(SourceError, match="HTTP 500"):
        BirdExporterProbe(url + "/metrics", 1.0).scrape()


@pytest.mark.realtime
def test_the_probe_gives_up_after_its_timeout() -> None:
    with (
        http_server(lambda path, body: (200, EXPORTER_PAGE.encode()), delay=1.0) as url,
        pytest.raises(SourceError, match=r"no answer within 0\.2 s"),
    ):
        BirdExporterProbe(url + "/metrics", 0.2).scrape()


def test_a_prometheus_instant_query_gives_labels_and_values() -> None:
    seen: list[str] = []

    def route(path: str, body: bytes) -> tuple[int, bytes]:
        seen.append(path)
        return 200, json.dumps(VECTOR).encode()

    with http_server(route) as url:
        samples = PrometheusClient(url + "/", 1.0).query("up")
    assert [(dict(s.labels), s.value) for s in samples] == [({"host": "orion-router", "job": "node"}, 42.5)]
    assert seen == ["/api/v1/query?query=up"]


def test_a_range_query_gives_points_in_order() -> None:
    matrix = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {"m": "/"}, "values": [[1, "1"], [2, "NaN"]]}]},
    }
    with http_server(lambda path, body: (200, json.dumps(matrix).encode())) as url:
        series = PrometheusClient(url, 1.0).query_range("x", 0, 2, 1)
    assert series[0].points[0] == (1.0, 1.0)
    assert series[0].points[1][1] != series[0].points[1][1]  # NaN passes through; the checks skip it


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, b"<html>not prometheus</html>", "answered something that is not JSON"),
        (200, b"[1, 2]", "answered JSON that is not an API response"),
        (400, b'{"status": "error", "error": "parse error at char 3"}', "query failed: parse error at char 3"),
        (200, b'{"status": "success", "data": {"resultType": "matrix", "result": []}}', "expected a vector result"),
        (
            200,
            b'{"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "2"]}]}}',
            "a result element without labels",
        ),
        (
            200,
            b'{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "x"]}]}}',
            "expected a number, got 'x'",
        ),
        (502, b"bad gateway", "HTTP 502"),
    ],
)
def test_prometheus_answering_garbage_is_a_source_error(status: int, body: bytes, problem: str) -> None:
    with http_server(lambda path, _: (status, body)) as url, pytest.raises(SourceError) as error:
        PrometheusClient(url, 1.0).query("up")
    assert (error.value.source, error.value.problem) == ("prometheus", problem)


@pytest.mark.realtime
def test_prometheus_refusing_connections_or_too_slow_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"unreachable \(ConnectionError\)"):
        PrometheusClient(f"http://127.0.0.1:{unused_port()}", 1.0).query("up")
    with (
        http_server(lambda path, body: (200, json.dumps(VECTOR).encode()), delay=1.0) as url,
        pytest.raises(SourceError, match=r"no answer within 0\.2 s"),
    ):
        PrometheusClient(url, 0.2).query("up")
