"""The Proxmox host's hardening as its first-boot hook writes it: the hook passes shellcheck, writes exactly the
files, and each file is accepted by the program that reads it (sysctl and nft in a namespace like the host's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orion_infra.model import OrionStack
from orion_infra.render.proxmox.host import FIREWALL_FILE, host_files, render_first_boot
from tests.fakes import fake_program
from tests.nix.test_shell_scripts import shellcheck
from tests.render import checkers


@pytest.mark.programs
def test_the_hook_passes_shellcheck_as_the_installer_runs_it(default_stack: OrionStack, tmp_path: Path) -> None:
    hook = render_first_boot(default_stack, default_stack.hosts[0])
    assert hook.startswith("#!/bin/sh\n")
    checked = shellcheck(hook, "sh", tmp_path)
    assert checked.returncode == 0, checked.stdout


@pytest.mark.root
def test_the_hook_writes_each_file_as_rendered(default_stack: OrionStack, tmp_path: Path) -> None:
    """Run as root in a mount namespace of its own with an empty /etc (a tmpfs) and its commands stubbed: the
    files it leaves there are the rendered files, with their modes; the machine's /etc is never touched."""
    host = default_stack.hosts[0]
    hook = tmp_path / "first-boot"
    hook.write_text(render_first_boot(default_stack, host))
    stubs = tmp_path / "bin"
    for command in ("sysctl", "nft", "systemctl", "postconf"):
        fake_program(stubs, command, f'#!/bin/sh\necho "{command} $*" >> {tmp_path}/calls\n')
    out = tmp_path / "etc"
    out.mkdir()
    done = checkers.in_namespace_with_tmpfs("/etc", f"PATH={stubs}:/usr/bin:/bin sh {hook}", left=out)
    assert done.returncode == 0, done.stdout + done.stderr
    files = host_files(default_stack, host)
    assert {"/etc/" + str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()} == {
        file.path for file in files
    }
    for file in files:
        written = out / file.path.removeprefix("/etc/")
        assert (written.read_text(), oct(written.stat().st_mode & 0o777)) == (file.content, "0o" + file.mode[1:])
    calls = (tmp_path / "calls").read_text().splitlines()
    assert f"nft -f {FIREWALL_FILE}" in calls
    assert "systemctl enable orion-host-firewall.service" in calls


@pytest.mark.root
def test_a_script_on_the_throwaway_tmpfs_never_touches_the_machine(tmp_path: Path) -> None:
    """The helper the hook's test runs in: the script sees an empty /etc, its status is the script's, what it
    leaves is copied out, and the machine's /etc has none of it; where no tmpfs can be mounted, nothing runs."""
    probe = f"orion-tmpfs-probe-{tmp_path.name}"
    left = tmp_path / "left"
    left.mkdir()
    done = checkers.in_namespace_with_tmpfs(
        "/etc", f"ls -A /etc | wc -l; echo written > /etc/{probe}; exit 3", left=left
    )
    assert (done.returncode, done.stdout.split()) == (3, ["0"]), done.stderr
    assert (left / probe).read_text() == "written\n"
    assert not (Path("/etc") / probe).exists()
    unmounted = checkers.in_namespace_with_tmpfs(str(tmp_path / "nowhere"), f"touch {tmp_path}/ran")
    assert unmounted.returncode != 0
    assert not (tmp_path / "ran").exists()


@pytest.mark.root
def test_sysctl_and_nft_accept_their_files(default_stack: OrionStack, tmp_path: Path) -> None:
    host = default_stack.hosts[0]
    files = {file.path: file.content for file in host_files(default_stack, host)}
    sysctl = tmp_path / "sysctl.conf"
    sysctl.write_text(files["/etc/sysctl.d/90-orion-host.conf"])
    bridges = [bridge.name for bridge in host.bridges]
    # Applied in a namespace holding the host's bridges: every key exists and takes its value.
    applied = checkers.in_namespace_with_interfaces(bridges, ["sysctl", "-p", str(sysctl)], {})
    assert applied.ok, applied.output
    firewall = tmp_path / "firewall.nft"
    firewall.write_text(files[FIREWALL_FILE])
    checked = checkers.nftables(firewall, bridges)
    assert checked.ok, checked.output


@pytest.mark.root
def test_a_broken_file_is_refused(tmp_path: Path) -> None:
    sysctl = tmp_path / "sysctl.conf"
    sysctl.write_text("net.ipv6.conf.all.disable_ipv7 = 1\n")
    assert not checkers.in_namespace_with_interfaces([], ["sysctl", "-p", str(sysctl)], {}).ok
    firewall = tmp_path / "firewall.nft"
    firewall.write_text("table inet orion_host { chain input { type filter hook input priority filter; drop } }\n")
    assert not checkers.nftables(firewall, []).ok


def test_services_listen_on_the_management_address(default_stack: OrionStack) -> None:
    files = {file.path: file.content for file in host_files(default_stack, default_stack.hosts[0])}
    assert 'LISTEN_IP="192.168.1.10"' in files["/etc/default/pveproxy"]
    assert "ListenAddress 192.168.1.10" in files["/etc/ssh/sshd_config.d/10-orion.conf"]
    assert 'iifname "vmbr0" accept' in files[FIREWALL_FILE]
