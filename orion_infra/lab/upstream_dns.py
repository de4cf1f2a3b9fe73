"""The internet's resolvers, as the twin's router sees them: Unbound answering DNS over TLS at the stack's upstream
addresses, with a certificate from a lab CA the router trusts, serving a root zone signed with a lab key the router
uses as its DNSSEC trust anchor. So the router's rendered Unbound runs unchanged: TLS names authenticated, answers
validated."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from orion_infra.lab import netns
from orion_infra.model.services import Dns

# Names the test zone answers; 203.0.113.0/24 is documentation space, the internet namespace's own.
WEB_NAME = "www.example."
NAME_SERVER = ipaddress.IPv4Address("203.0.113.53")


@dataclass(frozen=True)
class UpstreamDns:
    directory: Path

    @property
    def ca_certificate(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def trust_anchor(self) -> Path:
        """The signed root's DS record, in the form Unbound's `auto-trust-anchor-file` starts from."""
        return self.directory / "root.ds"

    @property
    def config(self) -> Path:
        return self.directory / "unbound.conf"

    def prepare(self, dns: Dns, web_server: ipaddress.IPv4Address) -> None:
        """Writes the CA, the server certificate, the signed zone and the upstream's configuration."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._certificates(sorted({str(upstream.tls_name) for upstream in dns.upstreams}))
        self._signed_root(web_server)
        listen = "".join(f"  interface: {upstream.address}@{upstream.port}\n" for upstream in dns.upstreams)
        self.config.write_text(
            f"""server:
  username: ""
  chroot: ""
  directory: "{self.directory}"
  pidfile: "{self.directory}/unbound.pid"
  use-syslog: no
  logfile: "{self.directory}/unbound.log"
  verbosity: 1
{listen}  tls-service-key: "{self.directory}/server.key"
  tls-service-pem: "{self.directory}/server.pem"
  tls-port: 853
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
auth-zone:
  name: "."
  zonefile: "{self.directory}/root.zone.signed"
  for-downstream: yes
  for-upstream: yes
"""
        )

    def _certificates(self, names: list[str]) -> None:
        directory = self.directory
        netns.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=ORION lab CA",
                "-keyout",
                str(directory / "ca.key"),
                "-out",
                str(self.ca_certificate),
            ]
        )
        netns.run(
            [
                "openssl",
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                f"/CN={names[0]}",
                "-keyout",
                str(directory / "server.key"),
                "-out",
                str(directory / "server.csr"),
            ]
        )
        (directory / "server.ext").write_text("subjectAltName=" + ",".join(f"DNS:{name}" for name in names) + "\n")
        netns.run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                str(directory / "server.csr"),
                "-CA",
                str(self.ca_certificate),
                "-CAkey",
                str(directory / "ca.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                str(directory / "server.ext"),
                "-out",
                str(directory / "server.pem"),
            ]
        )

    def _signed_root(self, web_server: ipaddress.IPv4Address) -> None:
        zone = self.directory / "root.zone"
        zone.write_text(
            "$ORIGIN .\n$TTL 300\n"
            ".\tIN SOA ns.internet.test. hostmaster.internet.test. 1 3600 600 86400 300\n"
            ".\tIN NS ns.internet.test.\n"
            f"ns.internet.test.\tIN A {NAME_SERVER}\n"
            f"{WEB_NAME}\tIN A {web_server}\n"
        )
        key = netns.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "."], cwd=self.directory).stdout.strip()
        netns.run(["ldns-signzone", str(zone), key], cwd=self.directory)
        self.trust_anchor.write_text((self.directory / f"{key}.ds").read_text())
