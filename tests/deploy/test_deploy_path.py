"""The configuration push of `pulumi up`, step by step as its Command resources run it (secrets, files, trial,
confirm), over real SSH as the VM's unprivileged admin user, against VMs set up as the base image sets them up.
Only nixos-rebuild is a stand-in, as strict as the real one, and the systems it builds run as NixOS runs them."""

from __future__ import annotations

import base64
import json
import re
import time

from orion_infra.lab import netns, systems
from orion_infra.lab.machine import Machine
from orion_infra.render.host_keys import host_key, known_hosts_line
from tests.deploy.conftest import TRIAL_SECONDS, Deploy

PROFILE = "/nix/var/nix/profiles/system"


def with_marker(flake: dict[str, str], name: str, marker: str) -> dict[str, str]:
    """`flake` with a comment added to one of its files: a new configuration, and a way to tell it is live."""
    return {**flake, name: flake[name] + f"# {marker}\n"}


def current(machine: Machine) -> str:
    return systems.current_system(machine)


def boot_default(machine: Machine) -> str:
    return machine.run("readlink", "-f", PROFILE).strip()


def router_name(deploy: Deploy) -> str:
    return f"{deploy.twin.stack.router.name}.{deploy.twin.stack.dns.domain}"


def wait_for_state(deploy: Deploy, machine: Machine, state: str, timeout: float) -> float:
    return netns.wait_until(
        lambda: deploy.status(machine).startswith(state),
        timeout=timeout,
        failure=f"orion-trial never reached {state} (it says {deploy.status(machine)})",
    )


def test_a_router_configuration_is_trialled_confirmed_and_committed(deploy: Deploy) -> None:
    twin, router = deploy.twin, deploy.twin.router
    before = current(router)
    flake = with_marker(twin.flake("router"), "host/bird.conf", "first push")
    flake_digest = deploy.push(router, flake, twin.router_secrets)
    # Staged as the admin user, in its own directory, under the digest.
    staged = router.run("stat", "-c", "%U %a", f"/home/{twin.stack.access.admin_user}/.orion/{flake_digest}")
    assert staged.split() == [twin.stack.access.admin_user, "700"]

    trial = deploy.trial(router, flake_digest)
    assert trial.returncode == 0, trial.stderr
    system = current(router)
    assert system != before
    assert deploy.status(router) == f"trial {system}"

    confirmed = deploy.confirm(router, flake_digest, router_name(deploy))
    assert confirmed.returncode == 0, confirmed.stderr
    assert deploy.status(router) == f"committed {system}"
    assert boot_default(router) == system
    assert "# first push" in router.path("/etc/nixos/orion/host/bird.conf").read_text()
    assert router.run("stat", "-c", "%U", "/etc/nixos/orion/host/bird.conf").strip() == "root"

    # A retried step confirms again without failing, and the committed system outlives the window.
    again = deploy.confirm(router, flake_digest, router_name(deploy))
    assert again.returncode == 0, again.stderr
    assert "committed already" in again.stdout
    time.sleep(TRIAL_SECONDS + 1)
    assert current(router) == system
    twin.wait_for_sessions(timeout=60)


def test_secrets_are_root_only_and_each_service_reads_exactly_its_own(deploy: Deploy) -> None:
    router = deploy.twin.router
    secrets_root = str(deploy.twin.options.secrets_dir)
    secrets_dir = f"{secrets_root}/{deploy.twin.secrets_generations['router']}"
    for directory in (secrets_root, secrets_dir):
        assert router.run("stat", "-c", "%U %a", directory).split() == ["root", "700"]
    listing = router.run("sh", "-c", f"stat -c '%n %U %a' {secrets_dir}/*").splitlines()
    assert listing
    assert all(line.split()[1:] == ["root", "600"] for line in listing)
    credential = "/run/credentials/bird.service/bgp-he-primary.conf"
    assert router.run("stat", "-c", "%U %a", credential).split() == ["bird", "400"]
    assert router.run("stat", "-c", "%U %a", "/run/credentials/bird.service").split() == ["bird", "500"]
    assert deploy.ssh(router, f"cat {secrets_dir}/bgp-he-primary.conf").returncode != 0
    assert deploy.ssh(router, f"cat {credential}").returncode != 0


def test_a_slow_build_stays_under_probation_and_is_switched_back(deploy: Deploy) -> None:
    """The build comes first: a build slower than the window delays the trial, it does not run the window out,
    and the system it built is switched back when nobody confirms it."""
    twin, router = deploy.twin, deploy.twin.router
    before, default = current(router), boot_default(router)
    slow = router.path("/etc/orion-lab/nixos-rebuild.json")
    slow.write_text(json.dumps({"build_seconds": TRIAL_SECONDS + 2}))
    try:
        flake_digest = deploy.push(router, with_marker(twin.flake("router"), "host/bird.conf", "slow"), {})
        started = time.monotonic()
        trial = deploy.trial(router, flake_digest)
        took = time.monotonic() - started
    finally:
        slow.unlink()
    assert trial.returncode == 0, trial.stderr
    assert took > TRIAL_SECONDS + 2
    tried = current(router)
    assert tried != before
    assert deploy.status(router) == f"trial {tried}"
    waited = wait_for_state(deploy, router, "rolled-back", timeout=TRIAL_SECONDS + 10)
    assert waited <= TRIAL_SECONDS + 5
    assert deploy.status(router) == f"rolled-back {tried}"
    assert current(router) == before
    assert boot_default(router) == default
    twin.wait_for_sessions(timeout=60)


def test_a_confirmation_that_came_too_late_starts_the_trial_again(deploy: Deploy) -> None:
    """A retried `pulumi up` after a failed confirmation: the trial runs again (the step fails: a connection made
    before that switch proves nothing), and the next confirmation keeps it."""
    twin, router = deploy.twin, deploy.twin.router
    flake_digest = deploy.push(router, with_marker(twin.flake("router"), "host/bird.conf", "late"), {})
    assert deploy.trial(router, flake_digest).returncode == 0
    tried = current(router)
    wait_for_state(deploy, router, "rolled-back", timeout=TRIAL_SECONDS + 10)
    late = deploy.confirm(router, flake_digest, router_name(deploy))
    assert late.returncode == 1
    assert "it runs again: run pulumi up again to confirm it" in late.stderr
    assert deploy.status(router) == f"trial {tried}"
    confirmed = deploy.confirm(router, flake_digest, router_name(deploy))
    assert confirmed.returncode == 0, confirmed.stderr
    assert deploy.status(router) == f"committed {tried}"
    twin.wait_for_sessions(timeout=60)


def test_a_configuration_that_cuts_management_is_switched_back_by_itself(deploy: Deploy) -> None:
    twin, router = deploy.twin, deploy.twin.router
    before = current(router)
    flake = twin.flake("router")
    ruleset = flake["host/nftables.nft"]
    management_ssh = re.compile(r'^\s*iifname "mgmt" ip saddr \S+ tcp dport .*accept$', re.MULTILINE)
    assert management_ssh.search(ruleset)
    flake = {**flake, "host/nftables.nft": management_ssh.sub("    # the management network's SSH, gone", ruleset)}
    flake_digest = deploy.push(router, flake, {})
    trial = deploy.trial(router, flake_digest)
    assert trial.returncode == 0, trial.stderr
    cut_off = deploy.confirm(router, flake_digest, router_name(deploy))
    assert cut_off.returncode == 255  # ssh could not connect: nothing confirmed it
    wait_for_state(deploy, router, "rolled-back", timeout=TRIAL_SECONDS + 10)
    assert current(router) == before
    assert deploy.ssh(router, "true").returncode == 0
    twin.wait_for_sessions(timeout=60)


def test_a_system_whose_unit_fails_is_switched_back_at_once(deploy: Deploy) -> None:
    """The new system gives BIRD a credential the deploy never wrote (a session added without its password):
    systemd fails bird.service, switch-to-configuration returns 4, and orion-trial switches back before the trial
    command returns."""
    twin, router = deploy.twin, deploy.twin.router
    before = current(router)
    flake = twin.flake("router")
    host = json.loads(flake["host/host.json"])
    host["credentials"]["bird"].append("bgp-he-quaternary.conf")
    flake_digest = deploy.push(router, {**flake, "host/host.json": json.dumps(host)}, {})
    trial = deploy.trial(router, flake_digest)
    assert trial.returncode == 1
    assert "failed to switch; switching back now" in trial.stderr
    assert deploy.status(router).startswith("rolled-back ")
    assert current(router) == before
    twin.wait_for_sessions(timeout=60)


def test_the_monitoring_vm_takes_its_configuration_the_same_way(deploy: Deploy) -> None:
    twin, monitor = deploy.twin, deploy.twin.monitor
    flake = with_marker(twin.flake("monitor"), "host/prometheus.yml", "monitor push")
    flake_digest = deploy.push(monitor, flake, twin.monitor_secrets)
    trial = deploy.trial(monitor, flake_digest)
    assert trial.returncode == 0, trial.stderr
    confirmed = deploy.confirm(monitor, flake_digest, None)
    assert confirmed.returncode == 0, confirmed.stderr
    assert deploy.status(monitor) == f"committed {current(monitor)}"
    twin.wait_for_agent()
    assert twin.agent("health")["status"] in ("ok", "degraded")


def test_the_stand_in_build_is_as_strict_as_nixos_rebuild(deploy: Deploy) -> None:
    twin, router = deploy.twin, deploy.twin.router
    build = "cd /tmp && nixos-rebuild build --flake {}#orion"
    # The admin user builds; a flake it cannot read does not build.
    router.run("sh", "-c", "mkdir -p -m 0700 /var/lib/private-flake && cp -R /etc/nixos/orion /var/lib/private-flake/")
    unreadable = deploy.ssh(router, build.format("/var/lib/private-flake/orion"))
    assert unreadable.returncode == 1
    assert "is not a flake" in unreadable.stderr or "cannot read" in unreadable.stderr
    flake = twin.flake("router")
    host = json.loads(flake["host/host.json"])
    for broken, expected in (
        ({"host/host.json": json.dumps({**host, "nixos_release": "26.05"})}, "asks for NixOS 26.05"),
        ({"flake.lock": '{"nodes": {"root": {}}, "root": "root", "version": 7}'}, "locks no nixpkgs"),
        ({"nix/modules/orion-router.nix": "{ config, ... }: {"}, "error"),
    ):
        flake_digest = deploy.push(router, {**flake, **broken}, {})
        path = f"/home/{twin.stack.access.admin_user}/.orion/{flake_digest}"
        refused = deploy.ssh(router, build.format(path))
        assert refused.returncode == 1, refused.stderr
        assert expected in refused.stderr


def test_the_vms_present_the_host_keys_the_deploy_made_and_another_key_is_refused(deploy: Deploy) -> None:
    """Every deploy connection pins the key made before the VM first booted; a VM that answers with any other key
    (a man in the middle, or a VM that made its own) is refused before anything runs there."""
    twin = deploy.twin
    for machine in (twin.router, twin.monitor):
        key = twin.host_key(machine)
        assert machine.path("/etc/ssh/ssh_host_ed25519_key.pub").read_text().strip() == key.public_line
        assert deploy.ssh(machine, "true").returncode == 0
    impostor = twin.root / "impostor-known-hosts"
    other = host_key(base64.b64encode(bytes(32)).decode(), "impostor")
    impostor.write_text(known_hosts_line("192.168.1.1", other))
    marker = f"/home/{twin.stack.access.admin_user}/reached"
    refused = deploy.ssh(twin.router, f"touch {marker}", known_hosts=impostor)
    assert refused.returncode == 255
    assert "Host key verification failed" in refused.stderr
    assert not twin.router.path(marker).exists()


def bird_credential(router: Machine, peer: str) -> str:
    return router.path(f"/run/credentials/bird.service/bgp-{peer}.conf").read_text()


def test_a_rotated_secret_reaches_bird_and_a_switch_back_returns_to_the_old_one(deploy: Deploy) -> None:
    """A new BGP password is a new set of secrets, read by a new system: the trial's BIRD has it; when the trial is
    switched back, BIRD reads the set the older system read, which the new set did not overwrite."""
    twin, router = deploy.twin, deploy.twin.router
    peer = twin.stack.bgp.peers[0].name
    before, old_generation = current(router), twin.secrets_generations["router"]
    old_password = bird_credential(router, peer)
    original = twin.passwords[peer]
    twin.passwords[peer] = "a-rotated-md5-password"
    twin.secrets_generations["router"] = "f00dfeedf00dfeed"
    try:
        flake_digest = deploy.push(router, twin.flake("router"), twin.router_secrets)
        assert deploy.trial(router, flake_digest).returncode == 0
        assert current(router) != before
        assert "a-rotated-md5-password" in bird_credential(router, peer)
        secrets_dir = twin.options.secrets_dir
        assert router.run("ls", str(secrets_dir)).split() == sorted([old_generation, "f00dfeedf00dfeed"])
        wait_for_state(deploy, router, "rolled-back", timeout=TRIAL_SECONDS + 10)
        assert current(router) == before
        assert bird_credential(router, peer) == old_password
    finally:
        twin.passwords[peer] = original
        twin.secrets_generations["router"] = old_generation
    twin.wait_for_sessions(timeout=60)


def test_rejected_rotations_never_remove_the_set_the_running_system_reads(deploy: Deploy) -> None:
    """Three rotations switched back in a row, then one confirmed: the running (and boot default) system's set is
    never removed while it is in use, and the confirmation forgets the sets no committed system reads."""
    twin, router = deploy.twin, deploy.twin.router
    peer = twin.stack.bgp.peers[0].name
    secrets_dir = str(twin.options.secrets_dir)
    # The running system and its set were committed by this module's first test, as a first deploy commits them.
    running_generation = twin.secrets_generations["router"]
    original = twin.passwords[peer]
    rejected = []
    try:
        for attempt in range(3):
            twin.passwords[peer] = f"rejected-password-{attempt}"
            twin.secrets_generations["router"] = generation = f"{attempt:016x}"
            rejected.append(generation)
            flake_digest = deploy.push(router, twin.flake("router"), twin.router_secrets)
            assert deploy.trial(router, flake_digest).returncode == 0
            wait_for_state(deploy, router, "rolled-back", timeout=TRIAL_SECONDS + 10)
            assert running_generation in router.run("ls", secrets_dir).split()
            assert bird_credential(router, peer) == router.run(
                "cat", f"{secrets_dir}/{running_generation}/bgp-{peer}.conf"
            )
        twin.passwords[peer] = "the-confirmed-password"
        twin.secrets_generations["router"] = confirmed = "c0ffee00c0ffee00"
        flake_digest = deploy.push(router, twin.flake("router"), twin.router_secrets)
        assert deploy.trial(router, flake_digest).returncode == 0
        done = deploy.confirm(router, flake_digest, router_name(deploy))
        assert done.returncode == 0, done.stderr
        left = set(router.run("ls", secrets_dir).split())
        assert confirmed in left
        assert running_generation in left  # the system committed before: a switch back, or the boot menu, finds it
        assert not left & set(rejected)
        assert "the-confirmed-password" in bird_credential(router, peer)
    finally:
        twin.passwords[peer] = original
