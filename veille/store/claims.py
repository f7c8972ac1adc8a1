"""Work claimed in the database before it is done, so that concurrent processes never do it twice.

Each digest message is claimed by one sender in one transaction before it is sent: any number of concurrent
`veille digest --send` or schedulers deliver it once. Each source is claimed by one collect at a time; another
collect skips it and says so. A run whose process died is marked interrupted when the next one starts.

A message is queued (its bytes kept), then claimed (`sending`, with its sender and the time), then recorded
`sent` or `refused`, or given back to `queued` when the server deferred it. A claim whose sender died (a
process of this host that no longer exists) or that is older than LEASE is taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from veille.store import schema as T

LEASE = timedelta(minutes=15)  # a sender on another machine that went quiet this long is taken to be dead
SOURCE_LEASE = timedelta(hours=1)  # a collect on another machine that held a source this long is taken to be dead
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
# the claims of queue workers' jobs: the queue's lock per source already keeps two workers from collecting one
# source at once, so a worker takes over at once a claim that another worker left (killed, machine lost), while
# a `veille collect` still waits for it
QUEUE = "/queue"
QUEUE_OWNER = OWNER + QUEUE


def _alive(owner: str | None) -> bool:
    """Whether the sender that holds a claim may still be sending (unknown senders of other hosts: yes)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    if owner.rpartition(":")[2] == OWNER.rpartition(":")[2]:
        return True  # this process
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _insert_queued(conn: sa.Connection, row: dict[str, object]) -> None:
    """Queue the message unless a row for it exists (whoever queued it first, its bytes are the ones sent)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(T.deliveries).values(**row).on_conflict_do_nothing())


def claim(conn: sa.Connection, week: str, recipient: str, digest: str, message: bytes, message_id: str,
          now: datetime) -> bytes | None:
    """Claim one message for this process; return the bytes to send (as first queued), or None when it was
    sent, refused, or is being sent by a live sender."""
    key = (T.deliveries.c.week == week, T.deliveries.c.recipient == recipient, T.deliveries.c.digest == digest)
    _insert_queued(conn, {"week": week, "recipient": recipient, "digest": digest, "sent_at": now, "method": "smtp",
                          "message_id": message_id, "status": "queued", "message": message})
    row = conn.execute(sa.select(T.deliveries.c.status, T.deliveries.c.claimed_by, T.deliveries.c.claimed_at)
                       .where(*key)).one()
    if row.status == "queued":
        taking = T.deliveries.c.status == "queued"
    elif row.status == "sending" and (not _alive(row.claimed_by) or (row.claimed_at and row.claimed_at < now - LEASE)):
        taking = T.deliveries.c.claimed_by == row.claimed_by  # compare and swap: one taker wins
    else:
        return None
    done = conn.execute(T.deliveries.update().where(*key, taking).values(
        status="sending", claimed_by=OWNER, claimed_at=now))
    if done.rowcount != 1:
        return None
    data: bytes | None = conn.execute(sa.select(T.deliveries.c.message).where(*key)).scalar()
    return data


def claim_sources(conn: sa.Connection, names: list[str], now: datetime,
                  owner: str = OWNER) -> tuple[list[str], dict[str, str]]:
    """Claim the named sources for `owner` (this process, or its queue jobs); return (claimed, {busy source: who
    holds it})."""
    fs = T.fetch_state
    if names:
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(fs).values([{"source": n, "failures": 0} for n in names]).on_conflict_do_nothing())
    rows = conn.execute(sa.select(fs.c.source, fs.c.claimed_by, fs.c.claimed_at).where(fs.c.source.in_(names))).all()
    busy = {}
    for row in rows:
        stale = not _alive(row.claimed_by) or (row.claimed_at is not None and row.claimed_at < now - SOURCE_LEASE)
        stale = stale or (owner.endswith(QUEUE) and str(row.claimed_by).endswith(QUEUE))
        if row.claimed_by and row.claimed_by != owner and not stale:
            busy[row.source] = row.claimed_by
            continue
        condition = fs.c.claimed_by.is_(None) if row.claimed_by is None else fs.c.claimed_by == row.claimed_by
        done = conn.execute(fs.update().where(fs.c.source == row.source, condition)
                            .values(claimed_by=owner, claimed_at=now))
        if done.rowcount != 1:  # taken by another process between the read and the write
            busy[row.source] = "another process"
    return [n for n in names if n not in busy], busy


def release_sources(conn: sa.Connection, names: list[str], owner: str = OWNER) -> None:
    """Give back `owner`'s claims on the named sources."""
    conn.execute(T.fetch_state.update().where(T.fetch_state.c.source.in_(names), T.fetch_state.c.claimed_by == owner)
                 .values(claimed_by=None, claimed_at=None))


def mark_interrupted(conn: sa.Connection) -> int:
    """Mark as interrupted the runs left `running` by processes that no longer exist; return how many."""
    rows = conn.execute(sa.select(T.runs.c.id, T.runs.c.summary).where(T.runs.c.status == "running")).all()
    dead = [r.id for r in rows if isinstance(r.summary, dict) and r.summary.get("owner") and
            not _alive(str(r.summary["owner"]))]
    if dead:
        conn.execute(T.runs.update().where(T.runs.c.id.in_(dead)).values(status="interrupted"))
    return len(dead)
