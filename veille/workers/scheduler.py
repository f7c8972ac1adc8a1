"""`veille run` on PostgreSQL: the queue's scheduler. Every VEILLE_SCHEDULE_TICK seconds it defers the jobs due
(`veille.periods`): the sources whose period started since their last fetch or whose backoff is over, and the
weekly digest at its send time. It collects nothing itself: `veille worker` processes run the jobs. Any number
of schedulers may run (one per machine, for safety): the queue records each job's key once, so each is deferred
once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from veille import pipeline
from veille.periods import COLLECT, Deferral, due_collects, due_digest, last_send, next_collect
from veille.settings import read_settings
from veille.workers.app import Runtime, build_app, conninfo, job, prepare_queue

log = logging.getLogger("veille.workers")
KEEP_FINISHED = timedelta(days=7)  # finished jobs stay listed by `veille jobs --state done` this long


async def defer_due(app: Any, ctx: pipeline.Context, now: datetime) -> list[Deferral]:
    """Defer the jobs due at `now`; return those this call deferred (not those another scheduler did first)."""
    from procrastinate.exceptions import AlreadyEnqueued

    queued = ctx.store.queued_sources(COLLECT)
    wanted = due_collects(ctx.config.sources, ctx.store.fetch_states(counts=False), now, queued)
    digest = due_digest(ctx.config.digest.send_at, ctx.settings.zone, now)
    deferred = []
    for deferral in [*wanted, *([digest] if digest else [])]:
        try:
            job_id = await app.job_manager.defer_periodic_job(job(deferral), periodic_id=deferral.key,
                                                              defer_timestamp=deferral.at)
        except AlreadyEnqueued:  # one of its jobs waits already (deferred by another scheduler meanwhile)
            continue
        if job_id is not None:
            deferred.append(deferral)
    return deferred


def planned(ctx: pipeline.Context, now: datetime) -> list[str]:
    """What the scheduler defers next, one line a source (in sources.yaml's order), then the digest."""
    zone = ctx.settings.zone

    def when(at: datetime) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    states = ctx.store.fetch_states(counts=False)
    lines = []
    for source in ctx.config.sources:
        if source.enabled:
            at, retry = next_collect(source, states.get(source.name), now)
            lines.append(f"collect {source.name} every {source.every}: {'retry' if retry else 'next'} {when(at)} "
                         "(deferred to the queue)")
    send_at = ctx.config.digest.send_at
    lines.append(f"digest ({send_at}): next send {when(last_send(send_at, zone, now + timedelta(days=7)))}")
    return lines


def run_scheduler(config_dir: Path, stop: threading.Event | None = None,
                  on_schedule: Callable[[list[str]], None] | None = None) -> int:
    """Defer due jobs until SIGINT/SIGTERM (or `stop` is set); return the exit code. `on_schedule` is given the
    lines of `planned` at start and after each SIGHUP (the configuration is also read again when its files
    change)."""
    conninfo(read_settings(config_dir).db_url)  # PostgreSQL, or a clear error before anything is opened
    runtime = Runtime(config_dir, tagging=False)
    stop = stop or threading.Event()
    hup = threading.Event()
    ctx = runtime.context()
    settings = ctx.settings
    app = build_app(settings.db_url, pool_size=2)
    prepare_queue(ctx)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            loop.add_signal_handler(signal.SIGHUP, hup.set)
        pruned = None
        async with app.open_async():
            if on_schedule:
                try:
                    on_schedule(planned(runtime.context(), runtime.context().clock()))
                except Exception as exc:
                    log.error("scheduler: schedule not printed: %s: %s", type(exc).__name__, exc)
            log.info("scheduler: deferring due jobs every %gs; `veille worker` processes run them",
                     settings.schedule_tick)
            while not stop.is_set():
                current = runtime.context()
                now = current.clock()
                try:
                    if hup.is_set():
                        hup.clear()
                        if on_schedule:
                            on_schedule(planned(current, now))
                    deferred = await defer_due(app, current, now)
                    if pruned is None or now - pruned > timedelta(hours=1):
                        await app.job_manager.delete_old_jobs(nb_hours=int(KEEP_FINISHED.total_seconds() // 3600),
                                                              include_failed=False)
                        pruned = now
                    _report(current, deferred, settings.worker_timeout)
                except Exception as exc:  # the database away for a moment: the next tick tries again
                    log.error("scheduler: nothing deferred this time: %s: %s", type(exc).__name__, exc)
                await asyncio.to_thread(stop.wait, settings.schedule_tick)

    try:
        asyncio.run(main())
    finally:
        runtime.close()
    log.info("scheduler stopped")
    return 0


def _report(ctx: pipeline.Context, deferred: list[Deferral], timeout: float) -> None:
    if deferred:
        log.info("scheduler: %d jobs deferred (%s)", len(deferred),
                 ", ".join(str(d.args.get("source", d.task)) for d in deferred[:5]) + ("…" if len(deferred) > 5
                                                                                        else ""))
    counts = ctx.store.queue_counts(timeout)
    if counts.get("waiting") and not ctx.store.live_workers(timeout):
        log.warning("scheduler: %d jobs wait and no worker is running: start `veille worker`", counts["waiting"])
