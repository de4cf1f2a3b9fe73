"""Where a twin lives, known from its name alone: its namespaces (`olab-NAME-*`) and its state directory
(/run/orion-lab/NAME). `orion lab down` and `status` work from these, never from the stack file, so a stack file
broken or changed since `up` can neither keep a twin up nor hide it; twins of different names (two checkouts, the
lab's tests beside an operator's twin) never touch each other's."""

from __future__ import annotations

import csv
import json
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from orion_infra.lab import netns, systems
from orion_infra.lab.machine import Machine
from orion_infra.lab.netns import LabError
from orion_infra.model import ports
from orion_infra.render import host_data

STATE = Path("/run/orion-lab")
# Run in a namespace: GETs each URL of the JSON list on its standard input; prints the bodies (null: no answer).
FETCH = """
import json, sys, urllib.request

def body(url):
    try:
        return urllib.request.urlopen(url, timeout=2).read().decode().strip()
    except OSError:
        return None

print(json.dumps([body(url) for url in json.load(sys.stdin)]))
"""
DEFAULT_NAME = "orion"
NAMESPACE_PREFIX = "olab"
# No hyphen: the namespaces of twin "a" (olab-a-*) can then never be mistaken for those of another twin.
NAME = re.compile(r"[a-z][a-z0-9]{0,11}")
NAME_RULE = "a lowercase letter, then up to 11 lowercase letters or digits"


def check_name(name: str) -> str:
    if NAME.fullmatch(name) is None:
        raise ValueError(f"twin name: expected {NAME_RULE}, got {name!r}")
    return name


def names(state: Path = STATE) -> list[str]:
    """The twins on this machine: those with a state directory or any namespace."""
    found = {path.name for path in state.iterdir() if path.is_dir()} if state.is_dir() else set()
    found |= {namespace.split("-")[1] for namespace in netns.namespaces(f"{NAMESPACE_PREFIX}-")}
    return sorted(name for name in found if NAME.fullmatch(name))


@dataclass(frozen=True)
class Site:
    root: Path
    """The twin's state: rendered files, the machines' file systems, sockets, logs."""
    prefix: str
    """Every namespace of the twin is named `PREFIX-...`."""

    @classmethod
    def named(cls, name: str, state: Path = STATE) -> Site:
        check_name(name)
        return cls(state / name, f"{NAMESPACE_PREFIX}-{name}")

    def namespaces(self) -> list[str]:
        return netns.namespaces(f"{self.prefix}-")

    def exists(self) -> bool:
        return self.root.exists() or bool(self.namespaces())

    def remove(self) -> None:
        """Every namespace of the twin with what runs in it, and its files."""
        for namespace in self.namespaces():
            netns.destroy(namespace)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- looking at it: from what the running twin holds, not from a stack ---------------------------------------

    @property
    def router_ns(self) -> str:
        return f"{self.prefix}-router"

    @property
    def monitor_ns(self) -> str:
        return f"{self.prefix}-monitor"

    @property
    def router(self) -> Machine:
        return Machine(self.router_ns, self.root / "router", extra_mounts=("nix",))

    @property
    def monitor(self) -> Machine:
        return Machine(self.monitor_ns, self.root / "monitor", extra_mounts=("nix",))

    @property
    def router_host(self) -> host_data.Router:
        """The running router system's host.json, the data its NixOS module reads, read through its type."""
        host = systems.load(systems.current_system(self.router), self.router)
        assert isinstance(host, host_data.Router)
        return host

    def router_socket(self) -> str:
        """The router's BIRD control socket, where its host.json says, inside the router."""
        return str(self.router.path(self.router_host.bird.socket))

    def sessions(self) -> dict[str, str]:
        """BGP session state per peer, as the router sees them."""
        shown = netns.in_ns(self.router_ns, "birdc", "-s", self.router_socket(), "show", "protocols").stdout
        states: dict[str, str] = {}
        for line in shown.splitlines():
            fields = line.split()
            if len(fields) >= 6 and fields[1] == "BGP":
                states[fields[0]] = fields[5]
        return states

    def fetch(self, namespace: str, url: str) -> str | None:
        """GETs `url` from `namespace`; the body, or None when nothing answers."""
        return self.fetch_all(namespace, [url])[0]

    def fetch_all(self, namespace: str, urls: Sequence[str]) -> list[str | None]:
        """GETs each of `urls` from `namespace`, in one Python started there; the bodies (None: nothing answered)."""
        done = netns.run(["ip", "netns", "exec", namespace, "python3", "-c", FETCH], stdin=json.dumps(list(urls)))
        bodies: list[str | None] = json.loads(done.stdout)
        return bodies

    def prometheus(self, path: str) -> object:
        """The `data` of a Prometheus API answer (`path` like `query?query=up`), asked from the monitoring VM."""
        return self.prometheus_all([path])[0]

    def prometheus_all(self, paths: Sequence[str]) -> list[object]:
        """The `data` of Prometheus' answer to each of `paths`, asked from the monitoring VM."""
        api = f"http://{ports.MONITOR_LOCAL_ADDRESS}:{ports.MONITOR_SERVICES['prometheus']}/api/v1/"
        data = []
        for path, body in zip(paths, self.fetch_all(self.monitor_ns, [api + path for path in paths]), strict=True):
            if body is None:
                raise LabError(f"Prometheus does not answer /api/v1/{path}")
            answer = json.loads(body)
            if answer.get("status") != "success":
                raise LabError(f"Prometheus /api/v1/{path}: {answer.get('errorType')}: {answer.get('error')}")
            data.append(answer["data"])
        return data

    def targets(self) -> dict[str, str]:
        """Health of every scrape target by `job/host`."""
        data = self.prometheus("targets?state=active")
        assert isinstance(data, dict)
        return {
            f"{target['labels']['job']}/{target['labels']['host']}": target["health"]
            for target in data["activeTargets"]
        }

    def leases(self) -> dict[str, str]:
        """The router's current DHCP leases: address -> hardware address, from Kea's lease file."""
        lease_file = self.router.path("/var/lib/kea/dhcp4.leases")
        if not lease_file.exists():
            return {}
        current: dict[str, str] = {}
        with lease_file.open(newline="") as rows:
            # Kea appends: a later row for an address replaces the earlier one; state 0 is an active lease.
            for row in csv.DictReader(rows):
                if row["state"] == "0" and int(row["expire"]) > time.time():
                    current[row["address"]] = row["hwaddr"]
                else:
                    current.pop(row["address"], None)
        return current
