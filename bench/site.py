"""The reports site on a large archive: response times of filtered list pages and full-text searches.

    python -m bench.site [--items 1000000] [--runs 21] [--db FILE] [--refill]

Fills a SQLite store with generated items (bench/archive.py: Zipf-distributed words, topics, member
matches, tenders with deadlines) unless the file already holds that many, starts `veille serve` on a
loopback port in its own process, and times whole HTTP requests (client side, signed in by HTTP Basic)
of each page several times; prints the median and the 90th percentile.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.archive import fill
from veille.models import ItemQuery
from veille.store import Store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench"
LISTS = [
    ("/?topic=membranes&kind=tender", "topic + kind"),
    ("/?region=BR&kind=tender&since=2026-10-01", "region + kind + since"),
    ("/?member=polymem&topic=desalination", "member + topic"),
    ("/?source=source-42", "source"),
    ("/", "no filter"),
]
SEARCHES = [
    ("/?q=ultrafiltration", "one word"),
    ("/?q=%C3%A9puration+station", "two words, accents"),
    ("/?q=biofilm&kind=news", "word + kind"),
    ("/?q=membrane&topic=membranes&region=FR", "word + topic + region"),
]
LIST_TARGET_MS, SEARCH_TARGET_MS = 100, 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(path: Path, items: int, refill: bool) -> float:
    """Make sure the store at `path` holds `items` items; return the seconds spent filling (0 if reused)."""
    url = f"sqlite:///{path}"
    if path.exists() and not refill:
        store = Store.open(url)
        try:
            if store.count(ItemQuery()) == items:
                return 0.0
        finally:
            store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(url)
    started = time.perf_counter()
    fill(store, items)
    with store.engine.begin() as conn:  # what an admin would run after a bulk load
        conn.exec_driver_sql("ANALYZE")
    store.close()
    return time.perf_counter() - started


def serve(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "VEILLE_DB": f"sqlite:///{path}", "VEILLE_SITE_PASSWORD": PASSWORD,
           "VEILLE_TZ": "Europe/Paris", "VEILLE_REPORTS": str(path.parent / "veille-bench-reports")}
    process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(ROOT), "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/signin", timeout=1)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None:
                output = process.stderr.read().decode() if process.stderr else ""
                raise SystemExit(f"veille serve stopped: {output}") from None
            time.sleep(0.2)
    process.kill()
    raise SystemExit("veille serve did not answer within 60 s")


def time_pages(base: str, pages: list[tuple[str, str]], runs: int) -> list[dict[str, object]]:
    out = []
    with httpx.Client(base_url=base, auth=("bench", PASSWORD), headers={"Accept": "text/html"}, timeout=60) as client:
        for path, label in pages:
            first = client.get(path)
            first.raise_for_status()
            title = first.text.split('id="results-title"', 1)[-1]
            found = title.split('<span class="count">', 1)[1].split("</span>", 1)[0] if '"count"' in title else "?"
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            out.append({"path": path, "label": label, "found": found.strip(), "median_ms": statistics.median(times),
                        "p90_ms": times[int(0.9 * (len(times) - 1))]})
            print(f"  {label:<26} {path:<46} {found.strip():>14}  median {statistics.median(times):7.1f} ms"
                  f"  p90 {out[-1]['p90_ms']:7.1f} ms", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.site", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=21, help="timed requests per page, after one warm-up")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "veille-bench-site.db")
    parser.add_argument("--refill", action="store_true", help="rebuild the store even if it holds the right count")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file (bench/SITE.md)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    filled = prepare(args.db.resolve(), args.items, args.refill)
    size = sum(Path(f"{args.db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{args.db}{s}").exists())
    print(f"store: {args.items:,} items in {args.db} ({size / 2**20:,.0f} MiB)"
          + (f", filled in {filled:.0f} s" if filled else ", reused"), flush=True)
    process, base = serve(args.db.resolve())
    peak = None
    try:
        print(f"filtered list pages (target: median ≤ {LIST_TARGET_MS} ms)")
        lists = time_pages(base, LISTS, args.runs)
        print(f"full-text searches (target: median ≤ {SEARCH_TARGET_MS} ms)")
        searches = time_pages(base, SEARCHES, args.runs)
        status = Path(f"/proc/{process.pid}/status")
        peak = next((int(line.split()[1]) / 1024 for line in status.read_text().splitlines()
                     if line.startswith("VmHWM:")), None) if status.exists() else None
        if peak:
            print(f"veille serve peak memory: {peak:,.0f} MiB")
    finally:
        process.terminate()
        process.wait(10)
    filtered = [r for r in lists if r["label"] != "no filter"]
    worst_list = max(float(str(r["median_ms"])) for r in filtered)
    worst_search = max(float(str(r["median_ms"])) for r in searches)
    print(f"slowest filtered list median {worst_list:.1f} ms ({'met' if worst_list <= LIST_TARGET_MS else 'missed'}); "
          f"slowest search median {worst_search:.1f} ms ({'met' if worst_search <= SEARCH_TARGET_MS else 'missed'})")
    if args.json:
        args.json.write_text(json.dumps({"items": args.items, "fill_s": filled, "lists": lists,
                                         "searches": searches, "server_peak_mib": peak}, indent=2))
    if args.markdown:
        args.markdown.write_text(_markdown(args, lists, searches, peak, filled, time.perf_counter() - started))
    return 0


def _markdown(args: argparse.Namespace, lists: list[dict[str, object]], searches: list[dict[str, object]],
              peak: float | None, filled: float, seconds: float) -> str:
    lines = ["# Reports site on a large archive", "",
             f"Machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}. `python -m bench.site "
             f"--items {args.items} --runs {args.runs}`: {args.items:,} items in SQLite; each page requested "
             f"{args.runs} times after one warm-up, over loopback HTTP, signed in by HTTP Basic. Whole run: "
             f"{seconds:.0f} s" + (f" (filling the store: {filled:.0f} s)." if filled else " (store reused)."), "",
             "| page | query | items found | median | p90 | target |", "|---|---|---|---|---|---|"]
    for rows, target in ((lists, f"≤ {LIST_TARGET_MS} ms (filtered)"), (searches, f"≤ {SEARCH_TARGET_MS} ms")):
        for r in rows:
            goal = "" if r["label"] == "no filter" else target
            lines.append(f"| {r['label']} | `{r['path']}` | {r['found']} | {float(str(r['median_ms'])):.1f} ms | "
                         f"{float(str(r['p90_ms'])):.1f} ms | {goal} |")
    if peak:
        lines += ["", f"Peak memory of `veille serve`: {peak:,.0f} MiB (the facet index of the whole archive)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
