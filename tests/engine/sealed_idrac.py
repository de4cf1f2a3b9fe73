"""Run inside a network namespace of its own (loopback only): the emulated iDRAC 8 on 127.0.0.1, then the installed
`orion idrac` console script against it, as an operator runs it in the project directory.

`python -m tests.engine.sealed_idrac RESULT` reads its spec as JSON on stdin (so that no password is on a command
line) and writes what happened as JSON to RESULT: the exit code, stdout, stderr, the requests the iDRAC received and
the namespace's network interfaces.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from orion_infra.cli_idrac import PASSWORD_VARIABLE
from tests.redfish.emulator import HttpsIdrac, Idrac8Layer, serve, sushy_app

ORION = Path(sys.executable).parent / "orion"


def main(result: Path) -> None:
    spec = json.load(sys.stdin)
    layer = Idrac8Layer(sushy_app(Path(spec["state"])), passwords={"root": spec["idrac_password"]})
    if spec.get("tls"):
        service = HttpsIdrac(layer)
        service.start(Path(spec["tls"]["cert"]), Path(spec["tls"]["key"]))
        url, stop = service.url, service.stop
    else:
        server, _ = serve(layer)
        url = f"http://127.0.0.1:{server.server_port}"

        def stop() -> None:
            server.shutdown()
            server.server_close()

    environment = {name: value for name, value in os.environ.items() if name != PASSWORD_VARIABLE}
    try:
        done = subprocess.run(
            [str(ORION), "idrac", "--endpoint", url, *spec["args"]],
            cwd=spec["project"],
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        stop()
    result.write_text(
        json.dumps(
            {
                "returncode": done.returncode,
                "stdout": done.stdout,
                "stderr": done.stderr,
                "seen": [dataclasses.asdict(request) for request in layer.seen],
                "interfaces": sorted(name for _, name in socket.if_nameindex()),
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
