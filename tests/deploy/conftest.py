"""The deploy path for real: a twin whose router and monitoring VM are set up as the base image sets up a VM, and
an operator's machine on the management network that reaches them over SSH as the admin user with the deploy key,
as `pulumi up`'s Command resources do, running exactly the command lines those resources run."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orion_infra.components.scripts import digest, file_lines
from orion_infra.components.vms import confirm_command, files_command, secrets_command, trial_command
from orion_infra.lab import netns
from orion_infra.lab.machine import Machine
from orion_infra.lab.twin import Twin
from orion_infra.render.host_keys import known_hosts_line
from tests.lab.stacks import lab_stack, running_twin

OPERATOR = "192.168.1.50"  # bootstrap.serve_url's host: the operator's machine
# Short windows, so that waiting one out takes seconds; production's are minutes (vms.py). The window holds the
# router's health check (BGP back after the switch, up to HEALTH_SECONDS) with room: at 15 s a slow session start
# let the watchdog win once.
TRIAL_SECONDS = 25
HEALTH_SECONDS = 12


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Deploy:
    twin: Twin
    operator: str
    known_hosts: Path

    def ssh(
        self, machine: Machine, command: str, stdin: str = "", timeout: float = 120, known_hosts: Path | None = None
    ) -> Done:
        """`command` on `machine` as the admin user, over a new SSH connection from the operator's machine, the
        host key pinned (the deploy's own, or `known_hosts`')."""
        address = self.address(machine)
        done = subprocess.run(
            [
                "ip", "netns", "exec", self.operator,
                "ssh", "-i", str(self.twin.key("deploy")),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts or self.known_hosts}",
                "-o", "ConnectTimeout=3",
                f"{self.twin.stack.access.admin_user}@{address}", command,
            ],
            input=stdin, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        return Done(done.returncode, done.stdout, done.stderr)

    def address(self, machine: Machine) -> str:
        return "192.168.1.1" if machine.namespace == self.twin.router_ns else str(self.twin.monitor_address)

    def push(self, machine: Machine, flake: dict[str, str], secrets: dict[str, str]) -> str:
        """The secrets and files steps; returns the flake's digest."""
        generation = self.twin.secrets_generations[self.twin.role_of(machine)]
        written = self.ssh(
            machine, secrets_command(str(self.twin.options.secrets_dir), generation), file_lines(secrets)
        )
        assert written.returncode == 0, written.stderr
        staged = self.ssh(machine, files_command(digest(flake)), file_lines(flake))
        assert staged.returncode == 0, staged.stderr
        return digest(flake)

    def trial(self, machine: Machine, flake_digest: str) -> Done:
        return self.ssh(machine, trial_command(flake_digest, TRIAL_SECONDS))

    def confirm(self, machine: Machine, flake_digest: str, router_name: str | None) -> Done:
        command = confirm_command(
            flake_digest,
            router_name,
            secrets_dir=str(self.twin.options.secrets_dir),
            generation=self.twin.secrets_generations[self.twin.role_of(machine)],
            trial_seconds=TRIAL_SECONDS,
            health_seconds=HEALTH_SECONDS,
        )
        return self.ssh(machine, command)

    def status(self, machine: Machine) -> str:
        return machine.run("sh", "-c", "cat /run/orion-trial/state 2>/dev/null || echo idle").strip()


@pytest.fixture(scope="module")
def deploy() -> Iterator[Deploy]:
    with running_twin(lab_stack(), "deploy") as twin:
        operator = twin.client("operator", "management")
        netns.run(["ip", "-n", operator, "addr", "add", f"{OPERATOR}/24", "dev", "eth0"])
        netns.run(["ip", "-n", operator, "route", "add", "default", "via", "192.168.1.1"])
        # The operator pins the host keys the deploy made for the VMs, as pulumi-command's host_key does.
        known_hosts = twin.root / "operator-known-hosts"
        known_hosts.write_text(
            known_hosts_line("192.168.1.1", twin.host_key(twin.router))
            + known_hosts_line(twin.monitor_address, twin.host_key(twin.monitor))
        )
        yield Deploy(twin, operator, known_hosts)
