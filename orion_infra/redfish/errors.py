"""What can go wrong talking to a Redfish service, with the service's own words."""

from __future__ import annotations

from typing import Any


class RedfishError(Exception):
    """The service answered with an error. The message carries its `@Message.ExtendedInfo` text."""

    def __init__(self, method: str, path: str, status: int, messages: list[str]) -> None:
        detail = "; ".join(messages) if messages else "no details given"
        super().__init__(f"{method} {path}: HTTP {status}: {detail}")
        self.method = method
        self.path = path
        self.status = status
        self.messages = messages

    @property
    def message_ids(self) -> list[str]:
        return [message.split("(")[-1].rstrip(")") for message in self.messages if message.endswith(")")]


class RedfishUnavailableError(Exception):
    """No usable answer after every retry: the service is down, unreachable, overloaded or out of sessions."""


class RedfishCertificateError(RedfishUnavailableError):
    """The service's certificate is not the one trusted. Nothing was sent to it, and retrying cannot help."""

    def __init__(self, message: str, presented_sha256: str | None = None) -> None:
        super().__init__(message)
        self.presented_sha256 = presented_sha256
        """The SHA-256 fingerprint (`AB:CD:…`) of the certificate presented, when it is known."""


class RedfishUnsupportedError(Exception):
    """The service does not offer what was asked (an action missing from this firmware, say)."""


def extended_messages(body: Any) -> list[str]:
    """The human messages of a Redfish error body, each with its MessageId: 'Message text (RAC0218)'."""
    if not isinstance(body, dict):
        return []
    error = body.get("error", body)
    if not isinstance(error, dict):
        return []
    found: list[str] = []
    for info in error.get("@Message.ExtendedInfo", []) or []:
        if isinstance(info, dict) and info.get("Message"):
            message_id = str(info.get("MessageId", "")).split(".")[-1]
            found.append(f"{info['Message']} ({message_id})" if message_id else str(info["Message"]))
    if not found and error.get("message"):
        found.append(str(error["message"]))
    return found
