"""`veille worker`: run the queue's jobs, as many at once as VEILLE_WORKER_CONCURRENCY says.

Any number of workers, on any machines sharing VEILLE_DB, take jobs from one queue: a job is taken by one worker
(the database hands it out under a row lock), and a lock per source keeps two jobs of one source from running at
once. Each worker writes a heartbeat every VEILLE_WORKER_HEARTBEAT seconds; a worker silent for
VEILLE_WORKER_TIMEOUT seconds is taken to be dead (killed, machine lost), and the jobs it was running are given
back to the queue by one of the others. SIGINT or SIGTERM: the running jobs finish, then the worker stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from veille.settings import read_settings
from veille.store import Store
from veille.workers.app import QUEUE, Runtime, build_app, conninfo, prepare_queue, register_tasks

log = logging.getLogger("veille.workers")
# "at once", in the queue's own clock (the database's): a time long past, whatever this process's clock says
AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)


async def recover_stalled(app: Any, store: Store, timeout: float) -> list[int]:
    """Give back to the queue the running jobs of workers silent for `timeout` seconds; return their ids. One
    worker at a time does it (the others skip their turn), so that no job is given back twice. A stalled job
    whose source has another job waiting already is marked failed instead (that one collects the source)."""
    from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
    from procrastinate.jobs import Status

    async with _lock(store) as mine:
        if not mine:
            return []
        given = []
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=timeout):
            what = f"job {job.id} ({job.task_name} {job.task_kwargs.get('source', '')})"
            try:
                await app.job_manager.retry_job_by_id_async(job.id, retry_at=AT_ONCE)
            except (AlreadyEnqueued, UniqueViolation):
                await app.job_manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
                log.warning("%s marked failed: its worker %s went silent and another job of it waits", what,
                            job.worker_id)
                continue
            except Exception as exc:  # finished meanwhile: nothing to give back
                log.info("%s not given back: %s", what, exc)
                continue
            log.warning("%s given back to the queue: its worker %s sent no heartbeat for %gs", what, job.worker_id,
                        timeout)
            given.append(int(job.id))
        return given


@contextlib.asynccontextmanager
async def _lock(store: Store) -> AsyncIterator[bool]:
    """The recovery lock, taken and released in a thread: a slow database must not hold up the heartbeats."""
    holder = store.recovering()
    mine = await asyncio.to_thread(holder.__enter__)
    try:
        yield mine
    finally:
        await asyncio.to_thread(holder.__exit__, None, None, None)


async def _recover(app: Any, store: Store, timeout: float) -> None:
    try:
        await recover_stalled(app, store, timeout)
    except Exception as exc:  # the database away for a moment: try again at the next turn
        log.warning("stalled jobs not checked: %s: %s", type(exc).__name__, exc)


async def _recovering(app: Any, store: Store, timeout: float, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await _recover(app, store, timeout)


async def _beating(app: Any, worker: Any, every: float) -> None:
    """Heartbeats until the worker has stopped: procrastinate stops its own before waiting for the running jobs
    to finish, and a job still running after the timeout would be given to another worker while it runs."""
    while True:
        await asyncio.sleep(every)
        if worker.worker_id is None:
            continue
        try:
            await app.job_manager.update_heartbeat(worker.worker_id)
        except Exception as exc:
            log.warning("heartbeat not written: %s: %s", type(exc).__name__, exc)


def run_worker(config_dir: Path, *, concurrency: int | None = None, until_empty: bool = False) -> int:
    """Run jobs until SIGINT/SIGTERM (or, `until_empty`, until no job is waiting); return the exit code."""
    conninfo(read_settings(config_dir).db_url)  # PostgreSQL, or a clear error before anything is opened
    runtime = Runtime(config_dir)
    try:
        settings = runtime.context().settings
        jobs = concurrency or settings.worker_concurrency
        app = build_app(settings.db_url, pool_size=jobs + 2)
        prepare_queue(runtime.context())
        register_tasks(app, runtime)

        async def main() -> None:
            from procrastinate.worker import Worker

            async with app.open_async():
                store = runtime.context().store
                worker = Worker(app, queues=[QUEUE], concurrency=jobs, name=runtime.name, wait=not until_empty,
                                update_heartbeat_interval=settings.worker_heartbeat,
                                stalled_worker_timeout=settings.worker_timeout, listen_notify=True,
                                fetch_job_polling_interval=max(settings.worker_heartbeat, 1.0),
                                install_signal_handlers=True, delete_jobs="never")
                await _recover(app, store, settings.worker_timeout)  # before the first job is fetched
                side = [asyncio.create_task(_recovering(app, store, settings.worker_timeout,
                                                        settings.worker_heartbeat)),
                        asyncio.create_task(_beating(app, worker, settings.worker_heartbeat))]
                log.info("worker %s: %d jobs at once; stop it with Ctrl-C or SIGTERM", runtime.name, jobs)
                try:
                    await worker.run()
                finally:
                    for task in side:
                        task.cancel()
                    for task in side:
                        with contextlib.suppress(asyncio.CancelledError):
                            await task

        asyncio.run(main())
    finally:
        runtime.close()
    log.info("worker %s stopped", runtime.name)
    return 0
