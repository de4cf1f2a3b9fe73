"""How a Redfish client trusts the service's certificate: the system store, a CA bundle, or a pinned fingerprint."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

TlsVerify = Literal["system", "ca_bundle", "fingerprint", "insecure"]


@dataclass(frozen=True)
class TlsSettings:
    verify: TlsVerify = "system"
    ca_bundle: str | None = None
    sha256_fingerprint: str | None = None

    def __post_init__(self) -> None:
        if self.verify == "ca_bundle" and not self.ca_bundle:
            raise ValueError("tls verify=ca_bundle needs ca_bundle, the path of a PEM bundle")
        if self.verify == "fingerprint" and not self.sha256_fingerprint:
            raise ValueError("tls verify=fingerprint needs sha256_fingerprint")

    def configure(self, session: requests.Session) -> None:
        if self.verify == "fingerprint":
            # urllib3 checks the peer certificate against the pin instead of a CA chain.
            session.mount("https://", _PinnedAdapter(normalise_fingerprint(str(self.sha256_fingerprint))))
        elif self.verify == "insecure":
            log.warning(
                "TLS verification is off for this Redfish service (asked for explicitly): "
                "anyone on the path can impersonate it"
            )

    def requests_verify(self) -> bool | str:
        """The `verify` argument of each request. Given per request, because requests lets REQUESTS_CA_BUNDLE
        from the environment override a session's own setting."""
        if self.verify == "ca_bundle":
            return str(self.ca_bundle)
        return self.verify == "system"


def normalise_fingerprint(fingerprint: str) -> str:
    return fingerprint.replace(":", "").lower()


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(*args, **kwargs)
