from __future__ import annotations

import http.client
import itertools
import socket
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from orion_agent.server import AgentServer
from tests.agent.conftest import ALL_DOWN, FakeBird, Rig

WEBHOOK = {
    "version": "4",
    "status": "firing",
    "receiver": "orion-agent",
    "groupKey": '{}:{alertname="BgpSessionDown"}',
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "BgpSessionDown", "name": "transit", "severity": "warning"},
            "annotations": {"summary": "BGP session transit is down"},
            "startsAt": "2023-11-14T22:13:00Z",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "TargetDown", "job": "kea"},
            "annotations": {},
            "startsAt": "2023-11-14T21:00:00Z",
        },
    ],
}


@pytest.fixture
def served(make_rig: Callable[..., Rig]) -> Iterator[tuple[Rig, str]]:
    rig = make_rig(FakeBird(ALL_DOWN), verify_timeout_seconds=5)
    server = AgentServer(rig.agent, "127.0.0.1", 0)
    server.start()
    try:
        yield rig, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_health_says_degraded_and_which_inputs(served: tuple[Rig, str]) -> None:
    rig, url = served
    rig.agent.probe()
    response = requests.get(url + "/health", timeout=5)
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "degraded"
    assert health["degraded_inputs"] == ["prometheus", "alertmanager"]
    assert health["inputs"]["bird_exporter"]["ok"] is True


def test_health_answers_503_when_the_loop_stalled(served: tuple[Rig, str]) -> None:
    rig, url = served
    rig.agent.probe()
    rig.clock.advance(3600)
    response = requests.get(url + "/health", timeout=5)
    assert (response.status_code, response.json()["stalled"]) == (503, ["probe", "check"])


def test_metrics_in_the_exposition_format(served: tuple[Rig, str]) -> None:
    rig, url = served
    for _ in range(4):
        rig.clock.advance(1)
        rig.agent.probe()
    response = requests.get(url + "/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert 'orion_agent_input_up{input="bird_exporter"} 1.0' in lines
    assert 'orion_agent_input_up{input="prometheus"} 0.0' in lines
    assert "orion_agent_bgp_all_down_probes 4.0" in lines
    assert 'orion_agent_runbook_events_total{event="acting",runbook="restart-bgp"} 1.0' in lines
    assert 'orion_agent_findings{check="bgp",severity="critical"} 1.0' in lines


def test_the_webhook_records_alerts_for_the_report(served: tuple[Rig, str]) -> None:
    rig, url = served
    response = requests.post(url + "/alertmanager", json=WEBHOOK, timeout=5)
    assert (response.status_code, response.json()) == (200, {"accepted": 2})
    assert [alert["alertname"] for alert in rig.agent.inbox.received] == ["BgpSessionDown", "TargetDown"]
    report = requests.get(url + "/report", params={"format": "json"}, timeout=5).json()
    assert report["alerts_received"][0] == {
        "received": "2023-11-14T22:13:20.000+00:00",
        "status": "firing",
        "alertname": "BgpSessionDown",
        "labels": {"alertname": "BgpSessionDown", "name": "transit", "severity": "warning"},
        "summary": "BGP session transit is down",
    }
    assert rig.runner.calls == []  # alerts inform; they never act


def test_the_inbox_keeps_changes_not_repetitions(served: tuple[Rig, str]) -> None:
    """Alertmanager re-sends a group with every change in it: the report keeps each alert's firing and resolution."""
    rig, url = served
    for _ in range(3):
        requests.post(url + "/alertmanager", json=WEBHOOK, timeout=5)
    first = WEBHOOK["alerts"][0]
    assert isinstance(first, dict)
    resolved = {**WEBHOOK, "alerts": [{**first, "status": "resolved"}]}
    requests.post(url + "/alertmanager", json=resolved, timeout=5)
    changes = [(alert["alertname"], alert["status"]) for alert in rig.agent.inbox.received]
    assert changes == [("BgpSessionDown", "firing"), ("TargetDown", "resolved"), ("BgpSessionDown", "resolved")]
    assert rig.agent.inbox.total == 7  # every alert of every delivery counted


@pytest.mark.parametrize("body", [b"{not json", b'{"status": "firing"}', b"[]"])
def test_the_webhook_refuses_what_is_not_alertmanager(served: tuple[Rig, str], body: bytes) -> None:
    rig, url = served
    response = requests.post(url + "/alertmanager", data=body, timeout=5)
    assert response.status_code == 400
    assert rig.agent.inbox.total == 0


def test_the_report_in_markdown(served: tuple[Rig, str]) -> None:
    rig, url = served
    rig.agent.probe()
    response = requests.get(url + "/report", timeout=5)
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.text.startswith("# ORION agent status, 2023-11-14T22:13:20.000+00:00\n\n**Status: degraded**")
    assert "- transit: DOWN" in response.text


def test_clear_unfreezes_a_runbook_from_loopback(served: tuple[Rig, str]) -> None:
    rig, url = served
    for _ in range(3):
        rig.clock.advance(1)
        rig.agent.probe()
    rig.clock.advance(10)
    rig.agent.probe()
    assert rig.agent.health()["frozen_runbooks"] == ["restart-bgp"]
    response = requests.post(url + "/admin/runbooks/restart-bgp/clear", json={"by": "alice"}, timeout=5)
    assert (response.status_code, response.json()) == (200, {"runbook": "restart-bgp", "was_frozen": True})
    assert rig.agent.health()["frozen_runbooks"] == []
    assert rig.agent.audit.read()[-1]["by"] == "alice"
    unknown = requests.post(url + "/admin/runbooks/reboot/clear", json={}, timeout=5)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "no runbook 'reboot' (runbooks: restart-bgp)")


def test_unknown_paths_and_oversized_bodies_are_refused(served: tuple[Rig, str]) -> None:
    _, url = served
    assert requests.get(url + "/nope", timeout=5).status_code == 404
    assert requests.post(url + "/nope", data=b"{}", timeout=5).status_code == 404
    # Only the announced length matters: the server refuses before reading a byte of the body.
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=5)
    connection.putrequest("POST", "/alertmanager")
    connection.putheader("Content-Length", str(2 * 1024 * 1024))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()


@pytest.fixture
def bounded(make_rig: Callable[..., Rig]) -> Iterator[str]:
    rig = make_rig(FakeBird(ALL_DOWN), verify_timeout_seconds=5)
    server = AgentServer(rig.agent, "127.0.0.1", 0, max_connections=4, request_seconds=0.5)
    server.start()
    try:
        yield f"127.0.0.1:{server.port}"
    finally:
        server.stop()


def _stalled_client(address: str, sent: bytes = b"") -> socket.socket:
    host, port = address.split(":")
    client = socket.create_connection((host, int(port)), timeout=5)
    client.sendall(sent)
    return client


def _hung_up(client: socket.socket) -> bool:
    """True once the server closed the connection (EOF or reset), waiting at most the socket's timeout."""
    try:
        return client.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.realtime
def test_stalled_clients_hold_no_more_than_the_connection_limit(bounded: str) -> None:
    stalled = [_stalled_client(bounded) for _ in range(50)]
    try:
        # Connections beyond the limit are closed at once; those within it only at the request deadline.
        refused = sum(_hung_up(client) for client in stalled[4:])
        assert refused == 46
        assert all(_hung_up(client) for client in stalled[:4])
        response = requests.get(f"http://{bounded}/health", timeout=5)
        assert response.status_code == 200
    finally:
        for client in stalled:
            client.close()


@pytest.mark.realtime
def test_a_client_sending_a_byte_at_a_time_is_cut_off_at_the_deadline(bounded: str) -> None:
    client = _stalled_client(bounded)
    started = time.monotonic()
    cut_off_after: float | None = None
    try:
        for byte in itertools.cycle(b"GET /health HTTP/1.0\r\nX-Slow: "):
            try:
                client.sendall(bytes([byte]))
            except OSError:
                cut_off_after = time.monotonic() - started
                break
            time.sleep(0.05)
            if time.monotonic() - started > 5:
                break
    finally:
        client.close()
    # Cut off near the half-second deadline, although no single read ever waited as long as the per-read timeout.
    assert cut_off_after is not None
    assert cut_off_after < 2
