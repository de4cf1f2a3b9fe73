"""The wiring of `pulumi up`: the validated model and the rendered files, through the components, to the stack
outputs. From bare metal: installer -> iDRAC -> Proxmox API -> bridges and images -> VMs -> configuration."""

from __future__ import annotations

import functools
import hashlib
import ipaddress

import pulumi
import pulumi_command as command
import pulumi_random as random

from orion_infra.components.host_keys import generated_host_key, public_line
from orion_infra.components.idrac import PASSWORD_PUNCTUATION, IdracHost, IdracHostArgs
from orion_infra.components.proxmox import (
    InstallerArgs,
    NodeArgs,
    ProxmoxInstaller,
    ProxmoxNode,
    backup_job,
    served_url,
    wait_for_proxmox,
)
from orion_infra.components.scripts import file_lines, local_script
from orion_infra.components.vms import (
    NIXOS_IMAGE,
    MacosVm,
    MacosVmArgs,
    NixosConfig,
    NixosConfigArgs,
    NixosVm,
    NixosVmArgs,
    download,
    nixos_image,
    served_file,
)
from orion_infra.model.hosts import Host
from orion_infra.model.stack import OrionStack
from orion_infra.model.vms import MacOs, Vm, VmRole
from orion_infra.outputs import (
    OUTPUT_CREDENTIALS,
    OUTPUT_ENDPOINTS,
    OUTPUT_IDRAC,
    OUTPUT_NETWORK,
    OUTPUT_TRUST,
    OUTPUT_VMS,
    endpoints,
    network_facts,
    vm_facts,
)
from orion_infra.render import render_all, secret_files, system_files
from orion_infra.render.host_keys import HostKey, known_hosts_line
from orion_infra.render.monitor.agent import router_bird_target
from orion_infra.render.options import PublicKeys, RenderOptions


def _generated_password(name: str, *, special: bool, protect: bool = False) -> random.RandomPassword:
    return random.RandomPassword(
        name,
        length=32,
        special=special,
        override_special=PASSWORD_PUNCTUATION if special else None,
        opts=pulumi.ResourceOptions(additional_secret_outputs=["result", "bcrypt_hash"], protect=protect),
    )


def _ssh_address(stack: OrionStack, vm: Vm) -> str:
    """Where the deploy step reaches a VM: its management address if it has one, else its first fixed one."""
    fixed = [
        (stack.network_of(nic.bridge, nic.vlan), nic.ipv4)
        for nic in vm.nics
        if isinstance(nic.ipv4, ipaddress.IPv4Address)
    ]
    return str(next((address for network, address in fixed if network == "management"), fixed[0][1]))


def _public_key(name: str, private_key: pulumi.Output[str]) -> pulumi.Output[str]:
    return local_script(name, "public-key.sh", stdin=private_key).stdout.apply(str.strip)


def _node_connection(
    stack: OrionStack, host: Host, deploy_key: pulumi.Output[str], host_key: pulumi.Input[str]
) -> command.remote.ConnectionArgs:
    """root on the Proxmox node over SSH, with the deploy key, its host key pinned."""
    return command.remote.ConnectionArgs(
        host=str(stack.management_address(host)),
        user="root",
        private_key=deploy_key,
        host_key=host_key,
        dial_error_limit=20,
    )


def build(stack: OrionStack, secret: dict[str, pulumi.Output[str]], trust_dir: str) -> None:
    """Every resource of a validated stack. `secret` maps each secret config key the stack names to its value;
    `trust_dir` is where this machine keeps the anchors it verifies Proxmox APIs with (SSL_CERT_DIR names it)."""
    deploy_key = secret[stack.access.deploy_key.secret]
    agent_key = secret[stack.access.agent_key.secret] if stack.access.agent_key is not None else None
    deploy_public = _public_key("deploy-public-key", deploy_key)
    ssh_keys = deploy_public.apply(lambda key: [key, *stack.access.authorized_keys])
    # The systems carry the public halves of the stack's keys, derived here; nothing else of them.
    keys = pulumi.Output.all(
        deploy_public, _public_key("agent-public-key", agent_key) if agent_key is not None else None
    ).apply(lambda halves: PublicKeys(deploy=halves[0], agent=halves[1]))
    grafana_admin = _generated_password("grafana-admin-password", special=False)
    # What Grafana encrypts its data sources' secrets with: a new one would leave them unreadable (orion-grafana
    # refuses to start Grafana with it), so it is never replaced by accident.
    grafana_secret_key = _generated_password("grafana-secret-key", special=False, protect=True)
    host_keys = {
        key: generated_host_key(vm.name, comment=vm.name)
        for key, vm in stack.vms.items()
        if not isinstance(vm.os, MacOs)
    }
    vm_secrets = _vm_secrets(stack, secret, (grafana_admin, grafana_secret_key), host_keys)
    generations = {
        role: _secrets_generation(stack.vms[key].name, vm_secrets[role]) for role, key in _nixos_roles(stack)
    }
    # Each system's flake waits for its own set of secrets only: another VM's rotation leaves it as it is.
    flakes = {
        role: pulumi.Output.all(keys, generation).apply(functools.partial(_system_flake, stack, role))
        for role, generation in generations.items()
    }
    proxmox_root = {
        host.proxmox.node: _generated_password(f"{host.proxmox.node}-proxmox-root-password", special=True)
        for host in stack.hosts
        if host.proxmox.install
    }
    # The base image reads no secrets: rendered from the keys alone, a rotation (whose generation is unknown until
    # it is made) never makes its preview a replacement.
    base_image = nixos_image(
        stack.bootstrap,
        keys.apply(lambda public: system_files(render_all(stack, keys=public), "base")),
        pulumi.ResourceOptions(),
    )

    idracs: dict[str, IdracHost] = {}
    nodes: dict[str, ProxmoxNode] = {}
    node_connections: dict[str, command.remote.ConnectionArgs] = {}
    root_passwords: dict[str, pulumi.Output[str]] = {}
    images: dict[str, pulumi.Output[str]] = {}
    for host in stack.hosts:
        node_name = host.proxmox.node
        ready: list[pulumi.Resource] = []
        installer = None
        if host.proxmox.install:
            root_passwords[node_name] = proxmox_root[node_name].result
            node_key = generated_host_key(node_name, comment=node_name)
            node_connections[node_name] = _node_connection(stack, host, deploy_key, public_line(node_key))
            installer = ProxmoxInstaller(
                f"{host.name}-installer",
                InstallerArgs(stack, host, proxmox_root[node_name].bcrypt_hash, ssh_keys, node_key),
            )
        else:
            # The model requires both without install.
            assert host.proxmox.root_password is not None
            assert host.proxmox.ssh_host_key is not None
            root_passwords[node_name] = secret[host.proxmox.root_password.secret]
            node_connections[node_name] = _node_connection(stack, host, deploy_key, host.proxmox.ssh_host_key)
        idracs[host.name] = IdracHost(
            host.name,
            IdracHostArgs(
                host=host,
                current_password=secret[host.idrac.password.secret],
                installer_iso_url=installer.url if installer else None,
            ),
        )
        if installer is not None:
            ready.append(
                wait_for_proxmox(
                    f"{host.name}-proxmox-ready",
                    host,
                    stack.bootstrap,
                    pulumi.ResourceOptions(depends_on=[idracs[host.name]]),
                )
            )
        node = ProxmoxNode(f"{node_name}-proxmox", NodeArgs(stack, host, node_connections[node_name], trust_dir, ready))
        nodes[node_name] = node
        image = download(
            f"{node_name}-nixos-image",
            node=node_name,
            url=served_url(stack.bootstrap, NIXOS_IMAGE),
            checksum=base_image.stdout.apply(str.strip),
            content_type="import",
            file_name=NIXOS_IMAGE,
            opts=pulumi.ResourceOptions(provider=node.provider, depends_on=[base_image]),
        )
        images[node_name] = image.id

    configs: dict[str, NixosVm] = {}
    for key, vm in stack.vms.items():
        node = nodes[vm.node]
        if isinstance(vm.os, MacOs):
            _macos(stack, vm, node, root_passwords[vm.node])
            continue
        configs[key] = NixosVm(
            vm.name,
            NixosVmArgs(
                stack,
                vm,
                images[vm.node],
                host_keys[key],
                node_connections[vm.node],
                after=list(node.bridges.values()),
            ),
            opts=pulumi.ResourceOptions(providers={"proxmoxve": node.provider}),
        )

    first_node = nodes[stack.hosts[0].proxmox.node]
    backup_job(stack.backup, first_node.provider, pulumi.ResourceOptions(depends_on=[c.vm for c in configs.values()]))
    _push_configuration(stack, flakes, configs, host_keys, deploy_key, vm_secrets, generations)
    _export(stack, idracs, proxmox_root, grafana_admin)
    _export_trust(stack, nodes, node_connections, host_keys)


def _macos(stack: OrionStack, vm: Vm, node: ProxmoxNode, root_password: pulumi.Output[str]) -> None:
    assert isinstance(vm.os, MacOs)
    files = {}
    for role, file_name, content_type in (
        ("opencore", vm.os.opencore_image, "iso"),
        ("recovery", vm.os.recovery_image, "import"),
    ):
        checksum = served_file(f"{vm.name}-{role}-checksum", stack.bootstrap, file_name, pulumi.ResourceOptions())
        files[role] = download(
            f"{vm.name}-{role}",
            node=vm.node,
            url=served_url(stack.bootstrap, file_name),
            checksum=checksum.stdout.apply(str.strip),
            content_type=content_type,
            file_name=file_name,
            opts=pulumi.ResourceOptions(provider=node.provider),
        )
    host = next(host for host in stack.hosts if host.proxmox.node == vm.node)
    MacosVm(
        vm.name,
        MacosVmArgs(
            vm,
            str(host.proxmox.api_endpoint),
            root_password,
            files["opencore"].id,
            files["recovery"].id,
            insecure=node.insecure,
            after=[*node.api_trusted, *node.bridges.values()],
        ),
    )


def _nixos_roles(stack: OrionStack) -> list[tuple[str, str]]:
    """The NixOS VMs' keys in `vms` by the role their system is rendered for, the router first (the others are
    reached through it, once its configuration routes)."""
    return [
        ("router", stack.vms_with_role(VmRole.ROUTER)[0][0]),
        ("monitor", stack.vms_with_role(VmRole.MONITORING)[0][0]),
    ]


def _system_flake(stack: OrionStack, role: str, inputs: list[object]) -> dict[str, str]:
    """The flake of the system of `role`, with the public keys and the generation of its secrets it reads."""
    keys, generation = inputs
    assert isinstance(keys, PublicKeys)
    return system_files(render_all(stack, keys=keys, secrets={role: str(generation)}), role)


def _vm_secrets(
    stack: OrionStack,
    secret: dict[str, pulumi.Output[str]],
    grafana: tuple[random.RandomPassword, random.RandomPassword],
    host_keys: dict[str, pulumi.Output[HostKey]],
) -> dict[str, dict[str, pulumi.Output[str]]]:
    """The secret files each NixOS system reads (by role), by name."""
    router: dict[str, pulumi.Output[str]] = {
        secret_files.bgp_password(peer.name): secret[peer.password.secret].apply(secret_files.bird_password_statement)
        for peer in stack.bgp.peers
        if peer.password is not None
    }
    admin_password, secret_key = grafana
    monitor: dict[str, pulumi.Output[str]] = {
        secret_files.GRAFANA_ADMIN_PASSWORD: admin_password.result,
        secret_files.GRAFANA_SECRET_KEY: secret_key.result,
    }
    if stack.access.agent_key is not None:
        monitor[secret_files.AGENT_SSH_KEY] = secret[stack.access.agent_key.secret].apply(_ends_with_newline)
        # The agent pins the router's host key: the one the deploy made for it.
        monitor[secret_files.AGENT_KNOWN_HOSTS] = host_keys[dict(_nixos_roles(stack))["router"]].apply(
            functools.partial(known_hosts_line, router_bird_target(stack).address)
        )
    return {"router": router, "monitor": monitor}


def _secrets_text(files: dict[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    names = list(files)
    text: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.all(*files.values()).apply(
            lambda values: file_lines(dict(zip(names, map(str, values), strict=True)))
        )
    )
    return text


def _secrets_generation(vm_name: str, files: dict[str, pulumi.Output[str]]) -> pulumi.Output[str]:
    """A name for this set of the VM's secrets, new whenever one of them changes and telling nothing about them
    (random; what it is kept for, a digest of the secrets, stays secret in the state)."""
    digest = _secrets_text(files).apply(lambda text: hashlib.sha256(text.encode()).hexdigest())
    generation = random.RandomId(f"{vm_name}-secrets-generation", byte_length=8, keepers={"secrets": digest})
    return generation.hex


def _push_configuration(  # noqa: PLR0917 - the pieces a push needs, each named at the call
    stack: OrionStack,
    flakes: dict[str, pulumi.Output[dict[str, str]]],
    vms: dict[str, NixosVm],
    host_keys: dict[str, pulumi.Output[HostKey]],
    deploy_key: pulumi.Output[str],
    vm_secrets: dict[str, dict[str, pulumi.Output[str]]],
    generations: dict[str, pulumi.Output[str]],
) -> None:
    secrets_dir = str(RenderOptions().secrets_dir)
    routed_through: list[pulumi.Resource] = []
    for role, key in _nixos_roles(stack):
        vm = stack.vms[key]
        connection = command.remote.ConnectionArgs(
            host=_ssh_address(stack, vm),
            user=stack.access.admin_user,
            private_key=deploy_key,
            host_key=public_line(host_keys[key]),
            dial_error_limit=20,
        )
        config = NixosConfig(
            f"{vm.name}-config",
            NixosConfigArgs(
                flake=flakes[role],
                secrets=_secrets_text(vm_secrets[role]),
                secrets_generation=generations[role],
                secrets_dir=secrets_dir,
                connection=connection,
                vm=vms[key].vm,
                router_name=f"{vm.name}.{stack.dns.domain}" if vm.role == VmRole.ROUTER else None,
                depends_on=routed_through,
            ),
        )
        if vm.role == VmRole.ROUTER:
            routed_through.append(config.activation)


def _export_trust(
    stack: OrionStack,
    nodes: dict[str, ProxmoxNode],
    node_connections: dict[str, command.remote.ConnectionArgs],
    host_keys: dict[str, pulumi.Output[HostKey]],
) -> None:
    """What lets another machine check whom it talks to: the APIs' anchors and the pinned SSH host keys."""
    pinned: list[pulumi.Output[str]] = [
        pulumi.Output.from_input(node_connections[host.proxmox.node].host_key).apply(
            functools.partial(known_hosts_line, stack.management_address(host))
        )
        for host in stack.hosts
    ]
    pinned += [
        public_line(key).apply(functools.partial(known_hosts_line, _ssh_address(stack, stack.vms[vm])))
        for vm, key in host_keys.items()
    ]
    pulumi.export(
        OUTPUT_TRUST,
        {
            "proxmox_api_ca": {name: node.api_ca for name, node in nodes.items() if node.api_ca is not None},
            "ssh_known_hosts": [line.apply(str.rstrip) for line in pinned],
        },
    )


def _ends_with_newline(text: str) -> str:
    # OpenSSH refuses a private key file without its final newline; secrets pasted into config often lose it.
    return text if text.endswith("\n") else text + "\n"


def _export(
    stack: OrionStack,
    idracs: dict[str, IdracHost],
    proxmox_root: dict[str, random.RandomPassword],
    grafana_admin: random.RandomPassword,
) -> None:
    pulumi.export(OUTPUT_ENDPOINTS, endpoints(stack))
    pulumi.export(OUTPUT_VMS, vm_facts(stack))
    pulumi.export(OUTPUT_NETWORK, network_facts(stack))
    pulumi.export(
        OUTPUT_IDRAC,
        {
            name: {
                "endpoint": idrac.endpoint,
                "model": idrac.system.model,
                "service_tag": idrac.system.service_tag,
                "bios_version": idrac.system.bios_version,
                "idrac_firmware": idrac.system.idrac_firmware,
                "health": idrac.system.health,
                **({"tls_sha256": idrac.tls_fingerprint} if idrac.tls_fingerprint is not None else {}),
            }
            for name, idrac in idracs.items()
        },
    )
    pulumi.export(
        OUTPUT_CREDENTIALS,
        pulumi.Output.secret(
            {
                "idrac_root": {name: idrac.password for name, idrac in idracs.items()},
                "proxmox_root": {node: password.result for node, password in proxmox_root.items()},
                "grafana_admin": grafana_admin.result,
            }
        ),
    )
