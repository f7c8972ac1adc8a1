"""Workers on the real PostgreSQL: several `veille worker` processes on one queue, one of them killed, and
schedulers racing to defer the same jobs."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.conftest import write_config
from tests.workers.conftest import Feeds, feed_sources, veille_process_env, wait_for
from veille import periods, pipeline
from veille.models import Fetched
from veille.workers.app import build_app, prepare_queue
from veille.workers.scheduler import defer_due

pytestmark = pytest.mark.postgres
ZONE = ZoneInfo("Europe/Paris")


def _defer(pg: str, config: Path, now: datetime) -> list[periods.Deferral]:
    """One pass of a scheduler at `now`, in this process."""
    ctx = pipeline.open_context(config, env={"VEILLE_DB": pg, "VEILLE_TZ": "Europe/Paris"})
    try:
        prepare_queue(ctx)
        app = build_app(pg)

        async def once() -> list[periods.Deferral]:
            async with app.open_async():
                return await defer_due(app, ctx, now)

        return asyncio.run(once())
    finally:
        ctx.close()


def _worker(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "veille", "--config", str(config), "-v", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _rows(pg: str, query: str) -> list[tuple]:
    engine = sa.create_engine(pg)
    try:
        with engine.begin() as conn:
            return [tuple(r) for r in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


def _collected(pg: str) -> int:
    return _rows(pg, "SELECT count(*) FROM fetch_state WHERE last_status = 'ok'")[0][0]


def _send_at(now: datetime) -> str:
    """A weekly send time a few minutes before `now` (in Paris): the digest is due at once."""
    local = (now - timedelta(minutes=5)).astimezone(ZONE)
    return f"{periods.DAYS[local.weekday()]} {local:%H:%M}"


def test_three_workers_one_killed_every_source_once_and_one_digest(pg_url, tmp_path, smtp):
    sources = 300
    now = datetime.now(UTC)
    recipients = ["group@wsm.example.org", "watch@wsm.example.org"]
    with Feeds(items=5, delay=0.15) as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, sources),
                              digest={"recipients": recipients, "send_at": _send_at(now)})
        deferred = _defer(pg_url, config, now)
        assert Counter(d.task for d in deferred) == {periods.COLLECT: sources, periods.DIGEST: 1}
        assert _defer(pg_url, config, now) == []  # a second pass in the same period defers nothing

        env = veille_process_env(pg_url, worker_concurrency="4", worker_heartbeat="0.5", worker_timeout="3",
                                 smtp_host=smtp.host, smtp_port=str(smtp.port), smtp_tls="none")
        workers = [_worker(config, env, tmp_path / f"worker{i}.log") for i in range(3)]
        try:
            wait_for(lambda: _collected(pg_url) >= 90, 60, "a third of the sources collected")
            workers[0].send_signal(signal.SIGKILL)  # in the middle: it holds running jobs
            workers[0].wait()
            wait_for(lambda: _collected(pg_url) == sources, 90, "every source collected")
            wait_for(lambda: not _rows(pg_url, "SELECT id FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"),
                     30, "the queue drained")
            first = Counter(feeds.hits)

            # no item lost or stored twice; each source's job done once, the killed worker's given back
            per_source = _rows(pg_url, "SELECT source, count(*) FROM items GROUP BY source")
            assert len(per_source) == sources and {n for _, n in per_source} == {5}
            jobs = _rows(pg_url, "SELECT args->>'source', status::text, attempts FROM procrastinate_jobs "
                                 "WHERE task_name = 'veille.collect'")
            assert Counter(s for s, status, _ in jobs if status == "succeeded") == {f"feed-{n:04d}": 1
                                                                                   for n in range(sources)}
            retried = [s for s, _, attempts in jobs if attempts > 1]
            assert 1 <= len(retried) <= 4  # the killed worker's running jobs (4 at once), taken up by the others
            assert set(first.values()) <= {1, 2} and sum(v == 2 for v in first.values()) <= len(retried)
            assert "given back to the queue" in "".join((tmp_path / f"worker{i}.log").read_text() for i in (1, 2))
            # the digest, once to each recipient
            wait_for(lambda: len(smtp.handler.messages) >= len(recipients), 30, "the digest sent")
            assert sorted(r for rcpts, _ in smtp.handler.messages for r in rcpts) == sorted(recipients)

            # an hour after the last fetch, every source's next period has begun: each exactly once more, the
            # digest not again
            cycle = _defer(pg_url, config, datetime.now(UTC) + timedelta(hours=1))
            assert Counter(d.task for d in cycle) == {periods.COLLECT: sources}
            wait_for(lambda: sum(feeds.hits.values()) == sum(first.values()) + sources, 90,
                     "the second cycle collected")
            wait_for(lambda: not _rows(pg_url, "SELECT id FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"),
                     30, "the queue drained again")
            assert feeds.hits - first == Counter({path: 1 for path in first})
            assert len(smtp.handler.messages) == len(recipients)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=30)
    assert all(w.returncode == 0 for w in workers[1:])  # SIGTERM: running jobs finish, a clean stop

    show = subprocess.run([sys.executable, "-m", "veille", "--config", str(config), "sources", "--json"], env=env,
                          capture_output=True, text=True, check=True)
    by = {row["source"]: row["collected by"] for row in json.loads(show.stdout)}
    assert all(text.startswith("worker ") for text in by.values()) and len(set(by.values())) >= 2


def test_two_schedulers_defer_each_source_once(pg_url, tmp_path):
    sources = 200
    with Feeds() as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, sources, every="1m"))
        env = veille_process_env(pg_url, schedule_tick="0.2")
        runs = [subprocess.Popen([sys.executable, "-m", "veille", "--config", str(config), "run"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            wait_for(lambda: _rows(pg_url, "SELECT to_regclass('procrastinate_jobs') IS NOT NULL")[0][0] and
                     _rows(pg_url, "SELECT count(*) FROM procrastinate_jobs")[0][0] >= sources, 60,
                     "the jobs deferred")
            # both keep passing over the sources, each several times (the tick is 0.2 s); no job is added
            wait_for(lambda: _rows(pg_url, "SELECT count(*) FROM procrastinate_periodic_defers")[0][0] >= sources,
                     10, "the defers recorded")
            for run in runs:
                run.send_signal(signal.SIGTERM)
            outputs = [run.communicate(timeout=30) for run in runs]
        finally:
            for run in runs:
                if run.poll() is None:
                    run.kill()
        assert [run.returncode for run in runs] == [0, 0], outputs
        jobs = _rows(pg_url, "SELECT args->>'source' FROM procrastinate_jobs WHERE task_name = 'veille.collect'")
        assert Counter(s for (s,) in jobs) == {f"feed-{n:04d}": 1 for n in range(sources)}
        assert all("scheduled: collect feed-0000 every 1m" in out for out, _ in outputs)
        assert feeds.hits == Counter()  # schedulers collect nothing themselves


def test_schedulers_racing_in_one_period_and_the_next(pg_url, tmp_path):
    """Two schedulers passing at the same moment defer each job once; once the sources are fetched, the next
    period defers each once more."""
    sources = 50
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    with Feeds() as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, sources))
        ctxs = [pipeline.open_context(config, env={"VEILLE_DB": pg_url}) for _ in range(2)]
        try:
            prepare_queue(ctxs[0])
            apps = [build_app(pg_url) for _ in ctxs]

            async def race(at: datetime) -> list[list[periods.Deferral]]:
                async with apps[0].open_async(), apps[1].open_async():
                    passes = (defer_due(app, ctx, at) for app, ctx in zip(apps, ctxs, strict=True))
                    return list(await asyncio.gather(*passes))

            def names(found: list[list[periods.Deferral]]) -> list[str]:
                return sorted(d.args["source"] for d in found[0] + found[1])

            def fetched(at: datetime) -> None:  # the jobs ran: the queue emptied as a worker would, fetches recorded
                _rows(pg_url, "UPDATE procrastinate_jobs SET status = 'succeeded' RETURNING id")
                ctxs[0].store.clock = lambda: at
                ctxs[0].store.record_fetches([Fetched(f"feed-{n:04d}", True, "ok") for n in range(sources)])

            every = [f"feed-{n:04d}" for n in range(sources)]
            assert names(asyncio.run(race(now))) == every
            fetched(now)
            # half an hour on: only the sources whose hour-long period started since are due, each once
            half = now + timedelta(minutes=30)
            started = sorted(n for n in every if periods.period_start(n, 3600, half) > now.timestamp())
            assert 0 < len(started) < sources  # the phases spread the sources over the hour
            assert names(asyncio.run(race(half))) == started
            fetched(half)
            assert names(asyncio.run(race(half))) == []
            # an hour and a half on: every source's period started after the last fetch
            assert names(asyncio.run(race(now + timedelta(minutes=90)))) == every
        finally:
            for ctx in ctxs:
                ctx.close()


def _run_worker_until_empty(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "veille", "--config", str(config), "worker", "--until-empty"],
                          env=env, capture_output=True, text=True, timeout=120)


def _jobs(config: Path, env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "veille", "--config", str(config), "jobs", "--json", *args],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_a_killed_workers_job_is_listed_stalled_then_taken_up(pg_url, tmp_path):
    with Feeds(delay=1.5) as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, 1))
        _defer(pg_url, config, datetime.now(UTC))
        env = veille_process_env(pg_url, worker_heartbeat="0.2", worker_timeout="1")
        assert [j["state"] for j in _jobs(config, env)["jobs"]] == ["waiting"]
        worker = _worker(config, env, tmp_path / "worker.log")
        try:
            wait_for(lambda: feeds.hits, 30, "the worker fetching")
            running = _jobs(config, env)
            assert [(j["state"], j["source"]) for j in running["jobs"]] == [("running", "feed-0000")]
            assert len(running["workers"]) == 1 and running["jobs"][0]["worker"] == running["workers"][0]["id"]
        finally:
            worker.kill()
            worker.wait()
        stalled = wait_for(lambda: [j for j in _jobs(config, env)["jobs"] if j["state"] == "stalled"], 10,
                           "the job listed stalled")
        assert stalled[0]["source"] == "feed-0000" and stalled[0]["task"] == "collect"
        table = subprocess.run([sys.executable, "-m", "veille", "--config", str(config), "jobs"], env=env,
                               capture_output=True, text=True, check=True).stdout
        assert "stalled" in table and "feed-0000" in table and "1 stalled; 0 workers alive" in table
        assert _run_worker_until_empty(config, env).returncode == 0
        (job,) = _jobs(config, env, "--state", "done")["jobs"]
        assert job["source"] == "feed-0000" and job["attempts"] == 2
        assert _jobs(config, env)["jobs"] == [] and _rows(pg_url, "SELECT count(*) FROM items")[0][0] == 5


def test_a_failed_source_is_deferred_again_when_its_backoff_ends(pg_url, tmp_path):
    now = datetime.now(UTC)
    with Feeds() as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, 3))
        env = veille_process_env(pg_url)
        feeds.failing = {1}
        assert len(_defer(pg_url, config, now)) == 3
        assert _run_worker_until_empty(config, env).returncode == 0
        failures, wait_until = _rows(pg_url, "SELECT failures, next_attempt_at FROM fetch_state "
                                             "WHERE source = 'feed-0001'")[0]
        wait_until = wait_until.replace(tzinfo=UTC)  # stored in UTC
        assert failures == 1 and wait_until > now + timedelta(minutes=14)
        # (the other sources are due again whenever their hour-long period starts: only feed-0001 is followed)
        def deferred(at: datetime) -> list[periods.Deferral]:
            return [d for d in _defer(pg_url, config, at) if d.args["source"] == "feed-0001"]

        assert deferred(now + timedelta(minutes=10)) == []  # it waits out its backoff
        feeds.failing = set()
        (retry,) = deferred(wait_until + timedelta(seconds=1))
        assert retry.args == {"source": "feed-0001", "timestamp": int(wait_until.timestamp()), "retry": True}
        assert deferred(wait_until + timedelta(seconds=2)) == []  # once
        assert _run_worker_until_empty(config, env).returncode == 0
        assert _rows(pg_url, "SELECT failures, last_status FROM fetch_state WHERE source = 'feed-0001'") == [(0, "ok")]
        assert feeds.hits["/feed/1.xml"] == 2


def test_a_running_worker_collects_a_source_added_to_the_configuration(pg_url, tmp_path):
    with Feeds() as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, 1))
        env = veille_process_env(pg_url, worker_heartbeat="0.2")
        worker = _worker(config, env, tmp_path / "worker.log")
        try:
            _defer(pg_url, config, datetime.now(UTC))
            wait_for(lambda: _collected(pg_url) == 1, 30, "the first source collected")
            write_config(config, feed_sources(feeds, 2))
            _defer(pg_url, config, datetime.now(UTC))
            wait_for(lambda: _collected(pg_url) == 2, 30, "the added source collected")
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        assert "configuration reloaded" in (tmp_path / "worker.log").read_text()


def test_worker_and_jobs_need_postgresql(veille, tmp_path):
    config = write_config(tmp_path / "config", [])
    for command in ("worker", "jobs"):
        result = veille("--config", config, command)
        assert result.code == 2 and "PostgreSQL" in result.err and "veille run" in result.err, result.err
    assert not (config / "veille.db").exists()  # nothing created on the way


def test_a_stopping_worker_keeps_its_jobs_until_they_end(pg_url, tmp_path):
    """SIGTERM: the running job finishes on its worker, which keeps sending heartbeats meanwhile, so another
    worker does not take it up even once the timeout has passed."""
    with Feeds(delay=3.0) as feeds:
        config = write_config(tmp_path / "config", feed_sources(feeds, 1))
        env = veille_process_env(pg_url, worker_heartbeat="0.2", worker_timeout="1")
        _defer(pg_url, config, datetime.now(UTC))
        first = _worker(config, env, tmp_path / "first.log")
        wait_for(lambda: feeds.hits, 30, "the first worker fetching")
        first.send_signal(signal.SIGTERM)
        other = _worker(config, env, tmp_path / "other.log")
        try:
            assert first.wait(timeout=30) == 0  # after its job, three seconds in: well past the timeout
        finally:
            other.send_signal(signal.SIGTERM)
            assert other.wait(timeout=30) == 0
        assert feeds.hits == Counter({"/feed/0.xml": 1})
        (job,) = _jobs(config, env, "--state", "done")["jobs"]
        assert job["attempts"] == 1 and _collected(pg_url) == 1
