"""`orion doctor`: each check passes on a healthy site and fails, with its reason and what to do, on the one thing
broken. Every run that reaches the network runs sealed (tests/doctor/site.py): the stack's management addresses
exist only on the loopback of a network namespace made for the run, so nothing can leave this machine."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from orion_infra.cli_doctor import doctor
from orion_infra.components.proxmox import served_url
from orion_infra.components.vms import NIXOS_IMAGE
from orion_infra.doctor import images, network, tools
from orion_infra.doctor.findings import Verdict, ok
from orion_infra.doctor.run import run_probes
from orion_infra.model import load_stack, read_stack_file
from tests.doctor.sealed_doctor import tls_listener
from tests.doctor.site import (
    IDRAC,
    IMAGES,
    MEDIA_PORT,
    NIX_VERSION,
    SERVE_ADDRESS,
    SERVE_PORT,
    Site,
    healthy_site,
    tool_stub,
)
from tests.fake_pulumi import fake_pulumi
from tests.fixtures.invalid_cases import DEFAULT_STACK
from tests.redfish.emulator import openssl_sha256, self_signed_certificate


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return healthy_site(tmp_path)


# --- the healthy site, through CliRunner and as a process ---


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_healthy_site_passes_every_check(site: Site) -> None:
    result = site.doctor("--json")
    assert result.exit_code == 0, result.output + result.errors
    verdicts = result.verdicts()
    assert verdicts.pop("kvm") in ("ok", "warn")  # this machine's /dev/kvm, not the site's
    # Only the Proxmox ISO is left to `pulumi up` (it downloads it), by design.
    assert {name for name, verdict in verdicts.items() if verdict != "ok"} == {"image proxmox-ve_9.1-1.iso"}
    assert set(verdicts) >= {
        "tool pulumi",
        "tool nix",
        "tool proxmox-auto-install-assistant",
        "pulumi login",
        "pulumi stack",
        "secrets",
        "SSL_CERT_DIR",
        "serve_dir",
        *(f"image {name}" for name in IMAGES),
        "serve_url",
        *(f"served {name}" for name in IMAGES),
        "management network",
        "serve_url host",
        "idrac orion-pve",
        "proxmox orion-pve",
    }
    assert json.loads(result.output)["ok"] is True
    # Only the calls the fake knows, in the real CLI's shape (the fake exits 64 on any other).
    assert [call[:2] for call in site.pulumi.calls()] == [["whoami", "--json"], ["stack", "--show-name"]]


@pytest.mark.root  # the site runs sealed in a network namespace
def test_as_a_process_it_prints_a_line_per_check_and_exits_with_the_verdict(site: Site) -> None:
    healthy = site.doctor(mode="process")
    assert healthy.exit_code == 0, healthy.output + healthy.errors
    assert healthy.errors == ""
    lines = healthy.output.splitlines()
    assert any(line.startswith("ok    idrac orion-pve") and "first_use records it" in line for line in lines)
    assert lines[-1].startswith(f"{len([line for line in lines if line.startswith('ok ')])} ok, ")
    (site.serve_dir / "sequoia-recovery.img").unlink()
    broken = site.doctor(mode="process")
    assert broken.exit_code == 1
    failed = [line for line in broken.output.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1
    assert failed[0].split()[1:3] == ["image", "sequoia-recovery.img"]
    assert "-> put hack-sequoia-01's recovery image" in broken.output
    assert "Traceback" not in broken.output + broken.errors


# --- tools ---


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_missing_tool_fails_by_name_and_says_how_to_install_it(site: Site) -> None:
    (site.tools / "proxmox-auto-install-assistant").unlink()
    result = site.doctor("--json")
    assert result.exit_code == 1
    assert result.failed() == ["tool proxmox-auto-install-assistant"]
    check = result.checks["tool proxmox-auto-install-assistant"]
    assert check["reason"] == "not on PATH; it prepares the Proxmox installer"
    assert "Proxmox's repository" in check["action"]


@pytest.mark.root  # the site runs sealed in a network namespace
def test_with_no_tool_on_path_every_tool_check_fails(site: Site) -> None:
    empty = site.root / "empty"
    empty.mkdir()
    result = site.doctor("--json", env={"PATH": str(empty)})
    assert result.exit_code == 1
    assert {name for name in result.failed() if name.startswith("tool ")} == {
        f"tool {tool.name}" for tool in tools.TOOLS
    }
    # One failure per cause: without the CLI, the login is not judged.
    assert result.checks["pulumi login"]["verdict"] == "skip"
    assert result.checks["pulumi stack"]["verdict"] == "skip"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_the_installer_tool_is_not_needed_where_no_node_is_installed(site: Site) -> None:
    (site.tools / "proxmox-auto-install-assistant").unlink()
    _adopt_the_node(site)
    result = site.doctor("--json")
    assert result.checks["tool proxmox-auto-install-assistant"]["verdict"] == "skip"


@pytest.mark.parametrize(
    ("said", "verdict"),
    [
        (NIX_VERSION, Verdict.OK),
        ("nix (Nix) 2.18.0", Verdict.OK),
        ("nix (Nix) 2.17.1", Verdict.FAIL),
        ("nix (Nix) 2.3", Verdict.FAIL),
        ("Lix, like Nix", Verdict.WARN),
    ],
)
@pytest.mark.programs
def test_nix_is_judged_by_its_version(tmp_path: Path, said: str, verdict: Verdict) -> None:
    tool_stub(tmp_path, "nix", said)
    finding = tools.nix_finding(str(tmp_path / "nix"))
    assert finding.verdict is verdict, finding
    if verdict is Verdict.FAIL:
        assert finding.reason.endswith("the NixOS base image needs 2.18 or later")


# --- Pulumi ---


@pytest.mark.root  # the site runs sealed in a network namespace
def test_logged_out_fails_with_the_cli_s_words_and_the_stack_is_not_asked(site: Site) -> None:
    site.repulumi(user=None)
    result = site.doctor("--json")
    assert result.exit_code == 1
    assert result.failed() == ["pulumi login"]
    assert result.checks["pulumi login"]["reason"] == (
        "error: this command requires logging in; try running `pulumi login` first"
    )
    assert "pulumi login" in result.checks["pulumi login"]["action"]
    assert result.checks["pulumi stack"]["verdict"] == "skip"
    assert [call[0] for call in site.pulumi.calls()] == ["whoami"]


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_stack_the_backend_does_not_have_fails_with_pulumi_stack_init(site: Site) -> None:
    site.repulumi(stack_exists=False)
    result = site.doctor("--json")
    assert result.failed() == ["pulumi stack"]
    assert result.checks["pulumi stack"]["reason"] == "error: no stack named 'orion' found"
    assert result.checks["pulumi stack"]["action"] == f"`pulumi stack init orion` in {site.project}"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_an_unset_secret_fails_naming_its_key_and_field(site: Site) -> None:
    site.secret_keys.discard("bgpPasswordHeSecondary")
    site.write()
    result = site.doctor("--json")
    assert result.failed() == ["secrets"]
    assert result.checks["secrets"]["reason"].startswith(
        "bgp.peers[1].password: secret bgpPasswordHeSecondary is not set"
    )


@pytest.mark.root  # the site runs sealed in a network namespace
def test_ssl_cert_dir_must_name_the_trust_directory_beside_the_stack_file(site: Site) -> None:
    unset = site.doctor("--json", env={"SSL_CERT_DIR": None})
    elsewhere = site.doctor("--json", env={"SSL_CERT_DIR": "/etc/ssl/certs"})
    among_others = site.doctor("--json", env={"SSL_CERT_DIR": f"/etc/ssl/certs:{site.project}/.orion/trust"})
    expected = f"export SSL_CERT_DIR={site.project}/.orion/trust"
    assert unset.failed() == elsewhere.failed() == ["SSL_CERT_DIR"]
    assert unset.checks["SSL_CERT_DIR"]["action"] == elsewhere.checks["SSL_CERT_DIR"]["action"] == expected
    assert among_others.checks["SSL_CERT_DIR"]["verdict"] == "ok"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_missing_passphrase_is_a_warning_not_a_failure(site: Site) -> None:
    result = site.doctor("--json", env={"PULUMI_CONFIG_PASSPHRASE": None})
    assert result.exit_code == 0
    assert result.checks["pulumi passphrase"]["verdict"] == "warn"


# --- serve_dir and serve_url ---


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_proxy_in_the_environment_is_not_used_for_serve_url(site: Site) -> None:
    # Proxmox fetches from serve_url directly; a proxy (here an address of the sealed namespace where nothing
    # listens) must not stand in for the check.
    proxy = "http://192.168.1.99:3128"
    result = site.doctor("--json", env={"http_proxy": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy})
    assert result.exit_code == 0, result.output
    assert result.checks["serve_url"]["verdict"] == "ok"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_missing_serve_dir_fails(site: Site) -> None:
    site.edit((("bootstrap", "serve_dir"), str(site.root / "nowhere")))
    result = site.doctor("--json")
    assert "serve_dir" in result.failed()
    assert result.checks["serve_dir"]["reason"] == f"{site.root / 'nowhere'} does not exist"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_missing_image_fails_and_its_serving_is_not_judged(site: Site) -> None:
    (site.serve_dir / "opencore-osx-proxmox-vm.iso").unlink()
    result = site.doctor("--json")
    assert result.failed() == ["image opencore-osx-proxmox-vm.iso"]
    assert result.checks["served opencore-osx-proxmox-vm.iso"]["verdict"] == "skip"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_an_image_the_web_server_s_user_cannot_read_is_a_warning(site: Site) -> None:
    (site.serve_dir / "sequoia-recovery.img").chmod(0o600)
    result = site.doctor("--json")
    check = result.checks["image sequoia-recovery.img"]
    assert (check["verdict"], check["action"]) == ("warn", f"chmod o+r {site.serve_dir}/sequoia-recovery.img")


@pytest.mark.root  # the site runs sealed in a network namespace
def test_the_nixos_image_is_left_to_pulumi_up_when_it_is_not_built_yet(site: Site) -> None:
    (site.serve_dir / "orion-nixos-base.qcow2").unlink()
    result = site.doctor("--json")
    assert result.exit_code == 0
    assert result.checks["image orion-nixos-base.qcow2"]["verdict"] == "skip"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_served_file_of_another_size_fails(site: Site) -> None:
    site.web_root = site.root / "elsewhere"
    shutil.copytree(site.serve_dir, site.web_root)
    (site.web_root / "sequoia-recovery.img").write_bytes(b"an older one")
    result = site.doctor("--json")
    assert result.failed() == ["served sequoia-recovery.img"]
    url = f"http://{SERVE_ADDRESS}:{SERVE_PORT}/sequoia-recovery.img"
    assert result.checks["served sequoia-recovery.img"]["reason"] == (
        f"{url} has 12 bytes, {site.serve_dir}/sequoia-recovery.img has {len(IMAGES['sequoia-recovery.img'])}"
    )


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_file_the_web_server_does_not_have_fails_with_its_status(site: Site) -> None:
    site.web_root = site.root / "elsewhere"
    shutil.copytree(site.serve_dir, site.web_root)
    (site.web_root / "orion-nixos-base.qcow2").unlink()
    result = site.doctor("--json")
    assert result.failed() == ["served orion-nixos-base.qcow2"]
    assert result.checks["served orion-nixos-base.qcow2"]["reason"].endswith("answered HTTP 404")


@pytest.mark.root  # the site runs sealed in a network namespace
def test_without_a_web_server_serve_url_and_every_served_file_fail(site: Site) -> None:
    site.web = False
    result = site.doctor("--json")
    assert result.failed() == ["serve_url", *(f"served {name}" for name in IMAGES)]
    assert result.checks["serve_url"]["reason"] == f"http://{SERVE_ADDRESS}:{SERVE_PORT}/: connection refused"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_the_proxmox_iso_is_checked_against_its_pinned_sha256(site: Site) -> None:
    good = b"the proxmox installer"
    pinned = hashlib.sha256(good).hexdigest()
    site.edit(
        (("hosts", 0, "proxmox", "installer", "iso"), {"url": "https://example.invalid/pve.iso", "sha256": pinned})
    )
    (site.serve_dir / "pve.iso").write_bytes(b"a tampered installer")
    tampered = site.doctor("--json")
    (site.serve_dir / "pve.iso").write_bytes(good)
    intact = site.doctor("--json")
    assert tampered.failed() == ["image pve.iso"]
    assert f"the stack pins {pinned}" in tampered.checks["image pve.iso"]["reason"]
    assert intact.checks["image pve.iso"]["verdict"] == "ok"
    assert "served pve.iso" not in intact.checks  # the iDRAC gets it from pulumi up's own server


# --- the management network ---


@pytest.mark.root  # the site runs sealed in a network namespace
def test_without_the_management_network_every_network_check_fails_in_moments(site: Site) -> None:
    site.addresses = ["10.1.2.3/8"]  # an address, but not on 192.168.1.0/24
    site.web = False
    site.listeners = []
    result = site.doctor("--json")
    assert result.exit_code == 1
    assert set(result.failed()) == {
        "serve_url",
        *(f"served {name}" for name in IMAGES),
        "management network",
        "serve_url host",
        "idrac orion-pve",
    }
    assert result.checks["management network"]["reason"] == "no route from this machine to 192.168.1.2 (192.168.1.0/24)"
    assert (
        result.checks["serve_url host"]["reason"]
        == f"{SERVE_ADDRESS} ({SERVE_ADDRESS}) is not an address of this machine"
    )
    assert result.checks["proxmox orion-pve"]["verdict"] == "skip"  # install: true, so not running yet is expected
    assert result.seconds < 2


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_closed_idrac_port_fails(site: Site) -> None:
    site.listeners = [listener for listener in site.listeners if listener["address"] != IDRAC]
    result = site.doctor("--json")
    assert result.failed() == ["idrac orion-pve"]
    assert result.checks["idrac orion-pve"]["reason"] == f"{IDRAC}:443 refused the connection (nothing listens there)"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_silent_endpoints_cost_one_timeout_together_not_one_each(site: Site) -> None:
    site.web = False
    site.listeners = [
        {"address": IDRAC, "port": 443},
        {"address": "192.168.1.10", "port": 8006},
        {"address": SERVE_ADDRESS, "port": SERVE_PORT},
    ]
    result = site.doctor("--json", "--timeout", "1")
    assert set(result.failed()) == {"idrac orion-pve", "serve_url", *(f"served {name}" for name in IMAGES)}
    assert result.checks["idrac orion-pve"]["reason"] == (
        f"{IDRAC}:443 accepted the connection but no TLS handshake within 1 s"
    )
    assert result.checks["serve_url"]["reason"].endswith("no answer (timed out)")
    # Six checks wait on silent peers; one after the other they would take six seconds.
    assert 1 <= result.seconds < 2.5, result.seconds


@pytest.mark.root  # the site runs sealed in a network namespace
def test_an_idrac_presenting_another_certificate_than_the_pinned_one_fails(site: Site) -> None:
    other, _ = self_signed_certificate(site.root, "other")
    pin = {"verify": "fingerprint", "sha256_fingerprint": openssl_sha256(other)}
    site.edit((("hosts", 0, "idrac", "tls"), pin))
    wrong = site.doctor("--json")
    site.edit((("hosts", 0, "idrac", "tls"), {**pin, "sha256_fingerprint": openssl_sha256(site.cert)}))
    right = site.doctor("--json")
    assert wrong.failed() == ["idrac orion-pve"]
    assert f"presents certificate {openssl_sha256(site.cert)}" in wrong.checks["idrac orion-pve"]["reason"]
    assert right.checks["idrac orion-pve"]["verdict"] == "ok"


@pytest.mark.root  # the site runs sealed in a network namespace
def test_an_idrac_no_ca_vouches_for_fails_with_verify_system(site: Site) -> None:
    site.edit((("hosts", 0, "idrac", "tls"), {"verify": "system"}))
    result = site.doctor("--json")
    assert result.failed() == ["idrac orion-pve"]
    assert "not trusted with verify: system" in result.checks["idrac orion-pve"]["reason"]


@pytest.mark.root  # the site runs sealed in a network namespace
def test_an_adopted_node_s_api_must_answer(site: Site) -> None:
    _adopt_the_node(site)
    answering = site.doctor("--json")
    site.listeners = [listener for listener in site.listeners if listener["port"] != 8006]
    silent = site.doctor("--json")
    assert answering.checks["proxmox orion-pve"]["verdict"] == "ok"
    assert silent.failed() == ["proxmox orion-pve"]
    assert (
        silent.checks["proxmox orion-pve"]["reason"]
        == "192.168.1.10:8006 refused the connection (nothing listens there)"
    )


@pytest.mark.root  # the site runs sealed in a network namespace
def test_a_taken_installer_port_fails(site: Site) -> None:
    site.listeners = [*site.listeners, {"address": SERVE_ADDRESS, "port": MEDIA_PORT}]
    result = site.doctor("--json")
    assert result.failed() == ["serve_url host"]
    assert f"{SERVE_ADDRESS}:{MEDIA_PORT} (bootstrap.media_port) is taken" in result.checks["serve_url host"]["reason"]


def _adopt_the_node(site: Site) -> None:
    public_key = (DEFAULT_STACK.parent / "tests/fixtures/keys/example-deploy.pub").read_text().strip()
    site.secret_keys.add("proxmoxRootPassword")
    site.edit(
        (("hosts", 0, "proxmox", "install"), False),
        (("hosts", 0, "proxmox", "ssh_host_key"), public_key),
        (("hosts", 0, "proxmox", "root_password"), {"secret": "proxmoxRootPassword"}),
    )


# --- no network: usage, a broken stack file, the functions on loopback ---


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--stack-file", "/nonexistent/Pulumi.orion.yaml"], "does not exist"),
        (["--timeout", "0"], "--timeout"),
        (["--verbose"], "No such option"),
    ],
)
def test_usage_errors_exit_2_before_checking_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], complaint: str
) -> None:
    pulumi = fake_pulumi(tmp_path, tmp_path / "Pulumi.orion.yaml")
    monkeypatch.setenv("PATH", pulumi.path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Pulumi.orion.yaml").write_text("config: {}\n")
    result = CliRunner().invoke(doctor, args)
    assert result.exit_code == 2, result.output
    assert complaint in result.output
    assert pulumi.calls() == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("config:\n  orion:hosts: [\n", "Pulumi.orion.yaml:3:1: expected the node content"),
        ("config:\n  orion:hosts: []\n", "hosts: "),
    ],
)
def test_a_broken_stack_file_fails_and_nothing_goes_to_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    stack_file = tmp_path / "Pulumi.orion.yaml"
    stack_file.write_text(text)
    monkeypatch.setenv("PATH", fake_pulumi(tmp_path, stack_file).path)
    result = CliRunner().invoke(doctor, ["--stack-file", str(stack_file), "--json"])
    assert result.exit_code == 1, result.output
    checks = {check["name"]: check for check in json.loads(result.output)["checks"]}
    assert checks["stack file"]["verdict"] == "fail"
    assert reason in checks["stack file"]["reason"]
    assert checks["site"]["verdict"] == "skip"
    assert not any(name.startswith(("idrac", "proxmox", "serve", "management")) for name in checks)


@pytest.mark.programs
def test_the_doctor_loads_no_pulumi() -> None:
    code = "import sys, orion_infra.cli_doctor; print(sorted(m for m in sys.modules if m.startswith('pulumi')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_image_names_and_urls_are_the_deploy_s_own() -> None:
    stack, _ = load_stack(read_stack_file(DEFAULT_STACK))
    assert images.NIXOS_IMAGE == NIXOS_IMAGE
    assert images.served_url(stack.bootstrap, "x.iso") == served_url(stack.bootstrap, "x.iso")


@pytest.fixture
def tls_on_loopback(tmp_path: Path) -> Iterator[tuple[int, str]]:
    cert, key = self_signed_certificate(tmp_path, "loopback")
    server = tls_listener("127.0.0.1", 0, str(cert), str(key))
    yield server.getsockname()[1], openssl_sha256(cert)
    server.shutdown(socket.SHUT_RDWR)  # wakes the listener's accept(); close() alone does not
    server.close()


@pytest.mark.programs
def test_a_handshake_reads_the_certificate_and_a_closed_port_is_named(tls_on_loopback: tuple[int, str]) -> None:
    port, fingerprint = tls_on_loopback
    found = network.handshake("127.0.0.1", port, 2)
    assert isinstance(found, network.Handshake)
    assert network.colon_hex(found.sha256) == fingerprint
    with socket.create_server(("127.0.0.1", 0)) as closed:
        closed_port = closed.getsockname()[1]
    assert network.handshake("127.0.0.1", closed_port, 2) == (
        f"127.0.0.1:{closed_port} refused the connection (nothing listens there)"
    )


class _NoHead(http.server.BaseHTTPRequestHandler):
    """A server that refuses HEAD (501, as http.server's base does) and answers a range with 206."""

    def do_GET(self) -> None:
        self.send_response(206)
        self.send_header("Content-Range", "bytes 0-0/4096")
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"x")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_server_refusing_head_is_asked_for_one_byte_and_its_total_size_read() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoHead)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        assert images.head(f"http://127.0.0.1:{server.server_port}/image.iso", 2) == (200, 4096)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_check_that_breaks_is_one_failed_finding_and_the_others_still_report() -> None:
    def broken() -> list[Any]:
        raise ZeroDivisionError("division by zero")

    findings = run_probes([lambda: [ok("first", "fine")], broken, lambda: [ok("last", "fine")]])
    assert [(finding.name, finding.verdict) for finding in findings] == [
        ("first", Verdict.OK),
        ("orion doctor", Verdict.FAIL),
        ("last", Verdict.OK),
    ]
    assert findings[1].reason == "the check itself failed: ZeroDivisionError: division by zero"
