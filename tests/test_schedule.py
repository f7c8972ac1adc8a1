"""`veille run`: jobs persisted in the database, a missed weekly send caught up once, clean stop on SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.conftest import MEMBERS, feed_source, write_config
from veille import pipeline
from veille.schedule import WEEKLY_JOB, build_scheduler, configure


def _count(db) -> int:
    """Items stored so far, read without taking a write lock (the scheduler writes meanwhile)."""
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM items").fetchone()[0])
        except sqlite3.OperationalError:  # tables not created yet
            return 0


def test_run_collects_persists_jobs_and_stops_on_sigterm(tmp_path, http):
    """The scheduler collects new sources at once, keeps its jobs in the database and exits 0 on SIGTERM."""
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), every="1h")], MEMBERS)
    db = directory / "veille.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    process = subprocess.Popen([sys.executable, "-m", "veille", "--config", str(directory), "run"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = []
        assert process.stderr is not None
        for line in process.stderr:  # the log, read as it comes: no polling
            said.append(line)
            if "collect eau:" in line:
                break
        else:
            raise AssertionError(f"no collect; veille run said:\n{''.join(said)}")
        assert _count(db) == 4
        engine = sa.create_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            jobs = {row[0] for row in conn.execute(sa.text("SELECT id FROM apscheduler_jobs"))}
        assert jobs == {"collect:eau", WEEKLY_JOB}
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in err


def test_restart_keeps_timing_and_catches_up_a_missed_weekly_send(tmp_path, http, smtp, monkeypatch):
    """A weekly send missed while veille was down runs after the restart, once; the schedule is not reset."""
    monkeypatch.setenv("VEILLE_SMTP_HOST", smtp.host)
    monkeypatch.setenv("VEILLE_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("VEILLE_SMTP_TLS", "none")
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), every="1d")])
    ctx = pipeline.open_context(directory)
    first = build_scheduler(ctx)
    first.start(paused=True)
    configure(first, ctx, directory)
    missed = datetime.now(UTC) - timedelta(hours=2)  # the Monday send happened while we were down
    first.modify_job(WEEKLY_JOB, next_run_time=missed)
    first.modify_job("collect:eau", next_run_time=datetime.now(UTC) + timedelta(hours=5))
    first.shutdown(wait=False)

    second = build_scheduler(ctx)
    second.start(paused=True)
    configure(second, ctx, directory)
    assert second.get_job(WEEKLY_JOB).next_run_time.astimezone(UTC) == missed  # not reset by the restart
    second.resume()
    try:
        assert smtp.handler.arrived.wait(30), "the missed weekly digest was not sent"
        assert len(smtp.handler.messages) == 1
        assert second.get_job(WEEKLY_JOB).next_run_time.astimezone(UTC) > datetime.now(UTC)
    finally:
        second.shutdown(wait=True)
        ctx.close()
    from veille.schedule import digest_job

    digest_job(str(directory))  # the same week again: already delivered, nothing sent
    assert len(smtp.handler.messages) == 1
