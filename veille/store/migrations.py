"""Schema changes, applied in order and recorded in `schema_version` (never edit a released one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa

from veille.models import Due, day_end
from veille.store import schema, schema_v1
from veille.zones import country_zone, zone_name, zone_named


def _v1_initial(conn: sa.Connection) -> None:
    schema_v1.metadata.create_all(conn)


def _v2_item_links(conn: sa.Connection) -> None:
    schema.item_links.create(conn, checkfirst=True)
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_items_cluster_id ON items (cluster_id)"))


def _v3_simhash(conn: sa.Connection) -> None:
    if "simhash" not in {c["name"] for c in sa.inspect(conn).get_columns("items")}:
        conn.execute(sa.text("ALTER TABLE items ADD COLUMN simhash BIGINT"))


def _v4_delivery_status(conn: sa.Connection) -> None:
    columns = {c["name"] for c in sa.inspect(conn).get_columns("deliveries")}
    if "status" not in columns:
        conn.execute(sa.text("ALTER TABLE deliveries ADD COLUMN status VARCHAR(10) NOT NULL DEFAULT 'sent'"))
    if "detail" not in columns:
        conn.execute(sa.text("ALTER TABLE deliveries ADD COLUMN detail TEXT"))


def _v5_backoff(conn: sa.Connection) -> None:
    if "next_attempt_at" not in {c["name"] for c in sa.inspect(conn).get_columns("fetch_state")}:
        conn.execute(sa.text("ALTER TABLE fetch_state ADD COLUMN next_attempt_at TIMESTAMP"))


def _v6_outbox(conn: sa.Connection) -> None:
    if "message" not in {c["name"] for c in sa.inspect(conn).get_columns("deliveries")}:
        binary = sa.LargeBinary().compile(dialect=conn.dialect)  # BLOB on SQLite, BYTEA on PostgreSQL
        conn.execute(sa.text(f"ALTER TABLE deliveries ADD COLUMN message {binary}"))


def _v7_search(conn: sa.Connection) -> None:
    from veille.store.search import install

    install(conn)


def _v8_generation(conn: sa.Connection) -> None:
    schema.store_state.create(conn, checkfirst=True)
    if conn.execute(sa.select(schema.store_state.c.name).where(schema.store_state.c.name == "generation")).first() \
            is None:
        conn.execute(schema.store_state.insert().values(name="generation", value=0))


def _v9_search_keys(conn: sa.Connection) -> None:
    from veille.store.search import install_keys

    install_keys(conn)


def _add_columns(conn: sa.Connection, table: str, columns: dict[str, str]) -> None:
    """Add each {name: SQL type} column the table lacks (a database made after the column existed has it)."""
    present = {c["name"] for c in sa.inspect(conn).get_columns(table)}
    for name, sql_type in columns.items():
        if name not in present:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))


def _v10_claims(conn: sa.Connection) -> None:
    _add_columns(conn, "deliveries", {"claimed_by": "VARCHAR(200)", "claimed_at": "TIMESTAMP"})


def _v11_source_claims(conn: sa.Connection) -> None:
    _add_columns(conn, "fetch_state", {"claimed_by": "VARCHAR(200)", "claimed_at": "TIMESTAMP"})


def _v12_ended_sessions(conn: sa.Connection) -> None:
    schema.ended_sessions.create(conn, checkfirst=True)


def _v14_sent_digests(conn: sa.Connection) -> None:
    schema.sent_digests.create(conn, checkfirst=True)


def _v13_deadline_date_only(conn: sa.Connection) -> None:
    # rows stored before keep their time: which of them were written as a day cannot be told any more (they
    # get the flag when their source gives them again)
    _add_columns(conn, "items", {"deadline_date_only": "BOOLEAN NOT NULL DEFAULT FALSE"})


DUE_BY_KIND = {"regulation": "comments", "funding": "application"}  # what a stored deadline was for, by item kind


def _v15_deadlines_and_values(conn: sa.Connection) -> None:
    json_type = "JSON" if conn.dialect.name == "postgresql" else "TEXT"
    _add_columns(conn, "items", {"deadline_zone": "VARCHAR(64)", "deadline_kind": "VARCHAR(20)",
                                 "deadlines": f"{json_type} NOT NULL DEFAULT '[]'", "value_kind": "VARCHAR(20)",
                                 "value_min": "FLOAT", "value_max": "FLOAT"})
    # a day stored as its 00:00 UTC becomes the end of that day in its country's zone (UTC without a country);
    # what was due is read from the item's kind, the notice's only deadline so far
    c = schema.items.c
    rows = conn.execute(sa.select(c.id, c.kind, c.deadline_at, c.deadline_date_only, c.country)
                        .where(c.deadline_at.is_not(None))).all()
    changes = []
    for item_id, item_kind, at, date_only, country in rows:
        zone = zone_name(zone_named(country_zone(country))) if date_only else None
        if date_only:
            at = day_end(at.astimezone(UTC).date(), zone_named(zone))
        due = Due(DUE_BY_KIND.get(item_kind, "tender"), at, bool(date_only), zone)
        changes.append({"key": item_id, "at": at, "zone": zone, "due": due.kind, "all": [due.to_json()]})
    update = sa.update(schema.items).where(c.id == sa.bindparam("key")).values(
        deadline_at=sa.bindparam("at"), deadline_zone=sa.bindparam("zone"), deadline_kind=sa.bindparam("due"),
        deadlines=sa.bindparam("all"))
    for start in range(0, len(changes), 1000):  # executemany, in slices
        conn.execute(update, changes[start:start + 1000])


def _v16_index_by_batch(conn: sa.Connection) -> None:
    from veille.store.search import drop_insert_trigger

    drop_insert_trigger(conn)


def _v17_source_index(conn: sa.Connection) -> None:
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_items_source_collected ON items (source, collected_at)"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_items_source"))  # the new index serves lookups by source too


def _v18_verdicts(conn: sa.Connection) -> None:
    schema.verdicts.create(conn, checkfirst=True)


def _v19_seen_index(conn: sa.Connection) -> None:
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_items_seen_cover ON items (seen_at, kind, cluster_id, id)"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_items_seen_at"))  # the new one serves every use of the old


def _v20_collected_by(conn: sa.Connection) -> None:
    _add_columns(conn, "fetch_state", {"collected_by": "VARCHAR(200)"})


def _v21_deadline_index(conn: sa.Connection) -> None:
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_items_kind_deadline ON items (kind, deadline_at)"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_items_kind"))  # the new one serves lookups by kind too


MIGRATIONS: list[tuple[int, str, Callable[[sa.Connection], None]]] = [
    (1, "initial schema: items, tags, member matches, fetch state, runs, deliveries", _v1_initial),
    (2, "item_links: identifiers shared by the notices of one tender; index on items.cluster_id", _v2_item_links),
    (3, "items.simhash: text signature for near-duplicate stories", _v3_simhash),
    (4, "deliveries.status and detail: messages the SMTP server refused for good", _v4_delivery_status),
    (5, "fetch_state.next_attempt_at: per-source backoff and Retry-After", _v5_backoff),
    (6, "deliveries.message: an outbox of queued messages, sent as queued after a crash", _v6_outbox),
    (7, "full-text search: FTS5 table on SQLite, items.search_text with a GIN index on PostgreSQL", _v7_search),
    (8, "store_state.generation: a counter of writes, so that readers know when to refresh", _v8_generation),
    (9, "search_keys: a stable number per item, the rowid of its full-text row (SQLite)", _v9_search_keys),
    (10, "deliveries.claimed_by and claimed_at: each message claimed by one sender before it is sent", _v10_claims),
    (11, "fetch_state.claimed_by and claimed_at: a source collected by one process at a time", _v11_source_claims),
    (12, "ended_sessions: the site sessions signed out, refused if their cookie is replayed", _v12_ended_sessions),
    (13, "items.deadline_date_only: a deadline given as a day, open until the end of that day",
     _v13_deadline_date_only),
    (14, "sent_digests: each digest as it was sent, with its date and its number of recipients", _v14_sent_digests),
    (15, "items: every deadline with what is due (deadline_kind, deadlines), a day closing at its end in the buyer's "
         "zone (deadline_zone); the kind of value and its range (value_kind, value_min, value_max)",
     _v15_deadlines_and_values),
    (16, "full-text index: the store indexes the items it inserts a batch at a time (SQLite's insert trigger "
         "dropped)", _v16_index_by_batch),
    (17, "index on items (source, collected_at): the sources' item counts read from the index alone",
     _v17_source_index),
    (18, "verdicts: readers' \"relevant\" / \"not relevant\" on items, from the digest's and the site's links",
     _v18_verdicts),
    (19, "index on items (seen_at, kind, cluster_id, id): the weeks' counts of the digests' trends read from the "
         "index alone", _v19_seen_index),
    (20, "fetch_state.collected_by: the process that last fetched each source (which queue worker)",
     _v20_collected_by),
    (21, "index on items (kind, deadline_at): the tenders still open read by deadline, not every tender",
     _v21_deadline_index),
]


MIGRATION_LOCK = 7_401_113  # the PostgreSQL advisory lock that serialises migrations


@contextmanager
def _exclusive(engine: sa.Engine) -> Iterator[None]:
    """One process at a time migrates a database (two starting on a new one must not both create it): an
    advisory lock on PostgreSQL, a lock file beside an SQLite database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}-migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: sa.Engine) -> int:
    """Apply pending migrations; return the schema version now in the database."""
    with _exclusive(engine):
        return _migrate(engine)


def _migrate(engine: sa.Engine) -> int:
    with engine.begin() as conn:
        schema.schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0
        for version, name, apply in MIGRATIONS:
            if version > current:
                apply(conn)
                conn.execute(schema.schema_version.insert().values(
                    version=version, name=name, applied_at=datetime.now(UTC)))
                current = version
    return current
