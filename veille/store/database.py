"""The store: every query veille makes, on SQLite or PostgreSQL (selected by the SQLAlchemy URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from veille.errors import ConfigError, Problem, VeilleError
from veille.models import Fetched, FetchState, Item
from veille.store import bulk, claims, links, schema, search
from veille.store.browse import Browse
from veille.store.migrations import MIGRATIONS, migrate
from veille.store.queue import Queue
from veille.store.rows import attach_tags, chunks, item_select, one_of, read_items, row_item
from veille.store.verdicts import Verdicts

T = schema
BACKOFF = timedelta(minutes=15)
BACKOFF_CEILING = timedelta(hours=24)
WRITE_LOCK = 7_401_116  # the PostgreSQL advisory lock of `batch(serial=True)`


def _now() -> datetime:
    return datetime.now(UTC)


class Store(Browse, Verdicts, Queue):
    """A handle on the database; create it with `Store.open(url)`. Reading views: `browse.Browse`; readers'
    verdicts: `verdicts.Verdicts`; the job queue's tables (PostgreSQL): `queue.Queue`."""

    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime] = _now):
        self.engine = engine
        self._batch = threading.local()  # this thread's open `batch()` transaction, if any
        self.clock = clock  # the time of writes (collected, fetched, run, sent): tests give their own
        self._fold_search = engine.dialect.name != "sqlite"  # SQLite's FTS5 triggers index the text themselves

    @classmethod
    def open(cls, url: str, clock: Callable[[], datetime] = _now, *, readonly: bool = False) -> Store:
        """Connect to `url`, bring the schema up to date and return the store; `clock` dates its writes.

        `readonly` (the commands that only read): a database that does not exist yet is neither created nor
        migrated; the store is then an empty one in memory, and a database made by an older veille is refused."""
        try:
            engine = sa.create_engine(url, future=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise ConfigError([Problem("environment", None, "VEILLE_DB", f"unusable database URL: {exc}")]) from exc
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        try:
            current = _readable(engine) if readonly else None
            if current is None and readonly:  # nothing to read yet: an empty store that writes nowhere
                engine.dispose()
                engine = sa.create_engine("sqlite://", future=True, poolclass=sa.pool.StaticPool,
                                          connect_args={"check_same_thread": False})
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            if current is None:
                migrate(engine)
        except SQLAlchemyError as exc:
            raise VeilleError(f"cannot open the database {engine.url.render_as_string(hide_password=True)}: "
                              f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def batch(self, serial: bool = False) -> Iterator[None]:
        """Make every write of this thread inside the block one transaction: all of it is stored, or none.

        `serial` (concurrent writers: queue workers on PostgreSQL): such batches run one at a time, so that items
        of two sources stored at once still see each other when they are clustered as one story, and no two
        batches wait for each other's rows (a deadlock)."""
        if getattr(self._batch, "conn", None) is not None:
            yield  # already inside one
            return
        with self.engine.begin() as conn:
            if serial and conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK})
            self._batch.conn, self._batch.bumped = conn, False
            try:
                yield
                if self._batch.bumped:  # last: the counter's row is locked only while the transaction commits
                    _bump(conn)
            finally:
                self._batch.conn = None

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        """A connection in a transaction: the open `batch()`'s, else a new one committed at the end."""
        conn = getattr(self._batch, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as conn:
            yield conn

    # --- fetch state -----------------------------------------------------------------------------

    def fetch_states(self, counts: bool = True, names: Sequence[str] | None = None) -> dict[str, FetchState]:
        """What is remembered of each source's fetches (of the `names` only, when given); with `counts`, how many
        items it gave in all and in the last 7 days (one pass over the items: a collect, which needs no counts,
        skips it)."""
        found: dict[str, tuple[int, int]] = {}
        if counts:
            c = T.items.c
            recent = sa.func.sum(sa.case((c.collected_at >= self.clock() - timedelta(days=7), 1), else_=0))
            found = {source: (int(total), int(last or 0)) for source, total, last in self._scalar_rows(
                sa.select(c.source, sa.func.count(), recent).group_by(c.source))}
        query = sa.select(T.fetch_state)
        with self.engine.connect() as conn:
            rows = conn.execute(query if names is None else query.where(T.fetch_state.c.source.in_(names))
                                ).mappings().all()
        return {r["source"]: FetchState(
            source=r["source"], etag=r["etag"], last_modified=r["last_modified"], last_fetch_at=r["last_fetch_at"],
            last_ok_at=r["last_ok_at"], last_status=r["last_status"], last_error=r["last_error"],
            failures=r["failures"], items_total=found.get(r["source"], (0, 0))[0], next_attempt_at=r["next_attempt_at"],
            items_recent=found.get(r["source"], (0, 0))[1], collected_by=r["collected_by"]) for r in rows}

    def record_fetch(self, source: str, *, ok: bool, status: str, etag: str | None = None,
                     last_modified: str | None = None, error: str | None = None,
                     retry_after: float | None = None) -> None:
        """Remember the outcome of fetching `source` (validators only change on success).

        After a failure the source waits before its next attempt: BACKOFF doubling with each consecutive
        failure up to BACKOFF_CEILING, or longer if the server said so (Retry-After); a success resets it.
        """
        self.record_fetches([Fetched(source, ok, status, etag, last_modified, error, retry_after)])

    def record_fetches(self, fetched: Sequence[Fetched]) -> None:
        """`record_fetch` for many sources at once: one read of their states, one write of each kind."""
        if not fetched:
            return
        now = self.clock()
        c = T.fetch_state.c
        with self._begin() as conn:
            names = [f.source for f in fetched]
            failures = {r.source: r.failures for chunk in chunks(names) for r in conn.execute(
                sa.select(c.source, c.failures).where(c.source.in_(chunk)))}
            updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            inserts = []
            for f in {f.source: f for f in fetched}.values():  # a source named twice: its last outcome
                values: dict[str, Any] = {"last_fetch_at": now, "last_status": f.status}
                if f.by:
                    values["collected_by"] = f.by
                if f.ok:
                    values |= {"last_ok_at": now, "last_error": None, "failures": 0, "next_attempt_at": None}
                    if f.status != "not-modified":
                        values |= {"etag": f.etag, "last_modified": f.last_modified}
                else:
                    count = failures.get(f.source, 0) + 1
                    wait = max(min(BACKOFF * 2 ** (count - 1), BACKOFF_CEILING),
                               timedelta(seconds=f.retry_after or 0))
                    values |= {"last_error": f.error, "failures": count, "next_attempt_at": now + wait}
                if f.source in failures:
                    updates.setdefault(tuple(sorted(values)), []).append({"b_source": f.source, **values})
                else:
                    inserts.append({"source": f.source, "failures": 0, **values})
            for keys, rows in updates.items():  # one statement per set of columns written
                conn.execute(T.fetch_state.update().where(c.source == sa.bindparam("b_source"))
                             .values({k: sa.bindparam(k) for k in keys}), rows)
            for rows in _by_keys(inserts).values():
                conn.execute(T.fetch_state.insert(), rows)

    # --- items -----------------------------------------------------------------------------------

    def upsert_items(self, items: Sequence[Item], signatures: Mapping[str, int | None] | None = None
                     ) -> tuple[list[Item], list[Item]]:
        """Store new items and update changed ones; return (new, updated). Unchanged items are skipped. With
        `signatures` (an item's text signature by id, see `link_all`), each new item is stored with its signature
        as a cluster of its own: `link_all(..., fresh=)` then updates only the new items that join others."""
        if not items:
            return [], []
        new: list[Item] = []
        updated: list[Item] = []
        with self._begin() as conn:
            existing = {row["id"]: row for row in conn.execute(sa.select(T.items).where(
                one_of(conn.dialect.name, T.items.c.id, [i.id for i in items]))).mappings()}
            for item in _unique(items):
                row = existing.get(item.id)
                if row is None:
                    new.append(item)
                elif _row_key(row) != item.content_key():
                    values = _item_row(item, self._fold_search, self.clock())
                    values["collected_at"] = row["collected_at"]
                    values["updated_at"] = item.updated_at or self.clock()
                    conn.execute(T.items.update().where(T.items.c.id == item.id).values(**values))
                    updated.append(item)
            if new:
                rows = [_item_row(i, self._fold_search, self.clock()) for i in new]
                if signatures is not None:
                    for values in rows:
                        values["cluster_id"] = values["id"]
                        values["simhash"] = links.signed(signatures.get(values["id"]))
                bulk.executemany(conn, T.items.insert(), rows)
                search.index_new(conn, [i.id for i in new])
            if new or updated:
                self._bump(conn)
        return new, updated

    def insert_new(self, items: Sequence[Item]) -> None:
        """Insert items known to be new, with their tags, in one transaction (bulk loads and benchmarks)."""
        if not items:
            return
        with self._begin() as conn:
            bulk.executemany(conn, T.items.insert(), [_item_row(i, self._fold_search, self.clock()) for i in items])
            search.index_new(conn, [i.id for i in items])
            _insert_tags(conn, items)
            self._bump(conn)

    def save_tags(self, items: Iterable[Item], fresh: Iterable[str] = ()) -> None:
        """Replace the topics and member matches stored for each item (the items whose ids are in `fresh` were
        just inserted: they have none to delete)."""
        items = list(items)
        if not items:
            return
        skip = set(fresh)
        ids = [i.id for i in items if i.id not in skip]
        with self._begin() as conn:
            if ids:
                conn.execute(T.item_topics.delete().where(one_of(conn.dialect.name, T.item_topics.c.item_id, ids)))
                conn.execute(T.item_members.delete().where(one_of(conn.dialect.name, T.item_members.c.item_id, ids)))
            _insert_tags(conn, items)
            self._bump(conn)

    def _bump(self, conn: sa.Connection) -> None:
        """Count a write; inside `batch()`, once, as its transaction's last statement: concurrent batches (queue
        workers) then wait for each other's lock on the counter only while one commits."""
        if getattr(self._batch, "conn", None) is conn:
            self._batch.bumped = True
        else:
            _bump(conn)

    def link_all(self, entries: Sequence[links.Entry], is_near: links.Near, fresh: Iterable[str] = ()) -> None:
        """Cluster many items in one transaction: (item, exact keys, band keys, signature) each.

        An item joins the items sharing one of its exact keys, and the items indexed under one of its
        band keys that `is_near(signature, title, theirs, their title)` confirms (near-duplicates); the
        clusters so joined merge (see `store.links`, saturated keys included). The cluster id is the
        smallest item id of the cluster, whatever the order of arrival. The items whose ids are in `fresh` were
        just inserted with their signatures, each as its own cluster (`upsert_items(..., signatures=)`): they have
        no links to replace, and only those that join others are updated.
        """
        if entries:
            with self._begin() as conn:
                links.link_all(conn, entries, is_near, frozenset(fresh))

    def clusters(self, cluster_ids: Iterable[str]) -> dict[str, list[Item]]:
        """Return every stored item of the given clusters, oldest first: a tender's history."""
        ids = sorted(set(cluster_ids))
        if not ids:
            return {}
        with self.engine.connect() as conn:
            found = read_items(conn, item_select(T.items.c.cluster_id.in_(ids))
                               .order_by(T.items.c.seen_at, T.items.c.id))
            attach_tags(conn, found)
        out: dict[str, list[Item]] = {}
        for item in found:
            out.setdefault(item.cluster_id or item.id, []).append(item)
        return out

    def iter_items(self, since: datetime | None = None, batch: int = 1000) -> Iterator[list[Item]]:
        """Yield stored items (with their tags) in batches, by id: the archive is never loaded whole."""
        last = ""
        while True:
            stmt = item_select(T.items.c.id > last).order_by(T.items.c.id).limit(batch)
            if since:
                stmt = stmt.where(T.items.c.seen_at >= since)
            with self.engine.connect() as conn:
                found = read_items(conn, stmt)
                attach_tags(conn, found)
            if not found:
                return
            yield found
            last = found[-1].id

    def count_items(self, since: datetime | None = None) -> int:
        with self.engine.connect() as conn:
            stmt = sa.select(sa.func.count()).select_from(T.items)
            if since:
                stmt = stmt.where(T.items.c.seen_at >= since)
            return int(conn.execute(stmt).scalar() or 0)

    # --- runs and deliveries ---------------------------------------------------------------------

    def start_run(self, job: str) -> int:
        """Record a run as running (and the runs left running by dead processes as interrupted); return its id."""
        with self._begin() as conn:
            claims.mark_interrupted(conn)
            result = conn.execute(T.runs.insert().values(job=job, started_at=self.clock(), status="running",
                                                         summary={"owner": claims.OWNER}))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        with self._begin() as conn:
            conn.execute(T.runs.update().where(T.runs.c.id == run_id)
                         .values(finished_at=self.clock(), status=status, summary=summary))

    def delivered(self, week: str, digest: str) -> dict[str, str]:
        """Return {recipient: "queued", "sent" or "refused"} for the messages of `digest` (full or a member
        id) for `week`."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(T.deliveries.c.recipient, T.deliveries.c.status).where(
                T.deliveries.c.week == week, T.deliveries.c.digest == digest))
            return {r[0]: r[1] for r in rows}

    def claim_sources(self, names: list[str], now: datetime | None = None,
                      owner: str = claims.OWNER) -> tuple[list[str], dict[str, str]]:
        """Claim sources for this process's collect (or its queue jobs: `claims.QUEUE_OWNER`); return (claimed,
        {busy source: who holds it})."""
        with self._begin() as conn:
            return claims.claim_sources(conn, names, now or self.clock(), owner)

    def release_sources(self, names: list[str], owner: str = claims.OWNER) -> None:
        with self._begin() as conn:
            claims.release_sources(conn, names, owner)

    def end_session(self, sid: str, until: datetime) -> None:
        """Remember a signed-out session of the site until its cookie would have expired (older ones forgotten)."""
        with self._begin() as conn:
            conn.execute(T.ended_sessions.delete().where(T.ended_sessions.c.until < self.clock()))
            conn.execute(T.ended_sessions.delete().where(T.ended_sessions.c.sid == sid))
            conn.execute(T.ended_sessions.insert().values(sid=sid, until=until))

    def save_sent_digest(self, week: str, digest: str, html: str, items: int, recipients: int,
                         sent_at: datetime | None = None) -> None:
        """Keep the digest as it was sent (at `sent_at`, default: the store's clock): its first sending's date
        stays, the recipients add up."""
        c = T.sent_digests.c
        with self._begin() as conn:
            row = conn.execute(sa.select(T.sent_digests).where(c.week == week, c.digest == digest)).mappings().first()
            if row is None:
                conn.execute(T.sent_digests.insert().values(week=week, digest=digest, html=html, items=items,
                                                            recipients=recipients, sent_at=sent_at or self.clock()))
            elif recipients:
                conn.execute(T.sent_digests.update().where(c.week == week, c.digest == digest).values(
                    recipients=row["recipients"] + recipients))

    def sent_digest(self, week: str, digest: str = "full") -> dict[str, Any] | None:
        """The digest of `week` as it was sent (html, items, recipients, sent_at), or None if never sent."""
        c = T.sent_digests.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(T.sent_digests).where(c.week == week, c.digest == digest)).mappings().first()
        return dict(row) if row else None

    def sent_digests(self, digest: str = "full") -> dict[str, dict[str, Any]]:
        """{week: (items, recipients, sent_at)} of every sent digest named `digest`."""
        c = T.sent_digests.c
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(T.sent_digests).where(c.digest == digest)).mappings()
            return {r["week"]: {"items": r["items"], "recipients": r["recipients"], "sent_at": r["sent_at"]}
                    for r in rows}

    def session_ended(self, sid: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(T.ended_sessions.c.sid).where(T.ended_sessions.c.sid == sid)).first() \
                is not None

    def runs(self, status: str | None = None) -> list[dict[str, Any]]:
        """The recorded runs, newest first (those with `status` only, when given)."""
        query = sa.select(T.runs).order_by(T.runs.c.id.desc())
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query if status is None else query.where(T.runs.c.status == status))
                    .mappings()]

    def claim_delivery(self, week: str, recipient: str, digest: str, message: bytes, message_id: str,
                       now: datetime | None = None) -> bytes | None:
        """Queue the message if new and claim it for this process in one transaction; return the bytes to send
        (as first queued), or None when another sender has it or it was answered (see `claims.py`)."""
        with self._begin() as conn:
            return claims.claim(conn, week, recipient, digest, message, message_id, now or self.clock())

    def queue_delivery(self, week: str, recipient: str, digest: str, message: bytes, message_id: str) -> None:
        """Put a message in the outbox before trying to send it (one commit per message)."""
        self.record_delivery(week, recipient, digest, "smtp", message_id, "queued", None, message)

    def record_delivery(self, week: str, recipient: str, digest: str, method: str, message_id: str | None,
                        status: str = "sent", detail: str | None = None, message: bytes | None = None) -> None:
        """Record a message's state (queued, sent, refused for good); one commit per message."""
        with self._begin() as conn:
            conn.execute(T.deliveries.delete().where(
                T.deliveries.c.week == week, T.deliveries.c.recipient == recipient, T.deliveries.c.digest == digest))
            conn.execute(T.deliveries.insert().values(week=week, recipient=recipient, digest=digest,
                                                      sent_at=self.clock(), method=method, message_id=message_id,
                                                      status=status, detail=detail, message=message))

    def _scalar_rows(self, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(stmt)]


def _by_keys(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows grouped by the columns they give: each group is one executemany."""
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(tuple(sorted(row)), []).append(row)
    return out


def _bump(conn: sa.Connection) -> None:
    """Count a write of items or tags (readers holding an index compare `Store.generation()`)."""
    conn.execute(T.store_state.update().where(T.store_state.c.name == "generation")
                 .values(value=T.store_state.c.value + 1))


def _insert_tags(conn: sa.Connection, items: Sequence[Item]) -> None:
    topics = [(i.id, t, tag.score, tag.evidence) for i in items for t, tag in i.topics.items()]
    members = [(i.id, m, match.score, match.reasons) for i in items for m, match in i.members.items()]
    bulk.executemany(conn, T.item_topics.insert(), keys=("item_id", "topic", "score", "evidence"), values=topics)
    bulk.executemany(conn, T.item_members.insert(), keys=("item_id", "member", "score", "reasons"), values=members)


def _readable(engine: sa.Engine) -> int | None:
    """The schema version of `engine`'s database, read without writing anything; None when there is no database
    yet (an SQLite file that does not exist, a server database without veille's tables). A database that needs
    migrating is refused: a command that writes migrates it."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:") and not Path(database).is_file():
        return None
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(T.schema_version.name):
            return None
        current = int(conn.execute(sa.select(sa.func.max(T.schema_version.c.version))).scalar() or 0)
    if current < MIGRATIONS[-1][0]:
        raise VeilleError(f"the database {engine.url.render_as_string(hide_password=True)} is at schema version "
                          f"{current}, this veille reads version {MIGRATIONS[-1][0]}: run `veille collect` (or "
                          f"`veille retag`) once to upgrade it")
    return current


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with synchronous=NORMAL: a killed process loses no committed transaction (a power cut may lose
    # the last ones); each commit no longer waits for the disk
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _unique(items: Iterable[Item]) -> list[Item]:
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.id, item)  # a feed repeating a guid: the first occurrence wins
    return list(seen.values())


FUTURE_TOLERANCE = timedelta(days=2)


def _seen_at(published: datetime | None, collected: datetime) -> datetime:
    """When the item counts in digests: its publication, unless absent or implausibly in the future
    (a feed dated 2035 would otherwise hide it from every digest until then)."""
    if published is None or published > collected + FUTURE_TOLERANCE:
        return collected
    return published


def _item_row(item: Item, fold_search: bool, now: datetime) -> dict[str, Any]:
    collected = item.collected_at or now
    return {
        "search_text": search.folded_text(item.title, item.summary, item.buyer) if fold_search else None,
        "id": item.id, "source": item.source, "kind": item.kind, "title": item.title, "summary": item.summary,
        "url": item.url, "lang": item.lang, "country": item.country, "region": item.region,
        "published_at": item.published_at, "collected_at": collected, "updated_at": item.updated_at,
        "seen_at": _seen_at(item.published_at, collected), "notice_id": item.notice_id, "notice_type": item.notice_type,
        "buyer": item.buyer, "deadline_at": item.deadline_at,
        "deadline_date_only": item.deadline_date_only, "deadline_zone": item.deadline_zone,
        "deadline_kind": item.deadline_kind, "deadlines": [d.to_json() for d in item.deadlines], "cpv": list(item.cpv),
        "value_amount": item.value_amount, "value_currency": item.value_currency, "value_kind": item.value_kind,
        "value_min": item.value_min, "value_max": item.value_max, "procedure": item.procedure,
    }


def _row_key(row: Any) -> tuple[Any, ...]:
    return row_item(row).content_key()
