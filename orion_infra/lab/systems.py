"""What switching a lab machine to a system does, in place of NixOS's activation: the accounts, authorized keys and
sudo rules the system declares, then its units stopped and started again as units.py runs them (the router's
firewall loaded first), each checked to be up. The data is the system's host/ directory, as `orion render` wrote
it; a unit that does not come up fails the switch, as it fails switch-to-configuration."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from orion_infra.lab import netns, shell_application, units
from orion_infra.lab.machine import Machine
from orion_infra.lab.netns import LabError
from orion_infra.lab.sudo import sudoers
from orion_infra.render import host_data

# Inside a machine: the lab's stand-ins for the packages a system's units run (systemctl, the forced command).
LAB_BIN = "/etc/orion-lab/bin"
# The Python environment (a copy of the few distributions needed) the machine's Python daemons and stand-ins use.
PYTHON = "/var/lib/orion-lab/python"
SYSTEM_PYTHON = "/usr/bin/python3"


def python_module(module: str) -> str:
    """The shell line that runs `module` with the machine's Python environment, passing on the arguments."""
    return f'PYTHONPATH={PYTHON} exec {SYSTEM_PYTHON} -m {module} "$@"\n'


ROUTER_UNITS = (
    "kea-dhcp4-server",
    "bird",
    "prometheus-node-exporter",
    "prometheus-bird-exporter",
    "prometheus-kea-exporter",
    "orion-unbound",
)
MONITOR_UNITS = ("prometheus-node-exporter", "prometheus", "alertmanager", "orion-agent")
# The names orion-agent.nix gives the agent's credentials (sshKeyFile, knownHostsFile).
AGENT_SSH_KEY = "ssh-key"
AGENT_KNOWN_HOSTS = "known-hosts"


def load(system: str, machine: Machine) -> host_data.System:
    """The host.json of `system`, read through the type of its role."""
    return host_data.read(machine.path(f"{system}/host/host.json").read_text())


def activate(machine: Machine, system: str) -> None:
    """Switches `machine` to `system` (a path inside it holding host/ and the system's files)."""
    host = load(system, machine)
    _accounts(machine, host)
    _networkd(machine, host)
    for name in dict.fromkeys((*ROUTER_UNITS, *MONITOR_UNITS)):
        units.stop(machine, units.UNITS[name])
    data = f"{system}/host"
    if isinstance(host, host_data.Router):
        _restart_bgp(machine, system, host)
        _router(machine, host, data)
    elif isinstance(host, host_data.Monitor):
        _monitor(machine, host, system)


def _accounts(machine: Machine, host: host_data.System) -> None:
    """What NixOS's activation makes of users.users, openssh.authorizedKeys and security.sudo."""
    machine.add_group("wheel")
    machine.add_account(host.admin_user, system=False, login_shell="/bin/bash", groups=("wheel",))
    _authorized_keys(machine, host.admin_user, host.authorized_keys)
    rules = []
    if isinstance(host, host_data.Router) and host.agent is not None:
        machine.add_account("orion-agent", login_shell="/bin/bash", groups=("bird",))
        agent = host.agent
        forced = f'restrict,from="{agent.source_address}",command="{LAB_BIN}/orion-restart-bgp" {agent.public_key}'
        _authorized_keys(machine, "orion-agent", [forced])
        # systemd-tmpfiles' rule for the forced command's state.
        machine.run("install", "-d", "-m", "0700", "-o", "orion-agent", "-g", "orion-agent", agent.state_dir)
        rules.append(("orion-agent", f"{LAB_BIN}/systemctl restart bird.service"))
    else:
        machine.path("/etc/ssh/authorized_keys.d/orion-agent").unlink(missing_ok=True)
    sudo = machine.path("/etc/sudoers")
    sudo.write_text(sudoers(rules))
    sudo.chmod(0o440)


def _networkd(machine: Machine, host: host_data.System) -> None:
    """The addresses and default routes networkd gives the system's interfaces (by MAC in the base image, by name
    in the others), IPv6 ones tentative until duplicate address detection clears them, as on a VM."""
    links = {link["ifname"]: link.get("address", "") for link in json.loads(machine.run("ip", "-j", "link", "show"))}
    by_mac = {mac: name for name, mac in links.items()}
    wanted: list[tuple[str, list[str], str | None]] = []  # interface, addresses, default route via
    if isinstance(host, host_data.Base):
        for nic in host.interfaces:
            if nic.mac in by_mac:
                wanted.append((by_mac[nic.mac], [nic.ipv4] if nic.ipv4 != "dhcp" else [], nic.gateway))
    elif isinstance(host, host_data.Router):
        for interface in host.interfaces:
            if interface.network != "wan":
                wanted.append((interface.name, [a for a in (interface.ipv4, interface.ipv6) if a], None))
        if host.wan.ipv4 != "dhcp":
            wanted.append((host.wan.interface, [host.wan.ipv4.address], host.wan.ipv4.gateway))
    elif isinstance(host, host_data.Monitor):
        wanted = [(interface.name, [interface.ipv4], interface.gateway) for interface in host.interfaces]
    for name, addresses, via in wanted:
        if name not in links:
            raise LabError(f"systemd-networkd: no interface {name} to configure")
        machine.run("ip", "link", "set", "dev", name, "up")
        for address in addresses:
            machine.run("ip", "addr", "replace", address, "dev", name)
        if via is not None:
            machine.run("ip", "route", "replace", "default", "via", via, "dev", name)


def _restart_bgp(machine: Machine, system: str, host: host_data.Router) -> None:
    """The forced command's package, as orion-router.nix builds it: the system's script, with runtimeEnv pointing
    at the lab's systemctl."""
    shell_application.install(
        machine.path(f"{LAB_BIN}/orion-restart-bgp"),
        machine.path(f"{system}/nix/scripts/orion-restart-bgp").read_text(),
        path=["/usr/sbin", "/usr/bin", "/bin"],
        runtime_env={
            "SUDO": "/run/wrappers/bin/sudo",
            "SYSTEMCTL": f"{LAB_BIN}/systemctl",
            "BIRD_SOCKET": host.bird.socket,
            **(
                {"COOLDOWN_SECONDS": str(host.agent.cooldown_seconds), "STATE_DIR": host.agent.state_dir}
                if host.agent is not None
                else {}
            ),
        },
    )


def _authorized_keys(machine: Machine, user: str, keys: list[str]) -> None:
    # NixOS writes them to /etc/ssh/authorized_keys.d/USER, mode 0444 (sshd.nix).
    path = machine.path(f"/etc/ssh/authorized_keys.d/{user}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}\n" for key in keys))
    path.chmod(0o444)


def _start(machine: Machine, host: host_data.System, name: str, command: list[str], **environment: str) -> None:
    credentials = {secret: f"{host.secrets_dir}/{secret}" for secret in host.credentials.get(name, [])}
    _start_with(machine, name, command, credentials, environment)


def _start_with(
    machine: Machine, name: str, command: list[str], credentials: dict[str, str], environment: dict[str, str]
) -> None:
    for source in credentials.values():
        # systemd refuses to start a unit whose credential it cannot read.
        if not machine.path(source).is_file():
            raise LabError(f"{name}.service: credential source {source} is missing")
    units.start(machine, units.UNITS[name], command, credentials=credentials or None, environment=environment)


def _router(machine: Machine, host: host_data.Router, data: str) -> None:
    machine.run("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1")
    machine.run("nft", "-f", f"{data}/nftables.nft")
    kea_run = "/run/kea"
    _start(
        machine,
        host,
        "kea-dhcp4-server",
        ["kea-dhcp4", "-c", f"{data}/kea-dhcp4.json"],
        KEA_PIDFILE_DIR=kea_run,
        KEA_LOCKFILE_DIR=kea_run,
    )
    _start(machine, host, "bird", ["bird", "-f", "-c", f"{data}/bird.conf", "-s", host.bird.socket])
    _start(
        machine,
        host,
        "prometheus-node-exporter",
        [
            "prometheus-node-exporter",
            f"--web.listen-address=:{host.exporters.node}",
            "--no-collector.systemd",  # Debian enables it; there is no systemd here
            f"--collector.netstat.fields={host.exporters.node_netstat_fields}",
        ],
    )
    _start(
        machine,
        host,
        "prometheus-bird-exporter",
        [
            "prometheus-bird-exporter",
            "-bird.socket",
            host.bird.socket,
            "-bird.v2",
            "-format.new",
            "-web.listen-address",
            f":{host.exporters.bird}",
        ],
    )
    _start(
        machine,
        host,
        "prometheus-kea-exporter",
        # Listening everywhere, as the module runs it: the router's firewall admits the monitoring VM only.
        [SYSTEM_PYTHON, "-m", "kea_exporter", "-a", "0.0.0.0", "-p", str(host.exporters.kea), host.kea.control_socket],  # noqa: S104
        PYTHONPATH=PYTHON,
    )
    _start(machine, host, "orion-unbound", ["unbound", "-d", "-p", "-c", f"{data}/unbound.conf"])
    _wait(machine, "bird", lambda: _answers(machine, ["birdc", "-s", host.bird.socket, "show", "status"]))
    _wait(
        machine, "orion-unbound", lambda: _answers(machine, ["unbound-control", "-c", f"{data}/unbound.conf", "status"])
    )
    _wait(machine, "kea-dhcp4-server", lambda: machine.path(host.kea.control_socket).exists())


def _monitor(machine: Machine, host: host_data.Monitor, system: str) -> None:
    data = f"{system}/host"
    # As the monitoring module links it (environment.etc), where prometheus.yml names it.
    rules = machine.path(host.prometheus.rule_file)
    rules.parent.mkdir(parents=True, exist_ok=True)
    rules.write_text(machine.path(f"{data}/alert-rules.yml").read_text())
    _start(
        machine,
        host,
        "prometheus-node-exporter",
        [
            "prometheus-node-exporter",
            f"--web.listen-address={host.local_address}:{host.exporters.node}",
            "--no-collector.systemd",
        ],
    )
    _start(
        machine,
        host,
        "prometheus",
        [
            "prometheus",
            f"--config.file={data}/prometheus.yml",
            "--storage.tsdb.path=/var/lib/prometheus2",
            f"--web.listen-address={host.local_address}:{host.prometheus.port}",
        ],
    )
    _start(
        machine,
        host,
        "alertmanager",
        [
            "prometheus-alertmanager",
            f"--config.file={data}/alertmanager.yml",
            "--storage.path=/var/lib/alertmanager",
            f"--web.listen-address={host.local_address}:{host.alertmanager.port}",
            "--cluster.listen-address=",  # one Alertmanager: no gossip
        ],
    )
    start_agent(machine, host, system)


def start_agent(machine: Machine, host: host_data.Monitor, system: str, **environment: str) -> None:
    """The agent as orion-agent.nix runs it: its own user, the rendered settings, its key and the router's host
    key as credentials (only when it may act), dry-run unless it has them."""
    credentials_dir = "/run/credentials/orion-agent.service"
    agent = host.agent
    credentials = (
        {AGENT_SSH_KEY: agent.ssh_key_file, AGENT_KNOWN_HOSTS: agent.known_hosts_file} if agent.remediate else {}
    )
    _start_with(
        machine,
        "orion-agent",
        [SYSTEM_PYTHON, "-m", "orion_agent", "run"],
        credentials,
        {
            "PYTHONPATH": f"{system}:{PYTHON}",
            "ORION_AGENT_SETTINGS_FILE": f"{system}/host/agent-settings.json",
            "ORION_AGENT_REMEDIATION__DRY_RUN": str(not agent.remediate).lower(),
            # %d in the unit: its credentials directory.
            "ORION_AGENT_REMEDIATION__SSH_KEY_FILE": f"{credentials_dir}/{AGENT_SSH_KEY}",
            "ORION_AGENT_REMEDIATION__KNOWN_HOSTS_FILE": f"{credentials_dir}/{AGENT_KNOWN_HOSTS}",
            **environment,
        },
    )


def _answers(machine: Machine, command: list[str]) -> bool:
    try:
        machine.run(*command, timeout=5)
    except LabError:
        return False
    return True


def _wait(machine: Machine, name: str, ready: Callable[[], object]) -> None:
    unit = units.UNITS[name]
    netns.wait_until(
        ready,
        timeout=10,
        failure=f"{name}.service did not come up",
        log=units.log_file(machine, unit),
    )


def current_system(machine: Machine) -> str:
    return str(Path(machine.run("readlink", "-f", "/run/current-system").strip()))
