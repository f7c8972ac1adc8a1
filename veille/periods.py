"""What the queue's scheduler defers at a given moment (pure: the configuration, the fetch states and the time in,
the jobs out).

Each source is collected once per period of its interval. The periods are the same for every scheduler, wherever
it runs and whenever it started: they are counted from the epoch, each source shifted by a phase drawn from its
name (so that a thousand sources collected every 6 hours do not all fall due on the same minute). A job is keyed
by its source and the start of its period: the queue records each key once, so any number of schedulers defer it
once. A source that failed waits out its backoff (the fetch state's `next_attempt_at`), then is deferred again,
keyed by that time (or by the start of its period, when that is later). The weekly digest is keyed by its send time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # annotations only: the command line reads this module's names at start-up
    from veille.models import FetchState, Source

COLLECT = "veille.collect"
DIGEST = "veille.digest"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_GRACE = timedelta(hours=12)  # a send time missed by longer (no scheduler was running) is skipped
KEY_LENGTH = 128  # the queue's limit on a key's length


@dataclass(frozen=True)
class Deferral:
    """One job to defer: its task, its key and moment (deferred once per pair), its arguments and locks."""

    task: str
    key: str
    at: int  # seconds since the epoch: the period's start, the end of a backoff, a digest's send time
    args: dict[str, object] = field(default_factory=dict)
    lock: str | None = None  # no two jobs with one lock run at once
    queueing_lock: str | None = None  # no two jobs with one queueing lock wait at once


def key(name: str, suffix: str = "") -> str:
    """A source's key in the queue (a long name shortened with a hash: keys are at most KEY_LENGTH long)."""
    text = name + suffix
    if len(text) <= KEY_LENGTH:
        return text
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:KEY_LENGTH - len(suffix) - 17]}~{digest}{suffix}"


def phase(name: str, every: int) -> int:
    """The source's offset within its interval, in seconds (the same for every process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % max(every, 1)


def period_start(name: str, every: int, now: datetime) -> int:
    """The start (seconds since the epoch) of the source's period that contains `now`."""
    shift = phase(name, every)
    return (int(now.timestamp()) - shift) // every * every + shift


def collect_job(source: Source, at: int, retry: bool = False) -> Deferral:
    return Deferral(COLLECT, key(source.name, "#retry" if retry else ""), at,
                    {"source": source.name, "timestamp": at, "retry": retry},
                    lock=f"source:{source.name}", queueing_lock=f"collect:{source.name}")


def due_collects(sources: Sequence[Source], states: Mapping[str, FetchState], now: datetime,
                 queued: set[str] = frozenset()) -> list[Deferral]:  # type: ignore[assignment]
    """The collects due at `now`: each enabled source not fetched since its period started, or whose backoff is
    over; none for a source already waiting or running in the queue (`queued`)."""
    jobs = []
    for source in sources:
        if not source.enabled or source.name in queued:
            continue
        state = states.get(source.name)
        start = period_start(source.name, source.every_seconds, now)
        if state is not None and state.failures and state.next_attempt_at is not None:
            if state.next_attempt_at <= now:  # keyed by the end of the backoff, or by the period once that began
                # later (a retry that changed nothing, its job skipped or failed, is deferred again next period)
                jobs.append(collect_job(source, max(int(state.next_attempt_at.timestamp()), start), retry=True))
            continue
        if state is None or state.last_fetch_at is None or state.last_fetch_at.timestamp() < start:
            jobs.append(collect_job(source, start))
    return jobs


def next_collect(source: Source, state: FetchState | None, now: datetime) -> tuple[datetime, bool]:
    """When the queue's scheduler defers the source next, and whether that is a retry after failures (`now`
    when it is due already)."""
    if state is not None and state.failures and state.next_attempt_at is not None:
        return max(state.next_attempt_at, now), True
    start = period_start(source.name, source.every_seconds, now)
    if state is None or state.last_fetch_at is None or state.last_fetch_at.timestamp() < start:
        return now, False
    return datetime.fromtimestamp(start + source.every_seconds, UTC), False


def last_send(send_at: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest weekly send time (`mon 07:30` in `zone`) at or before `now`."""
    day, clock = send_at.split()
    hour, minute = (int(part) for part in clock.split(":"))
    local = now.astimezone(zone)
    for back in range(8):
        date = (local - timedelta(days=back)).date()
        if date.weekday() != DAYS.index(day):
            continue
        moment = datetime(date.year, date.month, date.day, hour, minute, tzinfo=zone)
        if moment <= local:
            return moment.astimezone(UTC)
    raise AssertionError("a weekly time falls within eight days")  # pragma: no cover


def due_digest(send_at: str, zone: ZoneInfo, now: datetime) -> Deferral | None:
    """The weekly digest's job when its send time has passed by less than DIGEST_GRACE, else None."""
    moment = last_send(send_at, zone, now)
    if now - moment > DIGEST_GRACE:
        return None
    at = int(moment.timestamp())
    return Deferral(DIGEST, "weekly", at, {"timestamp": at}, lock="digest", queueing_lock="digest")
