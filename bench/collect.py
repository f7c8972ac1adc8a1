"""Collect speed beside newsboat: generated feeds on many loopback addresses, each answer delayed 100–300 ms.

    python -m bench.collect [--feeds 200 500] [--items 50] [--sequential] [--runs 1] [--json FILE]

For each size: `newsboat -x reload` with 16 reload threads (skipped when newsboat is not installed), `veille
collect` with 16 requests in flight, both in child processes on the same feeds (each on its own address
127.0.0.2, 127.0.0.3, …, varied texts: see `bench.feeds.feed_body`); wall time and CPU time (user + system,
the child and its own children) per item. Beside them: the ideal bound (the injected latency ÷ 16 requests in
flight) and, with `--sequential`, a plain `feedparser.parse(url)` loop over the same URLs. Then the same 200
feeds on one address: with per-host concurrency raised to 16 and no delay between requests to a host, and with
the default politeness on 20 of them (one request started per second per host) to state what it costs.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.feeds import FeedFarm

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 16  # newsboat's reload threads, veille's requests in flight


def child(args: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Run a command; return (wall seconds, CPU seconds of it and its children, exit code, peak MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    return (time.perf_counter() - start, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status),
            usage.ru_maxrss / 1024)


def veille_env(directory: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    return env | {"VEILLE_DB": f"sqlite:///{directory / 'veille.db'}", "VEILLE_TZ": "Europe/Paris",
                  "VEILLE_HTTP_CONCURRENCY": str(IN_FLIGHT)} | settings


def write_config(directory: Path, farm: FeedFarm, count: int) -> None:
    (directory / "members.yaml").write_text((ROOT / "members.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (directory / "sources.yaml").write_text(yaml.safe_dump({"sources": [
        {"name": f"feed-{i}", "kind": "news", "type": "feed", "url": farm.url(i), "allow_private_network": True}
        for i in range(count)]}))


def veille_collect(farm: FeedFarm, count: int, again: bool = False, **settings: str) -> dict[str, float]:
    """`veille collect` of the first `count` feeds into a fresh store: wall, CPU, peak memory; with `again`, the
    same collect a second time (every feed unchanged: answered 304) and the body bytes it cost."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_config(directory, farm, count)
        for run in ("", "re") if again else ("",):
            sent = farm.bytes_sent
            wall, cpu, code, peak = child([sys.executable, "-m", "veille", "--config", str(directory), "collect"],
                                          veille_env(directory, **settings))
            if code not in (0, 1):
                raise RuntimeError(f"veille collect exited with {code}")
            out |= {f"{run}wall_s": wall, f"{run}cpu_s": cpu, f"{run}peak_mib": peak,
                    f"{run}body_bytes": farm.bytes_sent - sent}
    return out


def newsboat_reload(farm: FeedFarm, count: int) -> dict[str, float] | None:
    """newsboat's reload of the same feeds with 16 threads, or None when newsboat is not installed."""
    program = shutil.which("newsboat")
    if program is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "urls").write_text("".join(f"{farm.url(i)}\n" for i in range(count)))
        (directory / "config").write_text(f"reload-threads {IN_FLIGHT}\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")} | {"HOME": str(directory)}
        wall, cpu, _, _ = child([program, "-u", str(directory / "urls"), "-c", str(directory / "cache.db"),
                                 "-C", str(directory / "config"), "-x", "reload"], env)
    return {"wall_s": wall, "cpu_s": cpu}


def sequential(farm: FeedFarm, count: int) -> float:
    import feedparser

    start = time.perf_counter()
    for i in range(count):  # the plain way: one after the other
        feedparser.parse(farm.url(i))
    return time.perf_counter() - start


def measure(sizes: list[int], items: int, with_sequential: bool, runs: int = 1) -> dict[str, float]:
    """Every figure of the module's doc, the median of `runs` runs (the sequential loop: one run)."""
    out: dict[str, float] = {}
    for count in sizes:
        farm = FeedFarm(count, hosts=count, items=items)
        try:
            total = count * items
            newsboat, ours = [], []
            for _ in range(runs):  # alternated: the machine's drift touches both alike
                figures = newsboat_reload(farm, count)
                if figures:
                    newsboat.append(figures)
                ours.append(veille_collect(farm, count, again=count == max(sizes)))
            out |= {f"collect{count}_s": _median(ours, "wall_s"),
                    f"collect{count}_cpu_ms_per_item": _median(ours, "cpu_s") / total * 1e3,
                    f"collect{count}_peak_mib": _median(ours, "peak_mib"),
                    f"collect{count}_ideal_s": farm.total_latency / IN_FLIGHT}
            if count == max(sizes):
                out |= {"recollect_s": _median(ours, "rewall_s"), "recollect_body_bytes": _median(ours, "rebody_bytes")}
            if newsboat:
                out |= {f"newsboat{count}_s": _median(newsboat, "wall_s"),
                        f"newsboat{count}_cpu_ms_per_item": _median(newsboat, "cpu_s") / total * 1e3}
            if with_sequential:
                out[f"sequential{count}_s"] = sequential(farm, count)
        finally:
            farm.stop()
    count = min(sizes)
    farm = FeedFarm(count, hosts=1, items=items)
    try:  # one host: raised per-host concurrency, no delay; then the defaults' politeness on a tenth
        out["onehost_s"] = statistics.median(
            veille_collect(farm, count, VEILLE_HTTP_PER_HOST=str(IN_FLIGHT), VEILLE_HTTP_HOST_DELAY="0")["wall_s"]
            for _ in range(runs))
        out["onehost_feeds"] = count
        polite = max(2, count // 10)
        out["polite_s"] = veille_collect(farm, polite)["wall_s"]
        out["polite_feeds"] = polite
    finally:
        farm.stop()
    return out


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--sequential", action="store_true", help="also time a plain feedparser loop (slow)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    compileall.compile_dir(ROOT / "veille", quiet=1)  # as an installed package is
    figures = measure(args.feeds, args.items, args.sequential, args.runs)
    for key, value in figures.items():
        print(f"{key:32} {value:10.3f}")
    if shutil.which("newsboat") is None:
        print("newsboat not installed: row skipped")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
