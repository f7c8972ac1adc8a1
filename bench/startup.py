"""How fast commands start: `veille --help` and `veille check` on the shipped configuration, beside the
bare interpreter (`python -c pass`) in the same run; and the slowest imports of each by `python -X importtime`.

    python -m bench.startup [--runs 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"python_bare_s": ["-c", "pass"], "help_s": ["-m", "veille", "--help"],
            "check_s": ["-m", "veille", "--config", str(ROOT), "check"]}
TARGETS = {"help_s": 0.3, "check_s": 0.8}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}


def wall(args: list[str], runs: int) -> float:
    """The median wall time of `python ARGS` over `runs` runs (after one warm-up run for the file cache)."""
    subprocess.run([sys.executable, *args], env=_env(), capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], env=_env(), capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def slowest_imports(args: list[str], top: int = 5) -> list[tuple[str, float]]:
    """The top-level modules whose import took longest (cumulative seconds), by `-X importtime`."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], env=_env(), capture_output=True, text=True)
    found = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$", line)  # no leading spaces: top level
        if match:
            found.append((match.group(2), int(match.group(1)) / 1e6))
    return sorted(found, key=lambda f: -f[1])[:top]


def measure(runs: int = 7) -> dict[str, float]:
    return {key: wall(args, runs) for key, args in COMMANDS.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = measure(args.runs)
    for key, seconds in results.items():
        target = f" (target ≤ {TARGETS[key]} s)" if key in TARGETS else ""
        print(f"{key:14} {seconds:.3f} s{target}")
    for key in ("help_s", "check_s"):
        imports = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in slowest_imports(COMMANDS[key]))
        print(f"  slowest imports of {key[:-2]}: {imports}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
