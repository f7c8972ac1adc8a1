"""Queue workers on PostgreSQL: throughput with 1, 2 and 3 `veille worker` processes, and the database's load.

    python -m bench.workers [--sources 1000] [--items 20] [--workers 1 2 3] [--json FILE]

Needs a PostgreSQL server: VEILLE_BENCH_PG_URL (else VEILLE_TEST_PG_URL), a SQLAlchemy URL whose user may create
databases ("PostgreSQL not available: rows skipped" otherwise). For each worker count, in a new database: the
sources deferred by one scheduler pass, then that many `veille worker --until-empty` processes (16 jobs at once
each, as the collect benchmark's 16 requests in flight) on the same feeds (each on its own loopback address,
answers delayed 100–300 ms); wall time until the queue is empty, CPU time of the workers, and what the database
did meanwhile, per 1,000 sources (transactions, rows written and read, WAL bytes, from `pg_stat_database` and
the WAL position). Baseline: one `veille collect` process (the embedded path) over the same feeds into a new
PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench.collect import write_config
from bench.feeds import FeedFarm

ROOT = Path(__file__).resolve().parents[1]
JOBS = 16  # jobs at once per worker: the collect benchmark's requests in flight
COUNTERS = ("xact_commit", "tup_inserted", "tup_updated", "tup_deleted", "tup_returned", "tup_fetched")


def server_url() -> str | None:
    return os.environ.get("VEILLE_BENCH_PG_URL") or os.environ.get("VEILLE_TEST_PG_URL")


class Database:
    """A new database on the server, dropped at the end."""

    def __init__(self, url: str):
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        self.name = f"veille_bench_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = sa.engine.make_url(url).set(database=self.name).render_as_string(hide_password=False)

    def stats(self) -> dict[str, float]:
        """The database's counters and the server's WAL position (stats of ended sessions are flushed)."""
        with self.admin.connect() as conn:
            row = conn.execute(sa.text(f"SELECT {', '.join(COUNTERS)} FROM pg_stat_database WHERE datname = :name"),
                               {"name": self.name}).one()
            wal = conn.execute(sa.text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar()
        return {**{c: float(v) for c, v in zip(COUNTERS, row, strict=True)}, "wal_bytes": float(wal)}

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def env_for(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    return env | {"VEILLE_DB": db, "VEILLE_TZ": "Europe/Paris", "VEILLE_WORKER_CONCURRENCY": str(JOBS),
                  "VEILLE_HTTP_CONCURRENCY": str(JOBS), "PYTHONPATH": str(ROOT)}


def defer_all(directory: Path, db: str) -> int:
    """One scheduler pass: every source is due in a new database."""
    from veille import pipeline
    from veille.workers.app import build_app, prepare_queue
    from veille.workers.scheduler import defer_due

    ctx = pipeline.open_context(directory, env={"VEILLE_DB": db})
    try:
        prepare_queue(ctx)
        app = build_app(db)

        async def once() -> int:
            async with app.open_async():
                return len(await defer_due(app, ctx, datetime.now(UTC)))

        return asyncio.run(once())
    finally:
        ctx.close()


def _processes(commands: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Run the commands at once; return (wall seconds until the last ends, CPU seconds of all of them)."""
    start = time.perf_counter()
    pids = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid for c in commands]
    cpu = 0.0
    for pid in pids:
        _, status, usage = os.wait4(pid, 0)
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise RuntimeError(f"{commands[0][3:]} exited with {os.waitstatus_to_exitcode(status)}")
        cpu += usage.ru_utime + usage.ru_stime
    return time.perf_counter() - start, cpu


def run_once(url: str, farm: FeedFarm, count: int, workers: int | None) -> dict[str, float]:
    """`workers` worker processes over the queue (None: one `veille collect`), in a new database."""
    db = Database(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            write_config(directory, farm, count)
            command = [sys.executable, "-m", "veille", "--config", str(directory)]
            if workers is None:
                subprocess.run([*command, "check"], env=env_for(db.url), capture_output=True, check=True)
                before = db.stats()
                wall, cpu = _processes([[*command, "collect"]], env_for(db.url))
            else:
                if defer_all(directory, db.url) != count:
                    raise RuntimeError("not every source was deferred")
                time.sleep(1.0)  # the statistics of the scheduler's session flushed
                before = db.stats()
                wall, cpu = _processes([[*command, "worker", "--until-empty"]] * workers, env_for(db.url))
            time.sleep(1.5)  # the statistics of the ended sessions flushed
            after = db.stats()
            with sa.create_engine(db.url).connect() as conn:
                stored = conn.execute(sa.text("SELECT count(*) FROM items")).scalar() or 0
        per = 1000 / count
        delta = {k: (after[k] - before[k]) * per for k in after}
        return {"wall_s": wall, "cpu_s": cpu, "items": float(stored), "sources_per_s": count / wall,
                "cpu_ms_per_source": cpu * 1000 / count, **{f"{k}_per_1000": v for k, v in delta.items()},
                "rows_written_per_1000": delta["tup_inserted"] + delta["tup_updated"] + delta["tup_deleted"],
                "wal_mib_per_1000": delta["wal_bytes"] / 2**20}
    finally:
        db.drop()


def measure(count: int, items: int, worker_counts: list[int]) -> dict[str, float]:
    url = server_url()
    if not url:
        print("  PostgreSQL not available (VEILLE_BENCH_PG_URL): worker rows skipped", flush=True)
        return {}
    farm = FeedFarm(count, hosts=count, items=items)
    results: dict[str, float] = {}
    try:
        for workers in [None, *worker_counts]:
            name = "queue_collect" if workers is None else f"queue_workers{workers}"
            figures = run_once(url, farm, count, workers)
            results |= {f"{name}_{k}": v for k, v in figures.items()}
            print(f"  {name}: {figures['wall_s']:.1f} s, {figures['sources_per_s']:.1f} sources/s, "
                  f"{figures['xact_commit_per_1000']:,.0f} transactions per 1,000 sources", flush=True)
    finally:
        farm.stop()
    results["queue_sources"] = float(count)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = measure(args.sources, args.items, args.workers)
    text = json.dumps({k: round(v, 3) for k, v in results.items()}, indent=2)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
