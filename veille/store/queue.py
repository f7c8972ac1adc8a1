"""The job queue's tables, read and prepared (SQL only here; PostgreSQL only).

The queue itself is procrastinate's: its schema (the `procrastinate_*` tables and functions) is created here,
once, by the first worker or scheduler to start; its jobs are deferred, fetched and finished by the library. What
veille reads of it: the jobs waiting or running for each source (so that the scheduler does not ask again), the
list `veille jobs` prints, and which workers are alive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa

SCHEMA_LOCK = 7_401_114  # the advisory lock under which the queue's schema is created
RECOVERY_LOCK = 7_401_115  # held by the one worker that gives stalled jobs back to the queue at a time
# procrastinate's job statuses as veille names them (`aborting` is a legacy status, shown as aborted)
JOB_STATES = {"todo": "waiting", "doing": "running", "failed": "failed", "succeeded": "done",
              "cancelled": "cancelled", "aborted": "aborted", "aborting": "aborted"}
# a running job whose worker sent no heartbeat for `:stalled` seconds (or was removed as dead)
STALLED = "j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => :stalled))"


def queue_statuses(states: Iterable[str]) -> list[str]:
    """procrastinate's statuses of jobs in veille's `states` (a stalled job is one of its running ones)."""
    wanted = set(states) | ({"running"} if "stalled" in states else set())
    return sorted(status for status, state in JOB_STATES.items() if state in wanted)


class Queue:
    """Mixed into `Store`: the job queue's schema and what veille reads of its jobs and workers."""

    engine: sa.Engine

    def queue_ready(self) -> bool:
        """Whether the queue's tables exist (a worker or a scheduler has started once)."""
        if self.engine.dialect.name != "postgresql":
            return False
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar() is True

    def ensure_queue(self, schema_sql: str) -> bool:
        """Create the queue's schema from `schema_sql` unless it exists (one process at a time: two workers
        starting together create it once); return whether it was created now."""
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            if conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar():
                return False
            cursor = conn.connection.cursor()  # the driver's own: the script's '%' are not parameters
            try:
                cursor.execute(schema_sql)
            finally:
                cursor.close()
        return True

    def queued_sources(self, task: str) -> set[str]:
        """The sources that have a `task` job waiting or running (a stalled one included: it is given back)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT DISTINCT args->>'source' FROM procrastinate_jobs WHERE task_name = :task "
                "AND status IN ('todo', 'doing')"), {"task": task})
            return {r[0] for r in rows if r[0]}

    def queue_jobs(self, statuses: Sequence[str], stalled_after: float, limit: int) -> list[dict[str, Any]]:
        """The queue's jobs in `statuses` (procrastinate's: todo, doing, failed, succeeded…), oldest first, at
        most `limit` (the newest kept): id, task, status as veille names it (a running job whose worker sent no
        heartbeat for `stalled_after` seconds is `stalled`), args, attempts, worker, deferred and started times."""
        query = sa.text("""
            SELECT * FROM (
              SELECT j.id, j.task_name, j.status::text AS status, j.args, j.attempts, j.worker_id,
                     j.scheduled_at, w.last_heartbeat,
                     (""" + STALLED + """) AS stalled,
                     (SELECT min(e.at) FROM procrastinate_events e
                       WHERE e.job_id = j.id AND e.type = 'deferred') AS deferred_at,
                     (SELECT max(e.at) FROM procrastinate_events e
                       WHERE e.job_id = j.id AND e.type = 'started') AS started_at
                FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
               WHERE j.status::text = ANY(:statuses)
               ORDER BY j.id DESC LIMIT :limit) AS newest
            ORDER BY id""")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"statuses": list(statuses), "stalled": float(stalled_after),
                                        "limit": limit}).mappings().all()
        return [dict(r) | {"state": "stalled" if r["stalled"] else JOB_STATES.get(r["status"], r["status"])}
                for r in rows]

    def queue_counts(self, stalled_after: float) -> dict[str, int]:
        """How many jobs are in each state (veille's names, `stalled` apart from `running`)."""
        query = sa.text("""
            SELECT CASE WHEN """ + STALLED + """ THEN 'stalled' ELSE j.status::text END AS state, count(*)
              FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
             GROUP BY 1""")
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"stalled": float(stalled_after)}).all()
        counts: dict[str, int] = {}
        for state, n in rows:
            name = "stalled" if state == "stalled" else JOB_STATES.get(state, state)
            counts[name] = counts.get(name, 0) + int(n)
        return counts

    def live_workers(self, stalled_after: float) -> list[tuple[int, datetime]]:
        """(id, last heartbeat) of the workers heard from within `stalled_after` seconds."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, last_heartbeat FROM procrastinate_workers "
                "WHERE last_heartbeat >= now() - make_interval(secs => :stalled) ORDER BY id"),
                {"stalled": float(stalled_after)}).all()
        return [(int(r[0]), r[1]) for r in rows]

    @contextmanager
    def recovering(self) -> Iterator[bool]:
        """Hold the lock of stalled-job recovery while the block runs; yield False (and hold nothing) when another
        worker holds it: two workers giving the same stalled job back at once could hand it out twice."""
        with self.engine.connect() as conn:
            got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": RECOVERY_LOCK}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": RECOVERY_LOCK})
                    conn.commit()
