"""Evaluation time of the whole Pulumi program under mocks as the number of VMs grows.
Run: uv run python -m bench.program_bench

The model needs a router and a monitoring VM, so the smallest stack has 2 VMs; the others add small macOS VMs
(1 core, 1 GiB each) to the default stack, on a host given enough cores for them."""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
from pathlib import Path

from orion_infra import program
from orion_infra.model import read_stack_file
from orion_infra.trust import TRUST_DIR
from tests.pulumi_harness import run_program
from tests.test_program import SECRETS

RUNS = 5


def stack_with(vm_count: int) -> dict[str, object]:
    values = copy.deepcopy(dict(read_stack_file(Path("Pulumi.orion.yaml")).values))
    vms: dict[str, dict[str, object]] = values["vms"]  # type: ignore[assignment]
    template = vms.pop("macos")
    values["networks"]["lan"]["dhcp"]["reservations"] = []  # type: ignore[index]
    for index in range(vm_count - 2):
        vm = copy.deepcopy(template)
        vm.update({"id": 1000 + index, "name": f"mac-{index:03d}", "cores": 1, "memory_gib": 1})
        vm["nics"][0].update({"mac": f"BC:24:11:10:{index // 256:02X}:{index % 256:02X}", "ipv4": "dhcp"})  # type: ignore[index]
        vms[f"mac{index:03d}"] = vm
    values["backup"]["vms"] = [200, 300]  # type: ignore[index]
    # Enough cores for 50 VMs: what is measured is the program, not the capacity rule.
    values["hosts"][0]["cpu"]["sockets"] = 8  # type: ignore[index]
    return values


def main() -> None:
    # As an operator runs `pulumi up` (README): the Proxmox APIs' anchors named in SSL_CERT_DIR.
    os.environ["SSL_CERT_DIR"] = str(Path.cwd() / TRUST_DIR)
    results = []
    for vm_count in (2, 10, 50):
        values = stack_with(vm_count)
        timings = []
        resources = 0
        for _ in range(RUNS):
            started = time.perf_counter()
            run = run_program(program.main, {**values, **SECRETS}, set(SECRETS))
            timings.append(time.perf_counter() - started)
            assert run.error is None, run.error
            resources = len(run.registrations)
        results.append(
            {
                "vms": vm_count,
                "resources": resources,
                "median_seconds": round(statistics.median(timings), 3),
                "runs": RUNS,
            }
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
