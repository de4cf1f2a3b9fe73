"""The doctor's checks for one stack file, run at once on threads; the findings come back in a fixed order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from orion_infra.doctor import images, network, pulumi_cli, tools
from orion_infra.doctor.findings import Finding, Probe, fail, ok, skip
from orion_infra.model import OrionStack, RawConfig, StackConfigError, load_stack, read_stack_file

DEFAULT_TIMEOUT = 3.0
"""Seconds each network check waits: an iDRAC or web server on the management network answers in milliseconds."""


def run_checks(stack_file: Path, timeout: float = DEFAULT_TIMEOUT) -> list[Finding]:
    """Every check for `stack_file`, in the order they are listed."""
    stack_finding, raw, stack = _load(stack_file)
    probes: list[Probe] = [
        lambda: [stack_finding],
        partial(tools.tool_findings, installs_proxmox=stack is None or _installs_proxmox(stack)),
        lambda: [tools.kvm_finding()],
        partial(pulumi_cli.pulumi_findings, stack_file),
        lambda: [pulumi_cli.passphrase_finding(stack_file)],
    ]
    if raw is not None and stack is not None:
        probes += _stack_probes(stack_file, raw, stack, timeout)
    else:
        probes.append(lambda: [skip("site", "needs a valid stack file: serve_dir, serve_url and the network")])
    return run_probes(probes)


def _stack_probes(stack_file: Path, raw: RawConfig, stack: OrionStack, timeout: float) -> list[Probe]:
    bootstrap = stack.bootstrap
    needed = images.needed_images(stack)
    probes: list[Probe] = [
        lambda: [pulumi_cli.secrets_finding(raw)],
        lambda: [pulumi_cli.trust_dir_finding(stack, stack_file)],
        lambda: [images.serve_dir_finding(bootstrap)],
        *(partial(_one, images.image_finding, bootstrap, image) for image in needed),
        lambda: [images.serve_url_finding(bootstrap, timeout)],
        *(partial(_one, images.served_finding, bootstrap, image, timeout) for image in needed if image.served),
        lambda: [network.management_finding(stack)],
        lambda: [network.serve_host_finding(bootstrap, _installs_proxmox(stack))],
        *(partial(_one, network.idrac_finding, host, timeout) for host in stack.hosts),
        *(partial(_one, network.proxmox_finding, host, timeout) for host in stack.hosts),
    ]
    return probes


def _one(check: Callable[..., Finding], *arguments: object) -> list[Finding]:
    return [check(*arguments)]


def _installs_proxmox(stack: OrionStack) -> bool:
    return any(host.proxmox.install for host in stack.hosts)


def _load(stack_file: Path) -> tuple[Finding, RawConfig | None, OrionStack | None]:
    name = "stack file"
    try:
        raw = read_stack_file(stack_file)
        stack, _ = load_stack(raw)
    except StackConfigError as error:  # YAML syntax and an unreadable file included, each one located line
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        return (
            fail(name, f"{error.problems[0]}{more}", f"`orion validate --stack-file {stack_file}` lists every problem"),
            None,
            None,
        )
    summary = f"{len(stack.hosts)} host(s), {len(stack.vms)} VMs"
    return ok(name, f"{stack_file} is valid ({summary})"), raw, stack


def run_probes(probes: Iterable[Probe]) -> list[Finding]:
    """Each probe on a thread of its own (they wait on the network and on programs, not on the CPU)."""
    listed = list(probes)
    with ThreadPoolExecutor(max_workers=max(1, len(listed))) as pool:
        futures = [pool.submit(_guarded, probe) for probe in listed]
        return [finding for future in futures for finding in future.result()]


def _guarded(probe: Probe) -> list[Finding]:
    try:
        return list(probe())
    except Exception as error:  # noqa: BLE001 - one check's bug must not hide the others' findings
        name = "orion doctor"
        return [
            fail(
                name, f"the check itself failed: {type(error).__name__}: {error}", "report it as a bug in orion doctor"
            )
        ]
