"""`veille run`: APScheduler jobs that call pipeline functions, with job state kept in the database.

Each enabled source is collected on its `every` interval (right away when new); the digest is built
and sent weekly at `digest.send_at`. Jobs live in the `apscheduler_jobs` table: after a restart a
missed weekly send still runs (within 12 hours), and the deliveries table stops it from being sent twice.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from veille import pipeline
from veille.errors import VeilleError

log = logging.getLogger("veille.schedule")
WEEKLY_JOB = "digest:weekly"
WEEKLY_GRACE = 12 * 3600


def collect_job(config_dir: str, name: str) -> None:
    """Collect one source (a scheduler job: loads the configuration afresh each time)."""
    ctx = pipeline.open_context(Path(config_dir))
    try:
        report = pipeline.collect_sources(ctx, [name])
    finally:
        ctx.close()
    for source in report.sources:
        if source.status == "failed":
            log.warning("source %s failed: %s", source.name, source.error)
    log.info("collect %s: %s", name, report.line())


def digest_job(config_dir: str) -> None:
    """Build and send last week's digest (recipients already served are skipped)."""
    directory = Path(config_dir)
    ctx = pipeline.open_context(directory)
    try:
        report = pipeline.build_digest(ctx, mode="send", reports_dir=ctx.settings.reports_dir)
    finally:
        ctx.close()
    sent = sum(e.status in ("sent", "outbox") for e in report.emails)
    log.info("digest %s: %d items, %d emails delivered", report.week, report.items, sent)
    if report.error:
        log.error("digest %s: %s", report.week, report.error)


def weekly_trigger(send_at: str, zone: Any) -> CronTrigger:
    day, clock = send_at.split()
    hour, minute = clock.split(":")
    return CronTrigger(day_of_week=day, hour=int(hour), minute=int(minute), timezone=zone)


def configure(scheduler: BackgroundScheduler, ctx: pipeline.Context, config_dir: Path,
              now: datetime | None = None) -> None:
    """Add, update or remove jobs so they match the configuration; keep the timing of unchanged ones."""
    now = now or ctx.clock()
    wanted = {f"collect:{s.name}": s for s in ctx.config.sources if s.enabled}
    for job in scheduler.get_jobs():
        if job.id.startswith("collect:") and job.id not in wanted:
            job.remove()
    for job_id, source in wanted.items():
        job = scheduler.get_job(job_id)
        if job is not None and int(job.trigger.interval.total_seconds()) == source.every_seconds:
            continue
        scheduler.add_job(collect_job, IntervalTrigger(seconds=source.every_seconds, timezone=UTC),
                          args=[str(config_dir), source.name], id=job_id, name=f"collect {source.name}",
                          replace_existing=True, next_run_time=now)
    trigger = weekly_trigger(ctx.config.digest.send_at, ctx.settings.zone)
    job = scheduler.get_job(WEEKLY_JOB)
    if job is None or str(job.trigger) != str(trigger):
        scheduler.add_job(digest_job, trigger, args=[str(config_dir)], id=WEEKLY_JOB, name="weekly digest",
                          replace_existing=True, misfire_grace_time=WEEKLY_GRACE)


class _Scheduler(BackgroundScheduler):
    """APScheduler 3's loop runs one more round after shutdown() has stopped the executors: a job due
    at that moment fails to start, yet its next run time is advanced in the job store and the run is
    lost. Only a running scheduler processes jobs here."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        result: float | None = super()._process_jobs()
        return result


def build_scheduler(ctx: pipeline.Context) -> BackgroundScheduler:
    # the job store shares the store's engine: same URL, same SQLite busy timeout (jobs write concurrently)
    return _Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=ctx.store.engine)},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=ctx.settings.zone,
    )


def planned(scheduler: BackgroundScheduler, ctx: pipeline.Context) -> list[str]:
    """What the scheduler will do next, one line a job, times in the deployment's zone: each source's next
    collect (in sources.yaml's order), then the next digest send."""
    zone = ctx.settings.zone

    def when(job: Any) -> str:
        at = job.next_run_time if job is not None else None
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if at else "paused"

    lines = [f"collect {s.name} every {s.every}: next {when(scheduler.get_job(f'collect:{s.name}'))}"
             for s in ctx.config.sources if s.enabled]
    lines.append(f"digest ({ctx.config.digest.send_at}): next send {when(scheduler.get_job(WEEKLY_JOB))}")
    return lines


def reconfigure(scheduler: BackgroundScheduler, config_dir: Path) -> pipeline.Context:
    """Read the configuration again and make the jobs match it (SIGHUP); return the context it was read in
    (closed: only its configuration and settings are used). A bad configuration raises ConfigError, jobs kept."""
    ctx = pipeline.open_context(config_dir)
    try:
        configure(scheduler, ctx, config_dir)
    finally:
        ctx.close()
    return ctx


def run_scheduler(config_dir: Path, stop: threading.Event | None = None,
                  on_schedule: Callable[[list[str]], None] | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set); return the exit code. `on_schedule` is given the lines of
    `planned` at start and after each SIGHUP (which reloads the configuration first)."""
    ctx = pipeline.open_context(config_dir)  # validates the configuration before anything is scheduled
    stop = stop or threading.Event()
    scheduler = build_scheduler(ctx)
    scheduler.start(paused=True)
    configure(scheduler, ctx, config_dir)

    def reload(*_: Any) -> None:
        try:
            current = reconfigure(scheduler, config_dir)
        except VeilleError as exc:
            problems = [str(p) for p in getattr(exc, "problems", [])] or [str(exc)]
            log.error("SIGHUP: configuration not reloaded, jobs kept: %s", "; ".join(problems))
            current = ctx
        else:
            log.info("SIGHUP: configuration reloaded")
        if on_schedule:
            on_schedule(planned(scheduler, current))

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        signal.signal(signal.SIGHUP, reload)
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.info("scheduled %s, next run %s", job.name, job.next_run_time)
    if on_schedule:
        on_schedule(planned(scheduler, ctx))
    log.info("veille is running; stop with Ctrl-C or SIGTERM, reload the configuration with SIGHUP")
    # woken each second: a signal the kernel delivers to another thread only runs its handler when the main
    # thread runs Python again, and a wait without end would never return (SIGTERM then seemed ignored)
    while not stop.wait(timeout=1.0):
        pass
    log.info("stopping: waiting for running jobs to finish")
    scheduler.shutdown(wait=True)
    ctx.close()
    log.info("stopped")
    return 0
