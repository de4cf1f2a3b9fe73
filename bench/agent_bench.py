"""The agent in the twin, measured: CPU and memory at rest (the operator's stack: 15 s checks, 1 s BGP probes), and
the time from stopping the router's BIRD to the agent seeing it, to the restart being verified, to every session
Established again. Run as root: uv run python -m bench.agent_bench [--runs N] [--rest-seconds S]"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from orion_infra.lab import netns
from orion_infra.lab.twin import Twin
from tests.lab.stacks import lab_stack, new_twin

PREFIX = "olabg"
TICKS = os.sysconf("SC_CLK_TCK")


def agent_pid(twin: Twin) -> str:
    for pid in netns.run(["ip", "netns", "pids", twin.monitor_ns]).stdout.split():
        if "orion_agent" in Path(f"/proc/{pid}/cmdline").read_text():
            return pid
    raise RuntimeError("the agent is not running")


def cpu_seconds(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mib(pid: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def at_rest(seconds: float) -> tuple[float, float]:
    # The operator's timing: the default stack with its 15 s scrapes and checks.
    twin = new_twin(lab_stack(scrape_interval_seconds=15), PREFIX)
    try:
        twin.up()
        time.sleep(30)  # past start-up: first checks, detectors warming
        pid = agent_pid(twin)
        before = cpu_seconds(pid)
        time.sleep(seconds)
        return (cpu_seconds(pid) - before) / seconds * 100, rss_mib(pid)
    finally:
        twin.down()


def remediation() -> tuple[float, float, float]:
    twin = new_twin(lab_stack(), PREFIX)
    try:
        twin.up()
        netns.wait_until(
            lambda: (twin.agent("health") or {}).get("bgp") == "some_up",
            timeout=30,
            failure="the agent does not see BGP up",
        )
        stopped = time.monotonic()
        twin.stop_router_bird()
        seen = netns.wait_until(
            lambda: twin.agent("health")["bgp"] in ("all_down", "bird_unreachable"),
            timeout=30,
            failure="the agent does not see BGP gone",
        )
        netns.wait_until(
            lambda: any(entry["event"] == "verified" for entry in twin.audit()),
            timeout=120,
            failure="no verified restart",
        )
        verified = time.monotonic() - stopped
        twin.wait_for_sessions(timeout=60)
        return seen, verified, time.monotonic() - stopped
    finally:
        twin.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rest-seconds", type=float, default=60)
    arguments = parser.parse_args()
    cpu, rss = at_rest(arguments.rest_seconds)
    print(
        f"agent at rest over {arguments.rest_seconds:g} s: CPU {cpu:.1f} % of one core, RSS {rss:.0f} MiB", flush=True
    )
    runs = [remediation() for _ in range(arguments.runs)]
    for label, index in (
        ("BIRD stopped -> seen by the agent", 0),
        ("-> restart verified", 1),
        ("-> all Established", 2),
    ):
        values = [run[index] for run in runs]
        print(
            f"{label:<36} median {statistics.median(values):.2f} s  min {min(values):.2f}  max {max(values):.2f}"
            f"  ({len(values)} runs)"
        )


if __name__ == "__main__":
    main()
