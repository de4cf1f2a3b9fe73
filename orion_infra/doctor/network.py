"""The management network from this machine: an address on it, serve_url's host being this machine, the installer
server's port free, each iDRAC's HTTPS port completing a TLS handshake (its certificate checked as the stack says),
and each Proxmox API answering where it already runs. Nothing is sent past a handshake: no credential, no request."""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from orion_infra.doctor.findings import Finding, fail, ok, skip, warn
from orion_infra.model import OrionStack
from orion_infra.model.hosts import Host
from orion_infra.model.services import Bootstrap
from orion_infra.redfish.tls import normalise_fingerprint

IDRAC_HTTPS_PORT = 443


@dataclass(frozen=True)
class Handshake:
    """A completed TLS handshake: the certificate's SHA-256, and why the stack's trust refuses it (None: trusted)."""

    sha256: str
    refused: str | None = None


def handshake(  # noqa: PLR0911 - one answer per way a handshake ends
    host: str, port: int, timeout: float, *, verify: ssl.SSLContext | None = None
) -> Handshake | str:
    """Connect and complete a TLS handshake, then close: the peer's certificate, or why there was none.

    Unverified first (a self-signed certificate is no failure to reach); with `verify`, a second handshake says
    whether that context trusts it (its hostname checked against `host`)."""
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        return connect_reason(host, port, error)
    try:
        with connection, insecure.wrap_socket(connection, server_hostname=host) as tls:
            certificate = tls.getpeercert(binary_form=True)
    except ssl.SSLError as error:
        return f"TLS handshake failed on {host}:{port}: {error.reason or error}"
    except OSError as error:
        # Something listens there, but it is not a TLS server (or not a working one).
        why = f"no TLS handshake within {timeout:g} s" if isinstance(error, TimeoutError) else str(error)
        return f"{host}:{port} accepted the connection but {why}"
    if certificate is None:
        return f"{host}:{port} presented no certificate"
    found = Handshake(hashlib.sha256(certificate).hexdigest())
    if verify is None:
        return found
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as connection,
            verify.wrap_socket(connection, server_hostname=host),
        ):
            return found
    except ssl.SSLCertVerificationError as error:
        return Handshake(found.sha256, refused=str(error.verify_message or error))
    except (ssl.SSLError, OSError) as error:
        return connect_reason(host, port, error)


def connect_reason(host: str, port: int, error: BaseException) -> str:
    if isinstance(error, TimeoutError | socket.timeout):
        return f"{host}:{port} did not answer (timed out)"
    if isinstance(error, ConnectionRefusedError):
        return f"{host}:{port} refused the connection (nothing listens there)"
    if isinstance(error, OSError) and error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"{host}:{port}: no route ({error.strerror.lower() if error.strerror else error})"
    return f"{host}:{port}: {error}"


def colon_hex(sha256: str) -> str:
    return ":".join(sha256[index : index + 2] for index in range(0, len(sha256), 2)).upper()


def idrac_finding(host: Host, timeout: float) -> Finding:
    name = f"idrac {host.name}"
    address = str(host.idrac.address)
    policy = host.idrac.tls
    context: ssl.SSLContext | None = None
    if policy.verify in ("system", "ca_bundle"):
        try:
            context = ssl.create_default_context(cafile=policy.ca_bundle)
        except OSError as error:
            return fail(
                name, f"the ca_bundle {policy.ca_bundle} could not be read: {error.strerror}", "fix idrac.tls.ca_bundle"
            )
    found = handshake(address, IDRAC_HTTPS_PORT, timeout, verify=context)
    if isinstance(found, str):
        return fail(
            name,
            found,
            f"cable the iDRAC to the management network, give it {address} and check that this machine reaches it",
        )
    fingerprint = colon_hex(found.sha256)
    if policy.verify == "fingerprint" and found.sha256 != normalise_fingerprint(str(policy.sha256_fingerprint)):
        return fail(
            name,
            f"{address} presents certificate {fingerprint}, not the one pinned in idrac.tls.sha256_fingerprint",
            "check the iDRAC's certificate on its own page or a direct cable, then pin the one it presents",
        )
    if found.refused is not None:
        return fail(
            name,
            f"{address}'s certificate is not trusted with verify: {policy.verify}: {found.refused}",
            "install a certificate your CA signed for this address, or use verify: first_use",
        )
    if policy.verify == "first_use":
        return ok(name, f"TLS on {address}:{IDRAC_HTTPS_PORT}, certificate {fingerprint} (first_use records it)")
    return ok(name, f"TLS on {address}:{IDRAC_HTTPS_PORT}, certificate {fingerprint} ({policy.verify})")


def proxmox_finding(host: Host, timeout: float) -> Finding:
    """The node's API: it must answer when the node is adopted; before an install it is only reported."""
    name = f"proxmox {host.proxmox.node}"
    endpoint = urlsplit(str(host.proxmox.api_endpoint))
    api_host = (endpoint.hostname or "").strip("[]")
    port = endpoint.port or 443
    found = handshake(api_host, port, timeout)
    if isinstance(found, str):
        if host.proxmox.install:
            return skip(name, f"not answering yet ({found}): pulumi up installs it")
        return fail(name, found, f"start the node, or correct proxmox.api_endpoint ({host.proxmox.api_endpoint})")
    return ok(name, f"the API answers TLS on {api_host}:{port}, certificate {colon_hex(found.sha256)}")


def route_source(destination: str) -> str | None:
    """The address this machine would send from to `destination`, by the routing table alone: connecting a UDP
    socket sends nothing. None when there is no route."""
    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((destination, 9))
        except OSError:
            return None
        return str(probe.getsockname()[0])


def management_finding(stack: OrionStack) -> Finding:
    """This machine has an address on the management subnet: the route to the first iDRAC leaves from one."""
    name = "management network"
    subnet = stack.networks.management.subnet
    target = str(stack.hosts[0].idrac.address)
    source = route_source(target)
    if source is None:
        return fail(
            name,
            f"no route from this machine to {target} ({subnet})",
            f"connect this machine to the management network and give it an address in {subnet}",
        )
    if ipaddress.ip_address(source) in subnet:
        return ok(name, f"this machine is {source} on {subnet}")
    return warn(
        name,
        f"this machine reaches {subnet} through a router, from {source}; the iDRAC and Proxmox fetch from serve_url",
        f"check that {subnet} reaches this machine back, or give it an address in {subnet}",
    )


def _local(address: str) -> bool | str:
    """Whether `address` is one of this machine's (a socket can bind to it), or why that is unknown."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                return False
            return str(error)
    return True


def serve_host_finding(bootstrap: Bootstrap, installs_proxmox: bool) -> Finding:  # noqa: PLR0911 - one per state
    """serve_url names this machine: Proxmox's downloads come to it, and `pulumi up` serves the installer there."""
    name = "serve_url host"
    host = bootstrap.serve_host
    try:
        addresses = sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)})
    except OSError as error:
        return fail(name, f"{host} does not resolve: {error}", "name this machine's management address in serve_url")
    local = [address for address in addresses if _local(address) is True]
    if not local:
        return fail(
            name,
            f"{host} ({', '.join(addresses)}) is not an address of this machine",
            "set bootstrap.serve_url to this machine's address on the management network",
        )
    if not installs_proxmox:
        return ok(name, f"{host} is this machine")
    port = bootstrap.media_port
    with socket.socket(socket.AF_INET6 if ":" in local[0] else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((local[0], port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return fail(
                    name,
                    f"{local[0]}:{port} (bootstrap.media_port) is taken; pulumi up serves the installer there",
                    f"stop what listens on {port}, or choose another bootstrap.media_port",
                )
            if error.errno == errno.EACCES:
                return fail(name, f"this user may not listen on {local[0]}:{port}", "choose a media_port above 1023")
            return fail(name, f"{local[0]}:{port}: {error}", "choose another bootstrap.media_port")
    return ok(name, f"{host} is this machine; port {port} is free for the installer")
