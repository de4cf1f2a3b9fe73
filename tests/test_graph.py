"""The whole `pulumi up` graph of the default stack, under the recording mock monitor: what is created, under
which parent, in which order, with which provider, protected where stateful, and never a secret in the clear."""

from __future__ import annotations

import base64
import datetime
import json
from collections import Counter

import pytest

from orion_infra.components.scripts import digest
from orion_infra.model import RawConfig, load_stack, read_stack_file
from orion_infra.render import render_all, system_files
from orion_infra.render.host_keys import HostKey, first_boot_user_data, host_key, known_hosts_line
from orion_infra.render.options import PublicKeys
from tests.fixtures.invalid_cases import DEFAULT_STACK
from tests.keys import private_key
from tests.pulumi_harness import ProgramRun, PulumiUp, Registration, name_trust_anchors, up_under_mocks
from tests.test_program import SECRETS

EXPECTED_COUNTS = {
    # deploy public key, installer ISO, Proxmox ready, the node's API trust anchor, NixOS image, 2 macOS checksums
    "command:local:Command": 7,
    # on the node: its API's CA, the API token; per NixOS VM: its first-boot data, secrets, files, trial, confirm
    "command:remote:Command": 12,
    "proxmoxve:network/linux/bridge:Bridge": 5,
    "proxmoxve:download/file:File": 3,
    "proxmoxve:index/vmLegacy:VmLegacy": 3,
    "proxmoxve:backup/job:Job": 1,
    "pulumi:providers:proxmoxve": 2,
    "random:index/randomPassword:RandomPassword": 4,  # iDRAC root, Proxmox root, Grafana admin and secret key
    "random:index/randomBytes:RandomBytes": 3,  # SSH host key seeds: the Proxmox node, the router, the monitor
    "random:index/randomId:RandomId": 2,  # the generation of each NixOS VM's set of secrets
    "orion:idrac:IdracHost": 1,
    "orion:proxmox:Installer": 1,
    "orion:proxmox:Node": 1,
    "orion:vm:NixosVm": 2,
    "orion:vm:MacosVm": 1,
    "orion:nixos:Config": 2,
    "pulumi-python:dynamic/idrac:TlsIdentity": 1,  # the new iDRAC's certificate, recorded on first contact
    "pulumi-python:dynamic/idrac:RootPassword": 1,
    "pulumi-python:dynamic/idrac:SystemInfo": 1,
    "pulumi-python:dynamic/idrac:VirtualMedia": 1,
    "pulumi-python:dynamic/idrac:BootOnce": 1,
    "pulumi-python:dynamic/idrac:PowerState": 1,
}


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    """One `pulumi up` of the default stack for the tests that only read what it registered (a run is about 0.3 s,
    and no test changes it)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        name_trust_anchors(monkeypatch)
        result = up_under_mocks(read_stack_file(DEFAULT_STACK).values, SECRETS)
    assert result.error is None, result.log
    return result


def waits_for(run: ProgramRun, later: str, earlier: str) -> bool:
    """Whether `later` (transitively) depends on `earlier`."""
    by_urn = {r.urn: r for r in run.registrations}
    target = run.by_name(earlier).urn
    seen: set[str] = set()
    todo = list(run.by_name(later).dependencies)
    while todo:
        urn = todo.pop()
        if urn == target:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies)
    return False


def test_every_expected_resource(run: ProgramRun) -> None:
    assert Counter(r.type for r in run.registrations) == EXPECTED_COUNTS


def test_parents(run: ProgramRun) -> None:
    def parent(name: str) -> Registration:
        return next(r for r in run.registrations if r.urn == run.by_name(name).parent)

    assert parent("orion-pve-proxmox-vmbr0").name == "orion-pve-proxmox"
    assert parent("orion-pve-installer-iso").name == "orion-pve-installer"
    assert parent("orion-router-vm").name == "orion-router"
    assert parent("hack-sequoia-01-root-api").name == "hack-sequoia-01"
    assert parent("orion-router-config-trial").name == "orion-router-config"


@pytest.mark.parametrize(
    ("later", "earlier"),
    [
        ("orion-pve-installer-media", "orion-pve-installer-iso"),  # the ISO exists before the iDRAC mounts it
        ("orion-pve-proxmox-ready", "orion-pve-power"),  # the host boots the installer, then the API answers
        ("orion-pve-proxmox-api", "orion-pve-proxmox-ready"),  # nothing talks to Proxmox before it is installed
        ("orion-pve-proxmox-vmbr1", "orion-pve-proxmox-ready"),
        ("orion-router-vm", "orion-pve-proxmox-vmbr4"),  # bridges before VMs
        ("hack-sequoia-01-vm", "orion-pve-proxmox-vmbr1"),
        ("orion-router-config-files", "orion-router-vm"),  # VMs before the configuration push
        ("orion-router-config-trial", "orion-router-config-files"),  # the flake is staged before the build
        ("orion-router-config-trial", "orion-router-config-secrets"),
        ("orion-router-config-confirm", "orion-router-config-trial"),
        ("orion-monitor-config-trial", "orion-monitor-config-files"),
        ("orion-monitor-config-confirm", "orion-monitor-config-trial"),
        ("nixos-base-image", "deploy-public-key"),  # the image carries the deploy key's public half
        ("orion-monitor-config-files", "orion-router-config-confirm"),  # the monitor is reached through the router
        ("backup", "orion-router-vm"),
    ],
)
def test_dependency_order(run: ProgramRun, later: str, earlier: str) -> None:
    assert waits_for(run, later, earlier)


def test_the_root_provider_serves_the_macos_vm_alone(run: ProgramRun) -> None:
    root_api = run.by_name("hack-sequoia-01-root-api")
    users = [r.name for r in run.registrations if r.provider.startswith(root_api.urn)]
    assert users == ["hack-sequoia-01-vm"]
    assert run.by_name("hack-sequoia-01-vm").inputs["kvmArguments"].startswith("-device isa-applesmc")
    assert root_api.inputs["username"] == "root@pam"
    assert run.by_name("hack-sequoia-01-root-api").inputs["insecure"] == "false"
    api = run.by_name("orion-pve-proxmox-api")
    assert run.by_name("orion-router-vm").provider.startswith(api.urn)
    assert run.by_name("orion-pve-proxmox-vmbr0").provider.startswith(api.urn)


def test_stateful_vms_are_protected(run: ProgramRun) -> None:
    for name in ("orion-router-vm", "orion-monitor-vm", "hack-sequoia-01-vm"):
        vm = run.by_name(name)
        assert vm.protect
        assert vm.inputs["protection"] is True


def test_the_installer_bridge_is_adopted(run: ProgramRun) -> None:
    assert run.by_name("orion-pve-proxmox-vmbr0").import_id == "orion-pve:vmbr0"
    assert run.by_name("orion-pve-proxmox-vmbr1").import_id == ""
    assert run.by_name("orion-pve-proxmox-vmbr4").inputs["vlanAware"] is True
    assert run.by_name("orion-pve-proxmox-vmbr0").inputs["address"] == "192.168.1.10/24"


def test_triggers_are_content_hashes(run: ProgramRun, default_flakes: dict[str, dict[str, str]]) -> None:
    for role, vm in (("router", "orion-router"), ("monitor", "orion-monitor")):
        for step in ("files", "trial", "confirm"):
            assert run.by_name(f"{vm}-config-{step}").inputs["triggers"] == [digest(default_flakes[role])]
    assert run.by_name("nixos-base-image").inputs["triggers"] == [digest(default_flakes["base"])]


def secrets_generations(run: ProgramRun) -> dict[str, str]:
    """The generation of each system's set of secrets, as the mocks made it."""
    return {
        role: run.states[name]["hex"]
        for role, name in (
            ("router", "orion-router-secrets-generation"),
            ("monitor", "orion-monitor-secrets-generation"),
        )
    }


@pytest.fixture
def default_flakes(default_raw: RawConfig, today: datetime.date, run: ProgramRun) -> dict[str, dict[str, str]]:
    """Each system's flake as the program renders it (under mocks the deploy key's public half is the command's
    stand-in stdout)."""
    stack, _ = load_stack(default_raw, today=today)
    keys = PublicKeys(deploy="stdout-of-deploy-public-key")
    files = render_all(stack, keys=keys, secrets=secrets_generations(run))
    return {role: system_files(files, role) for role in ("base", "router", "monitor")}


def staged_files(registration: Registration) -> dict[str, str]:
    """The files a `...-config-files` (or image) command receives on stdin: path -> content."""
    return secret_files(registration)


def test_each_vm_receives_its_flake_whole(run: ProgramRun, default_flakes: dict[str, dict[str, str]]) -> None:
    for role, vm in (("router", "orion-router"), ("monitor", "orion-monitor")):
        assert staged_files(run.by_name(f"{vm}-config-files")) == default_flakes[role]
    assert staged_files(run.by_name("nixos-base-image")) == default_flakes["base"]
    assert {"flake.nix", "flake.lock", "host/host.json", "nix/hosts/router/configuration.nix"} <= set(
        default_flakes["router"]
    )


def test_every_system_keeps_accepting_the_deploy_key(default_flakes: dict[str, dict[str, str]]) -> None:
    """With users.mutableUsers = false, the admin user's keys are exactly the configured ones: without the deploy
    key NixOS refuses the system (no way to log in) or, worse, the next rebuild locks the deploy step out."""
    for flake in default_flakes.values():
        assert json.loads(flake["host/host.json"])["authorized_keys"] == ["stdout-of-deploy-public-key"]


def test_grafana_gets_a_generated_secret_key_as_a_credential(run: ProgramRun) -> None:
    files = secret_files(run.by_name("orion-monitor-config-secrets"))
    assert files == {
        "grafana-admin-password": "generated-for-grafana-admin-password",
        "grafana-secret-key": "generated-for-grafana-secret-key",
    }
    assert {"result", "bcryptHash"} <= set(run.by_name("grafana-secret-key").additional_secret_outputs)
    assert run.by_name("grafana-secret-key").protect  # what Grafana encrypted with it would be lost with it
    host = json.loads(staged_files(run.by_name("orion-monitor-config-files"))["host/host.json"])
    assert host["credentials"] == {"grafana": ["grafana-admin-password", "grafana-secret-key"]}
    assert host["grafana"]["secret_key_file"] == "/run/credentials/grafana.service/grafana-secret-key"


def test_every_credential_is_secret_and_no_secret_is_plain(run: ProgramRun) -> None:
    secret_values = [*SECRETS.values(), "generated-for-", "$2b$10$hash-of-"]
    for registration in run.registrations:
        plain = {key: value for key, value in registration.inputs.items() if key not in registration.secret_inputs}
        text = json.dumps(plain, default=str)
        for value in secret_values:
            assert value not in text, f"{registration.name} has a secret in a plain input"
    assert "apiToken" in run.by_name("orion-pve-proxmox-api").secret_inputs
    assert "stdin" in run.by_name("orion-pve-installer-iso").secret_inputs
    assert "stdin" in run.by_name("orion-router-config-secrets").secret_inputs
    assert "connection" in run.by_name("orion-router-config-files").secret_inputs
    for password in ("grafana-admin-password", "grafana-secret-key", "orion-pve-proxmox-root-password"):
        assert {"result", "bcryptHash"} <= set(run.by_name(password).additional_secret_outputs)
    assert run.secret_outputs == {"credentials"}


def secret_files(registration: Registration) -> dict[str, str]:
    """The files a `...-config-secrets` command writes: name -> content, from its (secret) stdin."""
    lines = str(registration.inputs["stdin"]).splitlines()
    return {name: base64.b64decode(value).decode() for name, value in (line.split("\t") for line in lines)}


def test_the_agents_key_and_the_routers_host_key_reach_the_monitor_as_secrets(
    default_raw: RawConfig, pulumi_up: PulumiUp
) -> None:
    access = {**default_raw.values["access"], "agent_key": {"secret": "sshAgentKey"}}  # type: ignore[dict-item]
    agent_key = private_key("agent")
    run = pulumi_up({**default_raw.values, "access": access}, {**SECRETS, "sshAgentKey": agent_key.rstrip("\n")})
    assert run.error is None, run.log
    monitor_secrets = run.by_name("orion-monitor-config-secrets")
    assert "stdin" in monitor_secrets.secret_inputs
    files = secret_files(monitor_secrets)
    assert files["orion-agent-ssh-key"] == agent_key
    # The router's host key is the one the deploy made for it, never read over a connection.
    assert files["orion-agent-known-hosts"] == known_hosts_line("192.168.100.1", mock_host_key(run, "orion-router"))
    # The router gets the public half, derived from the private key as the deploy key's is.
    derive = run.by_name("agent-public-key")
    assert "stdin" in derive.secret_inputs
    router_host = json.loads(staged_files(run.by_name("orion-router-config-files"))["host/host.json"])
    assert router_host["agent"] == {
        "public_key": "stdout-of-agent-public-key",
        "source_address": "192.168.100.20",
        "cooldown_seconds": 900,
        "state_dir": "/var/lib/orion-restart-bgp",
    }


def test_without_an_agent_key_the_agent_gets_no_key(run: ProgramRun) -> None:
    files = secret_files(run.by_name("orion-monitor-config-secrets"))
    assert set(files) == {"grafana-admin-password", "grafana-secret-key"}
    router_host = json.loads(staged_files(run.by_name("orion-router-config-files"))["host/host.json"])
    assert router_host["agent"] is None
    assert all(r.name != "agent-public-key" for r in run.registrations)


def test_a_replaced_vm_gets_its_configuration_again(run: ProgramRun) -> None:
    """The push steps trigger on content; a new VM (its old one replaced) has none of it, so they go with it."""
    for vm in ("orion-router", "orion-monitor"):
        machine = run.by_name(f"{vm}-vm").urn
        for step in ("secrets", "files", "trial", "confirm"):
            assert run.by_name(f"{vm}-config-{step}").replace_with == [machine]


def mock_host_key(run: ProgramRun, machine: str) -> HostKey:
    """The host key the program grows for `machine` from the seed the mocks' RandomBytes gave it in `run`."""
    return host_key(run.states[f"{machine}-ssh-host-key-seed"]["base64"], machine)


def test_every_ssh_connection_pins_the_host_key_the_deploy_made(run: ProgramRun) -> None:
    """No connection ignores whom it talks to: the VMs' keys and the node's are made before they first boot."""
    expected_by_host = {
        "192.168.1.1": mock_host_key(run, "orion-router").public_line,  # the router, on the management network
        "192.168.100.20": mock_host_key(run, "orion-monitor").public_line,
        "192.168.1.10": mock_host_key(run, "orion-pve").public_line,  # root on the Proxmox node
    }
    remote = run.of_type("command:remote:Command")
    assert remote
    for registration in remote:
        connection = registration.inputs["connection"]
        assert "connection" in registration.secret_inputs
        assert connection["hostKey"] == expected_by_host[connection["host"]], registration.name
    assert {r.inputs["connection"]["host"] for r in remote} == set(expected_by_host)


def test_the_node_and_the_vms_first_boot_carry_their_host_keys(run: ProgramRun) -> None:
    for vm in ("orion-router", "orion-monitor"):
        data = run.by_name(f"{vm}-first-boot-data")
        assert "stdin" in data.secret_inputs
        assert data.inputs["stdin"] == first_boot_user_data(mock_host_key(run, vm))
        assert data.inputs["connection"]["user"] == "root"
        snippet = f"orion-{vm}-user-data.yaml"
        assert f"SNIPPET=/var/lib/vz/snippets/{snippet}" in data.inputs["create"]
        initialization = run.by_name(f"{vm}-vm").inputs["initialization"]
        assert initialization["userDataFileId"] == f"local:snippets/{snippet}"
        assert waits_for(run, f"{vm}-vm", f"{vm}-first-boot-data")
    installer = secret_files(run.by_name("orion-pve-installer-iso"))
    node_key = mock_host_key(run, "orion-pve")
    assert node_key.private_openssh in installer["first-boot"]
    assert "HostKey /etc/ssh/ssh_host_ed25519_key" in installer["first-boot"]


def test_the_api_is_verified_and_reached_with_a_least_privileged_token(run: ProgramRun) -> None:
    """No credential goes to the Proxmox API unverified: its CA comes over the pinned SSH connection and is what
    this machine verifies the API with; everything but the macOS VM uses ORION's own token, not root@pam."""
    api = run.by_name("orion-pve-proxmox-api")
    assert api.inputs["insecure"] == "false"  # provider settings travel as strings
    assert api.inputs["apiToken"] == "orion@pve!deploy=secret-of-orion-pve-proxmox-api-token"
    assert "password" not in api.inputs
    assert "username" not in api.inputs
    token = run.by_name("orion-pve-proxmox-api-token")
    assert token.inputs["logging"] == "stderr"
    assert "stdout" in token.additional_secret_outputs
    assert "PRIVILEGES=" in token.inputs["create"]
    assert "pveum user token add" in token.inputs["create"]
    assert "pveum user delete" in token.inputs["delete"]
    ca = run.by_name("orion-pve-proxmox-api-ca")
    trust = run.by_name("orion-pve-proxmox-api-trust")
    assert trust.inputs["stdin"] == "stdout-of-orion-pve-proxmox-api-ca"
    assert trust.inputs["environment"]["TRUST_FILE"].endswith("/.orion/trust/orion-pve.pem")
    for connection_user in (ca, token):
        assert connection_user.inputs["connection"]["user"] == "root"
        assert waits_for(run, connection_user.name, "orion-pve-proxmox-ready")
    for user in ("orion-pve-proxmox-api", "hack-sequoia-01-root-api"):
        assert waits_for(run, user, "orion-pve-proxmox-api-trust")
    assert waits_for(run, "orion-pve-proxmox-api", "orion-pve-proxmox-api-token")


def test_without_the_trust_directory_in_ssl_cert_dir_nothing_is_created(
    default_raw: RawConfig, pulumi_up: PulumiUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_DIR", "/etc/ssl/certs")
    result = pulumi_up(default_raw.values, SECRETS)
    assert result.error is not None
    assert [r for r in result.registrations if r.type != "pulumi:pulumi:Stack"] == []
    errors = [message for level, message in result.log if level == "ERROR"]
    assert any(
        message.startswith("hosts[0].proxmox.tls: verify: node_ca checks the node's API against its CA kept in ")
        and "export SSL_CERT_DIR=" in message
        for message in errors
    ), errors


def test_the_trust_output_lists_what_the_deploy_pins(run: ProgramRun) -> None:
    trust = run.outputs["trust"]
    assert trust["proxmox_api_ca"] == {"orion-pve": "stdout-of-orion-pve-proxmox-api-ca"}
    assert trust["ssh_known_hosts"] == [
        f"192.168.1.10 {mock_host_key(run, 'orion-pve').public_key}",
        f"192.168.1.1 {mock_host_key(run, 'orion-router').public_key}",
        f"192.168.100.20 {mock_host_key(run, 'orion-monitor').public_key}",
    ]


def test_a_rotated_secret_is_a_new_system_that_reads_it(default_raw: RawConfig, pulumi_up: PulumiUp) -> None:
    """Activation follows the flake: a new secret makes a new set of secrets, read by a new system (a new trial,
    whose switch restarts the units that read it), and a switch back returns to the set the older system read."""
    before = pulumi_up(default_raw.values, SECRETS)
    after = pulumi_up(default_raw.values, {**SECRETS, "bgpPasswordHePrimary": "a-rotated-md5-password"})
    assert before.error is None, before.log
    assert after.error is None, after.log

    def router_step(run: ProgramRun, step: str) -> Registration:
        return run.by_name(f"orion-router-config-{step}")

    old, new = secrets_generations(before)["router"], secrets_generations(after)["router"]
    assert old != new
    for step in ("secrets", "files", "trial", "confirm"):
        assert router_step(before, step).inputs["triggers"] != router_step(after, step).inputs["triggers"], step
    assert f"GENERATION={new}" in router_step(after, "secrets").inputs["create"]
    host = json.loads(staged_files(router_step(after, "files"))["host/host.json"])
    assert host["secrets_dir"] == f"/var/lib/orion/secrets/{new}"
    # The monitor's secrets did not change: nor does its system.
    for step in ("files", "trial", "confirm"):
        monitor_before = before.by_name(f"orion-monitor-config-{step}").inputs["triggers"]
        assert monitor_before == after.by_name(f"orion-monitor-config-{step}").inputs["triggers"]
    # The base image reads no secrets, and waits for none: a rotation's preview never shows it replaced.
    assert before.by_name("nixos-base-image").inputs["triggers"] == after.by_name("nixos-base-image").inputs["triggers"]
    assert not waits_for(after, "nixos-base-image", "orion-router-secrets-generation")
    # What names the set tells nothing about it: its keeper (a digest of the secrets) is secret in the state.
    assert "keepers" in after.by_name("orion-router-secrets-generation").secret_inputs


def test_the_idrac_output_carries_the_fingerprint_every_call_is_pinned_to(run: ProgramRun) -> None:
    identity = run.by_name("orion-pve-tls-identity")
    assert run.outputs["idrac"]["orion-pve"]["tls_sha256"] == run.states[identity.name]["sha256_fingerprint"]
