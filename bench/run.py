"""`make bench`: every benchmark in one run, each beside its baseline; writes bench/RESULTS.md and
bench/results.json. `QUICK=1` divides the sizes by 10."""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml
from lxml import etree

from bench import boilerplate, collect, tagging, workers
from bench.archive import fill

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "feeds"


def run_command(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a veille command in a child process; return (wall seconds, peak RSS MiB, stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "veille", *args], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"veille {' '.join(args)} failed")
    return seconds, usage.ru_maxrss / 1024, out


def base_env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    return env | {"VEILLE_DB": f"sqlite:///{directory / 'veille.db'}", "VEILLE_TZ": "Europe/Paris",
                  "VEILLE_HTTP_CONCURRENCY": "32", "VEILLE_HTTP_HOST_DELAY": "0"}


def bench_parse(runs: int) -> dict[str, float]:
    from veille.collect import parse_payload
    from veille.models import Source

    payloads = [p.read_bytes() for p in sorted(CORPUS.glob("*")) if p.suffix in (".rss", ".atom", ".rdf")] \
        if CORPUS.is_dir() else []
    if not payloads:  # no shared corpus beside the checkout: generated feeds
        from bench.feeds import feed_body

        payloads = [feed_body(i, 100, 3) for i in range(20)]
    source = Source(name="bench", kind="news", type="feed", url="https://bench.example.org/", lang="en")
    ours, raw = [], []
    for _ in range(runs):
        start, count = time.perf_counter(), 0
        for payload in payloads:
            with contextlib.suppress(Exception):  # a corpus feed that is not a feed counts 0 items
                count += len(parse_payload(source, payload))
        ours.append(count / (time.perf_counter() - start))
        start, count = time.perf_counter(), 0
        for payload in payloads:
            try:
                root = etree.fromstring(payload, etree.XMLParser(recover=True))
            except etree.XMLSyntaxError:
                continue
            if root is not None:
                count += sum(1 for e in root.iter() if isinstance(e.tag, str) and e.tag.split("}")[-1] in
                             ("item", "entry"))
        raw.append(count / (time.perf_counter() - start))
    return {"parse_items_per_s": statistics.median(ours), "parse_lxml_items_per_s": statistics.median(raw)}


def bench_tag(items: int, naive_items: int, runs: int) -> dict[str, float]:
    ours, naive = [], []
    for _ in range(runs):
        figures = tagging.measure_both(items, naive_items)
        ours.append(figures[0])
        naive.append(figures[1])
    return {"tag_items_per_s": statistics.median(ours), "tag_naive_items_per_s": statistics.median(naive)}


def bench_scale(count: int, runs: int) -> dict[str, float]:
    from veille.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for name in ("sources.yaml", "members.yaml"):
            (directory / name).write_text((ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
        env = base_env(directory)
        store = Store.open(env["VEILLE_DB"])
        start = time.perf_counter()
        end = fill(store, count, weeks=48)  # ≥ 20,000 items in the digest week at full size
        in_week = store.count_items(since=end - timedelta(days=7))
        store.close()
        load = time.perf_counter() - start
        digest, report = [], []
        for _ in range(runs):
            digest.append(run_command(["--config", str(directory), "digest", "--week", "2026-W46", "--dry-run",
                                       "--reports", str(directory / "reports")], env))
            report.append(run_command(["--config", str(directory), "report", "--topic", "membranes", "--format",
                                       "csv", "-o", str(directory / "membranes.csv")], env))
        # the same digest with every entry printed (digest.per_section: 0): what the default's cap saves
        members = yaml.safe_load((directory / "members.yaml").read_text(encoding="utf-8"))
        members.setdefault("digest", {})["per_section"] = 0
        (directory / "members.yaml").write_text(yaml.safe_dump(members, allow_unicode=True), encoding="utf-8")
        every = [run_command(["--config", str(directory), "digest", "--week", "2026-W46", "--dry-run",
                              "--reports", str(directory / "reports")], env) for _ in range(runs)]
    return {"archive_load_s": load, "archive_week_items": in_week,
            "digest_1m_all_s": statistics.median(d[0] for d in every),
            "digest_1m_s": statistics.median(d[0] for d in digest),
            "digest_1m_peak_mib": statistics.median(d[1] for d in digest),
            "report_1m_s": statistics.median(r[0] for r in report),
            "report_1m_peak_mib": statistics.median(r[1] for r in report)}


def _collect_rows(size: str, hosts: str) -> list[tuple[str, str, str | None, str, str]]:
    """The rows of one collect size beside newsboat (`size`: the `{small}` or `{large}` placeholder)."""
    return [
        (f"collect{size}_s", f"collect {size} feeds × 50 items on {size} hosts{hosts}: wall", f"newsboat{size}_s",
         "s", "≤ newsboat"),
        (f"newsboat{size}_s", "  baseline: newsboat, 16 reload threads", None, "s", ""),
        (f"collect{size}_cpu_ms_per_item", "  CPU per item (all processes)", f"newsboat{size}_cpu_ms_per_item", "ms",
         "≤ 0.5 ms"),
        (f"newsboat{size}_cpu_ms_per_item", "  baseline: newsboat's CPU per item", None, "ms", ""),
        (f"collect{size}_ideal_s", "  ideal bound: injected latency ÷ 16 in flight", None, "s", ""),
        (f"sequential{size}_s", "  sequential feedparser.parse loop", None, "s", ""),
    ]


ROWS = [  # key, label, baseline key or None, unit, target
    *_collect_rows("{small}", " (100–300 ms each)"),
    *_collect_rows("{large}", ""),
    ("collect{large}_peak_mib", "  peak memory of the collecting process", None, "MiB", "≤ 300 MiB"),
    ("recollect_body_bytes", "re-collect unchanged: body bytes transferred", None, "B", "0"),
    ("recollect_s", "re-collect unchanged: wall time", "collect{large}_s", "s", ""),
    ("onehost_s", "{small} feeds on one host, 16 per host, no delay: wall", "collect{small}_s", "s",
     "≤ 2× many hosts"),
    ("polite_s", "{polite} feeds on one host, default politeness (2 per host, 1 s apart): wall", None, "s", ""),
    ("boilerplate_seconds", "collect {feeds} feeds × 50 items, one description on every item", "varied_seconds", "s",
     "≤ 2× varied texts"),
    ("varied_seconds", "  baseline: the same feeds with varied texts", None, "s", ""),
    ("boilerplate_sources_ok", "  sources ok, one description", None, "", "all"),
    ("boilerplate_largest_cluster", "  largest cluster, one description (true duplicates: 1)", None, "", "1"),
    ("parse_items_per_s", "parse: items/s through the feed connector", "parse_lxml_items_per_s", "/s", ""),
    ("tag_items_per_s", "tag: items/s, taxonomy + 12 profiles", "tag_naive_items_per_s", "/s", "≥ 50,000/s"),
    ("digest_1m_s", "digest --dry-run, {archive} items ({week} in the week)", None, "s", "≤ 5 s"),
    ("digest_1m_peak_mib", "  peak memory", None, "MiB", "≤ 1,024 MiB"),
    ("digest_1m_all_s", "  the same, every entry printed (`digest.per_section: 0`)", "digest_1m_s", "s", ""),
    ("report_1m_s", "report --topic membranes --format csv", None, "s", "≤ 5 s"),
    ("report_1m_peak_mib", "  peak memory", None, "MiB", "≤ 1,024 MiB"),
    ("queue_workers1_sources_per_s", "queue on PostgreSQL, {queue} sources × 20 items: sources/s, 1 worker",
     "queue_collect_sources_per_s", "/s", ""),
    ("queue_collect_sources_per_s", "  baseline: one `veille collect` into PostgreSQL", None, "/s", ""),
    ("queue_workers2_sources_per_s", "  2 workers", "queue_workers1_sources_per_s", "/s", "flat from 2 (2 cores)"),
    ("queue_workers3_sources_per_s", "  3 workers", "queue_workers1_sources_per_s", "/s", "flat from 2 (2 cores)"),
    ("queue_workers2_cpu_ms_per_source", "  CPU of the workers per source, 2 workers",
     "queue_collect_cpu_ms_per_source",
     "ms", ""),
    ("queue_workers2_xact_commit_per_1000", "  database per 1,000 sources, 2 workers: transactions",
     "queue_collect_xact_commit_per_1000", "", ""),
    ("queue_workers2_rows_written_per_1000", "  rows written", "queue_collect_rows_written_per_1000", "", ""),
    ("queue_workers2_tup_returned_per_1000", "  rows read", "queue_collect_tup_returned_per_1000", "", ""),
    ("queue_workers2_wal_mib_per_1000", "  WAL written", "queue_collect_wal_mib_per_1000", "MiB", ""),
]


def main() -> int:
    quick = os.environ.get("QUICK") not in (None, "", "0")
    scale = 10 if quick else 1
    sizes = [200 // scale, 500 // scale]
    archive, tag_items, naive = 1_000_000 // scale, 100_000 // scale, 1_000 // scale
    results: dict[str, float] = {}
    started = time.perf_counter()
    # veille's modules compiled once, as an installed package is (with PYTHONDONTWRITEBYTECODE set, every child
    # would compile them again)
    compileall.compile_dir(ROOT / "veille", quiet=1)
    print(f"benchmarks{' (QUICK: sizes / 10)' if quick else ''}: {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}", flush=True)
    collect_runs = 3 if quick else 2
    results |= collect.measure(sizes, 50, with_sequential=True, runs=collect_runs)
    results |= boilerplate.measure(feeds=200 // scale, items=50)
    print(f"  collect done ({time.perf_counter() - started:.0f} s)", flush=True)
    results |= bench_parse(runs=5)
    results |= bench_tag(tag_items, naive, runs=5)  # the machine's speed drifts: five runs, not three
    print(f"  parse and tag done ({time.perf_counter() - started:.0f} s)", flush=True)
    results |= bench_scale(archive, runs=3)
    print(f"  digest and report done ({time.perf_counter() - started:.0f} s)", flush=True)
    results |= workers.measure(1000 // scale, 20, [1, 2, 3])
    print(f"  queue workers done ({time.perf_counter() - started:.0f} s)", flush=True)
    table = render(results, sizes, archive, quick, time.perf_counter() - started, collect_runs)
    print(table)
    (ROOT / "bench" / "RESULTS.md").write_text(table, encoding="utf-8")
    (ROOT / "bench" / "results.json").write_text(json.dumps({k: round(v, 3) for k, v in results.items()}, indent=2))
    return 0


def _shown(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.3f} ms"
    return f"{value:,.0f} {unit}".rstrip() if unit in ("B", "/s", "MiB", "") else f"{value:,.2f} {unit}"


def render(results: dict[str, float], sizes: list[int], archive: int, quick: bool, seconds: float,
           collect_runs: int) -> str:
    small, large = sizes
    names = {"small": small, "large": large, "archive": f"{archive:,}", "week": f"{results['archive_week_items']:,.0f}",
             "feeds": 200 // (10 if quick else 1), "polite": f"{results['polite_feeds']:.0f}",
             "queue": f"{results.get('queue_sources', 0):,.0f}"}
    lines = ["# Benchmark results", "",
             f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}. "
             f"{'QUICK run: sizes divided by 10. ' if quick else ''}"
             f"Medians of 3 runs (collect and newsboat: {collect_runs}, alternated; the sequential loop: 1; parse "
             f"and tag: 5). Whole run: {seconds:.0f} s. veille collects with 16 requests in flight "
             "(`VEILLE_HTTP_CONCURRENCY=16`, newsboat's 16 reload threads) and its default politeness per host.", "",
             "| measure | value | baseline | ratio | target |", "|---|---|---|---|---|"]
    for key, label, baseline, unit, target in ROWS:
        key = key.format(**names)
        if key not in results:
            if key.startswith("newsboat"):
                lines.append(f"| {label.format(**names)} | newsboat not installed: row skipped | | | |")
            elif key == "queue_workers1_sources_per_s":
                lines.append(f"| {label.format(**names)} | PostgreSQL not available (VEILLE_BENCH_PG_URL): rows "
                             "skipped | | | |")
            continue
        value = results[key]
        base = results.get(baseline.format(**names)) if baseline else None
        ratio = f"{value / base:.2f}×" if base else ""
        lines.append(f"| {label.format(**names)} | {_shown(value, unit)} | "
                     f"{'' if base is None else _shown(base, unit)} | {ratio} | {target} |")
    polite = results["polite_s"] / results["polite_feeds"]
    lines += ["", f"Politeness with the defaults: one host gets a request started every "
              f"{results['polite_s'] / results['polite_feeds']:.2f} s ({results['polite_feeds']:.0f} feeds in "
              f"{results['polite_s']:.1f} s), so {small} feeds on one host would take about {polite * small:.0f} s "
              f"against {results['onehost_s']:.1f} s with `VEILLE_HTTP_PER_HOST=16 VEILLE_HTTP_HOST_DELAY=0`: "
              "raise them only for a host of your own.", ""]
    return "\n".join(lines)
