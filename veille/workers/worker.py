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
    worker at a time does it (the others skip their turn), so that no job is given back twice."""
    with store.recovering() as mine:
        if not mine:
            return []
        stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=timeout))
        for job in stalled:
            await app.job_manager.retry_job_by_id_async(job.id, retry_at=AT_ONCE)
            log.warning("job %s (%s %s) given back to the queue: its worker %s sent no heartbeat for %gs",
                        job.id, job.task_name, job.task_kwargs.get("source", ""), job.worker_id, timeout)
        return [int(job.id) for job in stalled if job.id is not None]


async def _recovering(app: Any, store: Store, timeout: float, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await recover_stalled(app, store, timeout)
        except Exception as exc:  # the database away for a moment: try again at the next turn
            log.warning("stalled jobs not checked: %s: %s", type(exc).__name__, exc)


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
            async with app.open_async():
                store = runtime.context().store
                await recover_stalled(app, store, settings.worker_timeout)  # before the first job is fetched
                side = asyncio.create_task(_recovering(app, store, settings.worker_timeout, settings.worker_heartbeat))
                log.info("worker %s: %d jobs at once; stop it with Ctrl-C or SIGTERM", runtime.name, jobs)
                try:
                    await app.run_worker_async(
                        queues=[QUEUE], concurrency=jobs, name=runtime.name, wait=not until_empty,
                        update_heartbeat_interval=settings.worker_heartbeat,
                        stalled_worker_timeout=settings.worker_timeout, listen_notify=True,
                        fetch_job_polling_interval=max(settings.worker_heartbeat, 1.0),
                        install_signal_handlers=True, delete_jobs="never")
                finally:
                    side.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await side

        asyncio.run(main())
    finally:
        runtime.close()
    log.info("worker %s stopped", runtime.name)
    return 0
