"""The host keys the deploy makes: OpenSSH reads them as what they claim to be, the same seed always gives the same
bytes, and the VM's first-boot script (as NixOS installs it) installs exactly the key its user data carries, and
refuses user data that is broken or whose halves do not match."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from orion_infra.lab.shell_application import shell_application
from orion_infra.render.host_keys import first_boot_user_data, host_key, known_hosts_line
from tests.nix.nix_reader import module_list_values, module_values
from tests.nix.test_shell_scripts import shellcheck
from tests.render.checkers import in_namespace_with_tmpfs

ROOT = Path(__file__).resolve().parents[2]
SEED = base64.b64encode(bytes(range(32))).decode()
OTHER_SEED = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.mark.programs
def test_openssh_reads_the_private_key_and_derives_the_public_line(tmp_path: Path) -> None:
    key = host_key(SEED, "orion-router")
    private = tmp_path / "key"
    private.write_text(key.private_openssh)
    private.chmod(0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == key.public_line.split()[:2]
    assert key.public_line.endswith(" orion-router")
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(private)], capture_output=True, text=True, check=True
    ).stdout
    assert fingerprint.rstrip().endswith("orion-router (ED25519)")


def test_the_same_seed_gives_the_same_key_and_another_seed_another() -> None:
    assert host_key(SEED, "a") == host_key(SEED, "a")
    assert host_key(SEED, "a").public_key != host_key(OTHER_SEED, "a").public_key


def test_a_seed_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes, got 16"):
        host_key(base64.b64encode(bytes(16)).decode(), "a")


def test_known_hosts_lists_the_key_without_its_comment() -> None:
    key = host_key(SEED, "orion-router")
    assert known_hosts_line("192.168.1.1", key) == f"192.168.1.1 {' '.join(key.public_line.split()[:2])}\n"


def run_first_boot(tmp_path: Path, user_data: str | None, existing_key: str | None = None) -> tuple[int, str, Path]:
    """orion-host-key as NixOS installs it, as root in a mount namespace of its own whose /etc/ssh is an empty
    tmpfs (the machine's is never touched); returns its exit status, its output and what it left in /etc/ssh."""
    script = tmp_path / "orion-host-key"
    script.write_text(shell_application((ROOT / "nix" / "scripts" / "orion-host-key").read_text()))
    seed = tmp_path / "seed"
    seed.mkdir()
    if user_data is not None:
        (seed / "user-data").write_text(user_data)
        # As the VM's mount of its cloud-init drive shows it (orion-host-key.nix): root's alone.
        (seed / "user-data").chmod(0o400)
    seed.chmod(0o500)
    left = tmp_path / "left"
    left.mkdir()
    prepare = f"printf '%s' '{existing_key}' > /etc/ssh/ssh_host_ed25519_key && " if existing_key else ""
    done = in_namespace_with_tmpfs("/etc/ssh", f"{prepare}SEED_DIR={seed} bash {script}", left=left)
    return done.returncode, done.stdout + done.stderr, left


@pytest.mark.root
def test_the_first_boot_installs_the_key_the_user_data_carries(tmp_path: Path) -> None:
    key = host_key(SEED, "orion-router")
    status, output, left = run_first_boot(tmp_path, first_boot_user_data(key))
    assert status == 0, output
    assert (left / "ssh_host_ed25519_key").read_text() == key.private_openssh
    assert (left / "ssh_host_ed25519_key").stat().st_mode & 0o777 == 0o600
    assert (left / "ssh_host_ed25519_key.pub").read_text() == key.public_line + "\n"
    assert sorted(path.name for path in left.iterdir()) == ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]


@pytest.mark.root
def test_a_key_in_place_is_kept(tmp_path: Path) -> None:
    status, output, left = run_first_boot(tmp_path, first_boot_user_data(host_key(SEED, "a")), existing_key="old")
    assert (status, (left / "ssh_host_ed25519_key").read_text()) == (0, "old")
    assert "kept" in output


@pytest.mark.parametrize(
    ("user_data", "message"),
    [
        (None, "no user data at"),
        ("#cloud-config\nssh_keys: {}\n", "is not an unencrypted OpenSSH key"),
        (
            first_boot_user_data(host_key(SEED, "a")).replace(
                host_key(SEED, "a").public_line, host_key(OTHER_SEED, "a").public_line
            ),
            "is not the private key's public half",
        ),
    ],
)
@pytest.mark.root
def test_broken_user_data_installs_nothing(tmp_path: Path, user_data: str | None, message: str) -> None:
    status, output, left = run_first_boot(tmp_path, user_data)
    assert status != 0
    assert message in output
    assert list(left.iterdir()) == []


MODULE = ROOT / "nix" / "modules" / "orion-host-key.nix"
ROCK_RIDGE_MODE = 0o644
"""The modes Proxmox's cloud-init drive records for its files (genisoimage -R keeps the snippet's)."""


def isofs_file(options: str, rock_ridge_mode: int, rock_ridge_uid: int) -> tuple[int, int]:
    """The mode and owner Linux's isofs gives a regular file that Rock Ridge records with `rock_ridge_mode` and
    `rock_ridge_uid`, mounted with `options` (fs/isofs/inode.c, isofs_read_inode, read at torvalds/linux 00ed905a:
    Rock Ridge's values win unless uid= is given, and unless overriderockperm with mode=; numbers are parsed with
    base 0, so a leading 0 is octal)."""
    flags = {option.split("=")[0]: option.partition("=")[2] for option in options.split(",")}
    assert "norock" not in flags, "norock shows ISO 9660's own 8.3 names: user-data would not be found"
    mode, uid = rock_ridge_mode, rock_ridge_uid
    if "uid" in flags:
        uid = int(flags["uid"], 0)
    if "overriderockperm" in flags and "mode" in flags:
        mode = int(flags["mode"], 8) if flags["mode"].startswith("0") else int(flags["mode"])
    return mode, uid


def test_the_drive_is_root_only_and_mounted_only_while_the_key_is_installed() -> None:
    (mount,) = module_list_values(MODULE.read_text(), ("systemd", "mounts"))
    service = module_values(MODULE.read_text())
    assert (mount[("what",)], mount[("type",)]) == ("/dev/disk/by-label/cidata", "iso9660")
    options = str(mount[("options",)])
    assert "ro" in options.split(",")
    assert "nojoliet" not in options.split(",")
    assert isofs_file(options, ROCK_RIDGE_MODE, rock_ridge_uid=1000) == (0o400, 0)
    # Not at all once the key is in place; unmounted when the one-shot service that requires it is done.
    condition = ("unitConfig", "ConditionPathExists")
    assert mount[condition] == service[("systemd", "services", "orion-host-key", *condition)]
    assert mount[condition] == "!/etc/ssh/ssh_host_ed25519_key"
    assert mount[("unitConfig", "StopWhenUnneeded")] is True
    assert service[("systemd", "services", "orion-host-key", "serviceConfig", "Type")] == "oneshot"


def test_a_mount_that_leaves_the_key_readable_is_caught() -> None:
    assert isofs_file("ro", ROCK_RIDGE_MODE, 0) == (0o644, 0)
    assert isofs_file("ro,mode=0400", ROCK_RIDGE_MODE, 0) == (0o644, 0)
    with pytest.raises(AssertionError, match=r"8\.3 names"):
        isofs_file("ro,norock,mode=0400", ROCK_RIDGE_MODE, 0)


@pytest.mark.programs
def test_the_script_passes_shellcheck_as_nixpkgs_checks_it(tmp_path: Path) -> None:
    checked = shellcheck(shell_application((ROOT / "nix" / "scripts" / "orion-host-key").read_text()), "bash", tmp_path)
    assert checked.returncode == 0, checked.stdout
