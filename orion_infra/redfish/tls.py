"""How a Redfish client trusts the service's certificate: the system store, a CA bundle, a fingerprint pinned in the
stack or recorded on first contact, or (asked for explicitly) nothing."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

TlsVerify = Literal["system", "ca_bundle", "fingerprint", "first_use", "insecure"]
TLS_MODES: tuple[TlsVerify, ...] = get_args(TlsVerify)
# The modes that trust one certificate, by its SHA-256, instead of a CA chain.
PINNED: frozenset[str] = frozenset({"fingerprint", "first_use"})
SHA256_FINGERPRINT = re.compile(r"^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$")
# urllib3 2.x's words when the pinned certificate is not the one presented (util/ssl_.py, assert_fingerprint);
# the repr of a wrapped error may escape the quotes.
_MISMATCH = re.compile(r'Fingerprints did not match\. Expected \\?"[0-9a-f]+\\?", got \\?"([0-9a-f]+)')


@dataclass(frozen=True)
class TlsSettings:
    verify: TlsVerify = "system"
    ca_bundle: str | None = None
    sha256_fingerprint: str | None = None
    renewal: str | None = None
    """What the operator does when the pinned certificate was replaced on purpose; the refusal names it."""

    def __post_init__(self) -> None:
        if self.verify == "ca_bundle" and not self.ca_bundle:
            raise ValueError("tls verify=ca_bundle needs ca_bundle, the path of a PEM bundle")
        if self.verify == "fingerprint" and not self.sha256_fingerprint:
            raise ValueError("tls verify=fingerprint needs sha256_fingerprint")
        if self.verify == "first_use" and not self.sha256_fingerprint:
            raise ValueError("tls verify=first_use needs sha256_fingerprint, the one recorded on first contact")

    @property
    def pinned(self) -> bool:
        return self.verify in PINNED

    def configure(self, session: requests.Session) -> None:
        if self.pinned:
            # urllib3 checks the peer certificate against the pin, right after the handshake and before the request
            # (and its credentials) is written, instead of a CA chain.
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

    def refusal(self, endpoint: str, error: BaseException, timeout: float = 10.0) -> Refusal | None:
        """Why the service's certificate was refused, when `error` says it was; None for any other failure.

        A refusal is final: the same certificate (or CA bundle) will be refused again, so it is not retried. For a
        certificate no CA vouches for, one more TLS handshake (nothing written) within `timeout` learns what it is,
        for the operator to recognise it."""
        text = str(error)
        mismatch = _MISMATCH.search(text) if self.pinned else None
        if mismatch is not None:
            presented = format_fingerprint(mismatch.group(1))
            advice = self.renewal or renewal_advice(self.verify)
            return Refusal(mismatch_message(endpoint, str(self.sha256_fingerprint), presented, advice), presented)
        if self.verify == "ca_bundle" and (problem := bundle_problem(str(self.ca_bundle))) is not None:
            return Refusal(f"the CA bundle {problem}; nothing was sent to {endpoint}")
        verification = _verification_error(error)
        if verification is None:
            return None
        try:
            certificate: PresentedCertificate | None = presented_certificate(endpoint, timeout)
        except (OSError, ValueError):
            certificate = None  # gone, or not answering: the refusal stands without the details
        seen = certificate.sha256 if certificate is not None else None
        return Refusal(untrusted_message(endpoint, self, verification, certificate), seen)


@dataclass(frozen=True)
class Refusal:
    """A certificate refused, in plain words, and the fingerprint of the one presented when it is known."""

    message: str
    presented_sha256: str | None = None


# OpenSSL's verify results that mean no trusted CA signed the chain (X509_V_ERR_*: unable to get issuer
# certificate, self-signed leaf, self-signed in chain, unable to get local issuer, unable to verify leaf signature).
_NO_TRUSTED_ISSUER = frozenset({2, 18, 19, 20, 21})


def _verification_error(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The handshake's verification failure inside requests' and urllib3's wrappers (their `reason` and `args`)."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None), *current.args])
    return None


def untrusted_message(
    endpoint: str,
    tls: TlsSettings,
    verification: ssl.SSLCertVerificationError,
    certificate: PresentedCertificate | None,
) -> str:
    """`https://…: its certificate (subject CN=idrac, issuer CN=idrac, SHA-256 AB:…) is not trusted: self-signed
    certificate, not signed by a CA in ca.pem. Nothing was sent to it (no request, no password).`"""
    trusted = "the system's CA store" if tls.verify == "system" else str(tls.ca_bundle)
    reason = str(verification.verify_message or verification.reason or "verification failed").rstrip(".")
    if verification.verify_code in _NO_TRUSTED_ISSUER:
        why = f"{reason}, not signed by a CA in {trusted}"
    else:
        why = f"{reason} (checked with verify: {tls.verify}{'' if tls.verify == 'system' else f', {trusted}'})"
    what = ""
    if certificate is not None:
        named = [f"subject {certificate.subject}"] if certificate.subject else []
        named += [f"issuer {certificate.issuer}"] if certificate.issuer else []
        what = f" ({', '.join([*named, f'SHA-256 {certificate.sha256}'])})"
    return f"{endpoint}: its certificate{what} is not trusted: {why}. Nothing was sent to it (no request, no password)"


def bundle_problem(path: str) -> str | None:
    """What keeps `path` from being a CA bundle (`some.csv: no PEM certificate in it`), None when it is one: read
    the way the connection will read it (OpenSSL's loader), holding at least one certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=path)
    except ssl.SSLError as error:
        if error.reason == "NO_CERTIFICATE_OR_CRL_FOUND":
            return f"{path}: expected PEM certificates (-----BEGIN CERTIFICATE-----), found none"
        return f"{path}: a PEM certificate in it cannot be read ({error.library or 'OpenSSL'}: {error.reason or 'PEM'})"
    except OSError as error:
        return f"{path}: cannot be read: {error.strerror or error}"
    if not context.cert_store_stats().get("x509"):
        return f"{path}: expected PEM certificates (-----BEGIN CERTIFICATE-----), found only revocation lists"
    return None


def tls_modes_text() -> str:
    """The modes as a message lists them: `system, ca_bundle, fingerprint, first_use or insecure`."""
    return f"{', '.join(TLS_MODES[:-1])} or {TLS_MODES[-1]}"


def renewal_advice(
    verify: str,
    *,
    stack: str = "the stack",
    host_index: int | None = None,
    host: str | None = None,
    identity: str | None = None,
    alternative: str | None = None,
) -> str:
    """What the operator does, once the new fingerprint is checked, when a pin refuses a certificate replaced on
    purpose. With verify: first_use, record it again by replacing the host's TlsIdentity resource (`identity`, its
    URN, when known; else the one of `host`) or pin it in `stack`; with a pin of the stack's own, pin the new one
    there. `hosts[host_index]` is where in the stack; `alternative` is one more way (the CLI's --pin-sha256)."""
    tls = f"hosts[{'' if host_index is None else host_index}].idrac.tls"
    if verify == "first_use":
        replace = (
            f"`pulumi up --replace '{identity}'`"
            if identity
            else f"`pulumi up --replace` on the TlsIdentity resource of {host or 'the host'} "
            "(`pulumi stack --show-urns | grep TlsIdentity`)"
        )
        advice = (
            f"record it with {replace}, or pin it in {stack} "
            f"({tls}: {{verify: fingerprint, sha256_fingerprint: <the new one>}})"
        )
    else:
        advice = f"pin the new one in {stack} ({tls}.sha256_fingerprint)"
    return f"{advice}, or {alternative}" if alternative else advice


def normalise_fingerprint(fingerprint: str) -> str:
    return fingerprint.replace(":", "").lower()


def format_fingerprint(fingerprint: str) -> str:
    """`AB:CD:...`, as `openssl x509 -noout -fingerprint -sha256` prints it, whatever form it was given in."""
    digits = normalise_fingerprint(fingerprint).upper()
    return ":".join(digits[index : index + 2] for index in range(0, len(digits), 2))


def mismatch_message(endpoint: str, expected: str, presented: str, renewal: str) -> str:
    parts = urlsplit(endpoint)
    return (
        f"{endpoint} presented a certificate with SHA-256 fingerprint {format_fingerprint(presented)}, but "
        f"{format_fingerprint(expected)} is the one pinned. Nothing was sent to it (no request, no password): it may "
        "not be the iDRAC. If its certificate was replaced on purpose (a new certificate uploaded, the iDRAC reset "
        "to its defaults, its board replaced), check the new fingerprint over a path you trust, e.g. "
        f"`openssl s_client -connect {parts.hostname}:{parts.port or 443} </dev/null | openssl x509 -noout "
        f"-fingerprint -sha256` from a machine cabled to it, then {renewal}"
    )


@dataclass(frozen=True)
class PresentedCertificate:
    """What a service's certificate is, as first contact records it."""

    sha256: str
    """The SHA-256 fingerprint of the leaf certificate (DER), `AB:CD:...`."""
    subject: str
    """Its subject (RFC 4514), for the operator to recognise it; empty if it could not be parsed."""
    not_after: str
    """When it expires (ISO 8601, UTC); empty if it could not be parsed. A pin holds past expiry."""
    issuer: str = ""
    """Who signed it (RFC 4514; the subject again for a self-signed one); empty if it could not be parsed. Not
    recorded: it only helps an operator tell a refused certificate from the expected one."""

    def as_dict(self) -> dict[str, str]:
        return {"sha256_fingerprint": self.sha256, "subject": self.subject, "not_after": self.not_after}


def presented_certificate(endpoint: str, timeout: float) -> PresentedCertificate:
    """The certificate the service at `endpoint` presents, from a TLS handshake alone: no HTTP request is written,
    so nothing (no credential) reaches a service that is not yet trusted."""
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"expected an https:// URL, got {endpoint!r}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Nothing is trusted yet: recording what is presented is the point. The pin is what is checked later.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError(f"{endpoint} presented no certificate")
    return describe_certificate(der)


def describe_certificate(der: bytes) -> PresentedCertificate:
    # Only first contact parses a certificate: `orion idrac` commands need not load cryptography to start.
    from cryptography import x509  # noqa: PLC0415

    fingerprint = format_fingerprint(hashlib.sha256(der).hexdigest())
    try:
        certificate = x509.load_der_x509_certificate(der)
        subject, not_after = certificate.subject.rfc4514_string(), certificate.not_valid_after_utc.isoformat()
        issuer = certificate.issuer.rfc4514_string()
    except ValueError:
        subject, not_after, issuer = "", "", ""
    return PresentedCertificate(fingerprint, subject, not_after, issuer)


class _PinnedAdapter(HTTPAdapter):
    def __init__(self, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(*args, **kwargs)
