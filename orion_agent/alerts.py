"""Alerts the agent raises itself, posted to Alertmanager's v2 API, and the alerts Alertmanager sends it back."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, Field

from orion_agent.audit import iso
from orion_agent.sources import SourceError

log = logging.getLogger(__name__)
GENERATOR = "orion-agent"


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    summary: str
    labels: Mapping[str, str]

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.name, tuple(sorted(self.labels.items()))


class AlertmanagerClient:
    """POSTs alerts to `/api/v2/alerts`. Alertmanager resolves an alert not re-sent within its resolve_timeout."""

    def __init__(self, base_url: str, timeout: float, session: requests.Session | None = None) -> None:
        self._url = base_url.rstrip("/") + "/api/v2/alerts"
        self._timeout = timeout
        self._session = session or requests.Session()

    def post(self, alerts: list[dict[str, Any]]) -> None:
        try:
            response = self._session.post(self._url, json=alerts, timeout=self._timeout)
        except requests.RequestException as error:
            raise SourceError("alertmanager", f"unreachable ({type(error).__name__})") from None
        if response.status_code != 200:
            raise SourceError("alertmanager", f"HTTP {response.status_code}")


class AlertBook:
    """The agent's alerts that are firing; each round re-sends them, and sends the ones gone as resolved."""

    def __init__(self, post: Callable[[list[dict[str, Any]]], None], clock: Callable[[], float]) -> None:
        self._post = post
        self._clock = clock
        self._firing: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Alert, float]] = {}

    @property
    def firing(self) -> list[Alert]:
        return [alert for alert, _ in self._firing.values()]

    def send(self, current: list[Alert]) -> None:
        """Makes `current` the firing set and tells Alertmanager; raises SourceError when it cannot be reached."""
        now = self._clock()
        keys = {alert.key: alert for alert in current}
        payload = []
        for key, (alert, started) in list(self._firing.items()):
            if key not in keys:
                payload.append(self._document(alert, started, ended=now))
                del self._firing[key]
        for key, alert in keys.items():
            started = self._firing.get(key, (alert, now))[1]
            self._firing[key] = (alert, started)
            payload.append(self._document(alert, started, ended=None))
        if payload:
            self._post(payload)

    def escalate(self, runbook: str, summary: str) -> None:
        """A one-off critical alert for humans; failures are logged, never raised (the audit log has it anyway)."""
        alert = Alert("OrionAgentEscalation", "critical", summary, {"runbook": runbook})
        try:
            self._post([self._document(alert, self._clock(), ended=None)])
        except SourceError as error:
            log.error("cannot escalate to Alertmanager", extra={"fields": {"runbook": runbook, "error": str(error)}})

    @staticmethod
    def _document(alert: Alert, started: float, ended: float | None) -> dict[str, Any]:
        document: dict[str, Any] = {
            "labels": {"alertname": alert.name, "severity": alert.severity, "source": GENERATOR, **alert.labels},
            "annotations": {"summary": alert.summary},
            "startsAt": iso(started),
        }
        if ended is not None:
            document["endsAt"] = iso(ended)
        return document


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = ""  # noqa: N815 - Alertmanager's field name


class WebhookPayload(BaseModel):
    """Alertmanager's webhook body (version 4); only what the agent reads is required."""

    model_config = ConfigDict(extra="allow")

    status: str
    alerts: list[WebhookAlert]


class WebhookInbox:
    """The alerts Alertmanager sent, as changes: an alert's first firing and its resolution, not every repetition
    of a group that Alertmanager re-sends. They inform the report; they never trigger a runbook."""

    def __init__(self, clock: Callable[[], float], keep: int = 500) -> None:
        self._clock = clock
        self.received: deque[dict[str, Any]] = deque(maxlen=keep)
        self.total = 0
        self._keep = keep
        self._status: dict[tuple[tuple[str, str], ...], str] = {}

    def accept(self, payload: WebhookPayload) -> int:
        now = iso(self._clock())
        for alert in payload.alerts:
            identity = tuple(sorted(alert.labels.items()))
            if self._status.get(identity) == alert.status:
                continue
            self._status.pop(identity, None)
            self._status[identity] = alert.status  # last in the dict: the most recently changed
            if len(self._status) > self._keep:
                del self._status[next(iter(self._status))]
            self.received.append(
                {
                    "received": now,
                    "status": alert.status,
                    "alertname": alert.labels.get("alertname", "?"),
                    "labels": alert.labels,
                    "summary": alert.annotations.get("summary", ""),
                }
            )
        self.total += len(payload.alerts)
        return len(payload.alerts)
