"""The job queue (procrastinate, on the PostgreSQL database veille already uses) and its two tasks.

A task calls a pipeline function, nothing else: `veille.collect` collects one source, `veille.digest` builds and
sends one week's digest. A worker keeps one open deployment (`Runtime`) for all its jobs: one store, the
configuration read again when its files change (a source added to sources.yaml is collected by the running
workers, with no restart).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veille import pipeline
from veille.errors import ConfigError, InputError, VeilleError
from veille.periods import COLLECT, DIGEST, Deferral

if TYPE_CHECKING:
    import procrastinate

log = logging.getLogger("veille.workers")
QUEUE = "veille"  # the queue's name: every job of veille goes there


def conninfo(db_url: str) -> str:
    """The libpq address of a SQLAlchemy PostgreSQL URL (`postgresql+psycopg://…` → `postgresql://…`)."""
    import sqlalchemy as sa

    url = sa.engine.make_url(db_url)
    if url.get_backend_name() != "postgresql":
        raise InputError(f"the job queue needs PostgreSQL: VEILLE_DB is {url.get_backend_name()} "
                         f"({url.render_as_string(hide_password=True)}); on SQLite, `veille run` collects and sends "
                         "the digest by itself")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(db_url: str, pool_size: int = 4) -> procrastinate.App:
    """A procrastinate app on the database (its connection pool holds up to `pool_size` connections)."""
    try:
        import procrastinate
    except ImportError as exc:
        raise InputError("the job queue needs procrastinate: pip install 'veille[postgres]'") from exc
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(db_url), min_size=1, max_size=max(pool_size, 2))
    return procrastinate.App(connector=connector)


def prepare_queue(ctx: pipeline.Context) -> None:
    """Create the queue's tables in the database unless they exist (the first worker or scheduler does)."""
    from procrastinate.schema import SchemaManager

    if ctx.store.ensure_queue(SchemaManager.get_schema()):
        log.info("job queue created in the database")


def job(deferral: Deferral) -> Any:
    """The procrastinate job of a deferral."""
    from procrastinate import jobs

    return jobs.Job(id=None, queue=QUEUE, lock=deferral.lock, queueing_lock=deferral.queueing_lock,
                    task_name=deferral.task, task_kwargs=dict(deferral.args))  # type: ignore[arg-type]


class Runtime:
    """A worker's open deployment: its store, and its configuration read again when one of its files changes."""

    def __init__(self, config_dir: Path, tagging: bool = True):
        self.directory = config_dir
        self.tagging = tagging  # a scheduler tags nothing: no taxonomy to compile
        self._ctx = pipeline.open_context(config_dir)
        if tagging:
            self._ctx.tagger  # noqa: B018 compiled once, before jobs run in several threads
        self._stamp = self._files()
        self._lock = threading.Lock()
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def _files(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in sorted(self.directory.glob("*.yaml")):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def context(self) -> pipeline.Context:
        """The deployment as its files say now (a configuration made invalid meanwhile: the last valid one, and
        an error in the log)."""
        stamp = self._files()
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    config = pipeline.load_config(self.directory)
                except ConfigError as exc:
                    log.error("configuration not reloaded, the last valid one is kept: %s",
                              "; ".join(str(p) for p in exc.problems))
                else:
                    fresh = replace(self._ctx, config=config, _tagger=None)
                    if self.tagging:
                        fresh.tagger  # noqa: B018 compiled before it is shared
                    self._ctx = fresh
                    log.info("configuration reloaded")
            return self._ctx

    def close(self) -> None:
        self._ctx.close()


def register_tasks(app: procrastinate.App, runtime: Runtime) -> None:
    """The tasks a worker runs, on `app`."""

    @app.task(name=COLLECT, queue=QUEUE, pass_context=True)
    def collect(context: Any, source: str, timestamp: int, retry: bool = False) -> dict[str, Any]:
        worker = f"worker {context.job.worker_id} ({runtime.name})"
        report = pipeline.collect_queued(runtime.context(), source, worker)
        log.log(logging.WARNING if report.status == "failed" else logging.INFO, "source %s: %s%s", source,
                report.status, f" ({report.error})" if report.error else "",
                extra={"source": source, "job": context.job.id})
        return {k: v for k, v in vars(report).items() if v is not None}

    @app.task(name=DIGEST, queue=QUEUE, pass_context=True)
    def digest(context: Any, timestamp: int) -> dict[str, Any]:
        ctx = runtime.context()
        week = pipeline.Week.last_complete(datetime.fromtimestamp(timestamp, UTC), ctx.settings.zone)
        report = pipeline.build_digest(ctx, week=week, mode="send", reports_dir=ctx.settings.reports_dir)
        sent = sum(e.status in ("sent", "outbox") for e in report.emails)
        log.info("digest %s: %d items, %d emails delivered", report.week, report.items, sent,
                 extra={"job": context.job.id})
        if report.error:  # the job fails, `veille jobs` shows it; what was sent is not sent again
            raise VeilleError(f"digest {report.week}: {report.error}")
        return {"week": str(report.week), "items": report.items, "delivered": sent}
