"""Collection beyond one process, on PostgreSQL: the job queue (`app`), its scheduler (`scheduler`: `veille run`,
deferring what `veille.periods` says is due), the workers that run the jobs (`worker`: `veille worker`) and the
listing of the queue (`listing`: `veille jobs`). On SQLite, `veille run` (schedule.py) does it all in one
process."""
