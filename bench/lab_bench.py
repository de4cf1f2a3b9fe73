"""The lab, measured: bring-up and teardown of the twin, BGP convergence, and failover of the default route from the
primary upstream to the secondary when the primary crashes, or freezes with BFD, or freezes with the default timers.
Run as root: uv run python -m bench.lab_bench [--runs N] [--no-default-timers]

Bring-up is `Twin.up()`: namespaces, peers, router, every session Established, resolver, monitoring ready.
Convergence is from the router's BIRD starting to every session Established. Failover is from the fault to the
kernel's default route pointing at the secondary."""

from __future__ import annotations

import argparse
import statistics
import time

from orion_infra.lab.twin import Twin
from tests.lab.stacks import lab_stack, new_twin

NAME = "bench"


def freeze_failover(twin: Twin, timeout: float) -> float:
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    started = time.monotonic()
    with twin.frozen(primary):
        return twin.default_route_moves(str(secondary.address), since=started, timeout=timeout)


def crash_failover(twin: Twin) -> float:
    primary, secondary = twin.stack.bgp.peers[0], twin.stack.bgp.peers[1]
    started = time.monotonic()
    twin.stop_peer(primary)
    try:
        return twin.default_route_moves(str(secondary.address), since=started, timeout=10)
    finally:
        twin.start_peer(primary)


def row(name: str, values: list[float]) -> str:
    if len(values) == 1:
        return f"{name:<44} {values[0]:>8.3f} s (1 run)"
    return (
        f"{name:<44} median {statistics.median(values):.3f} s  min {min(values):.3f}  max {max(values):.3f}"
        f"  ({len(values)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-default-timers", action="store_true", help="skip the ~90 s default-timer failover")
    arguments = parser.parse_args()
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)
        print(f"  {name}: {value:.3f} s", flush=True)

    stack = lab_stack()
    for run in range(arguments.runs):
        print(f"run {run + 1}/{arguments.runs}", flush=True)
        twin = new_twin(stack, NAME)
        started = time.monotonic()
        try:
            twin.up()
            record("bring-up (twin ready)", time.monotonic() - started)
            assert twin.convergence_seconds is not None
            record("BGP convergence (router start -> all Established)", twin.convergence_seconds)
            record("failover, primary crashes (SIGKILL)", crash_failover(twin))
            twin.wait_for_primary()
            record("failover, primary freezes, BFD 100 ms x 3", freeze_failover(twin, timeout=10))
        finally:
            started = time.monotonic()
            twin.down()
            record("teardown", time.monotonic() - started)
    if not arguments.no_default_timers:
        peer = stack.bgp.peers[0]
        print(f"default timers: BFD off, hold {peer.hold_time} s, keepalive {peer.keepalive_time} s", flush=True)
        twin = new_twin(lab_stack(peer_changes={"bfd": False}), NAME)
        try:
            twin.up()
            record("failover, primary freezes, default timers", freeze_failover(twin, timeout=peer.hold_time + 30))
        finally:
            twin.down()
    print()
    for name, values in results.items():
        print(row(name, values))


if __name__ == "__main__":
    main()
