"""How long the operator waits for `orion --help` and `orion validate`: whole processes, as a shell runs them.
Run: uv run python -m bench.cli_bench [RUNS]

Each command runs RUNS times (default 15) after one untimed run, directly from the environment's `orion` script (no
`uv run` in between) and once more through `uv run --frozen orion`, whose own start is what an operator who types that
pays on top. The untimed run leaves the modules' bytecode cached, as any second run of an installed program finds it:
PYTHONDONTWRITEBYTECODE is removed for the children, or every run would compile every module again. Prints the
median and the fastest of each; the machine's load skews both, so compare numbers taken together.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = (["--help"], ["validate", "--stack-file", str(ROOT / "Pulumi.orion.yaml")])


def timed(argv: list[str], runs: int, environment: dict[str, str]) -> list[float]:
    subprocess.run(argv, env=environment, capture_output=True, check=True)
    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=environment, capture_output=True, check=True)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    orion = str(Path(sys.executable).with_name("orion"))
    launchers = {"orion": [orion]}
    uv = shutil.which("uv")
    if uv is not None:
        launchers["uv run orion"] = [uv, "run", "--frozen", "orion"]
    print(f"{runs} runs each, load average {os.getloadavg()[0]:.2f}")
    for label, launcher in launchers.items():
        for command in COMMANDS:
            seconds = timed([*launcher, *command], runs, environment)
            shown = " ".join([label, *command[:1]])
            print(f"{shown:<24} median {statistics.median(seconds):.3f} s   fastest {min(seconds):.3f} s")


if __name__ == "__main__":
    main()
