"""Full-text search of stored items, accent- and case-insensitive, on SQLite (FTS5) and PostgreSQL.

SQLite: an FTS5 table `items_fts` (tokenizer unicode61 with diacritics removed) holds each item's title,
summary and buyer under the item's search number; triggers on `items` keep it in step when an item changes or
goes, and the store indexes the items it inserts, a whole batch in two statements (`index_new`: a trigger
firing once per row made inserting three times slower).
PostgreSQL: `items.search_text` holds the same text folded by veille (lower case, no accents), indexed
with GIN on `to_tsvector('simple', search_text)`: no server extension is needed.

A query is a few words; each must occur in the item, as a word or the start of one ("membrane" finds
"membranes", "epuration" finds "épuration").
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from veille.text import fold

MAX_WORDS = 12

_SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(key, body, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    # each item's row is found again by its id, held as a one-token column (FTS5 rowids of a table
    # without INTEGER PRIMARY KEY may change on VACUUM)
    """CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
         INSERT INTO items_fts (key, body)
         VALUES (new.id, new.title || ' ' || new.summary || ' ' || coalesce(new.buyer, ''));
       END""",
    """CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
         DELETE FROM items_fts WHERE items_fts MATCH 'key : "' || old.id || '"';
       END""",
    """CREATE TRIGGER IF NOT EXISTS items_fts_update AFTER UPDATE OF title, summary, buyer ON items BEGIN
         DELETE FROM items_fts WHERE items_fts MATCH 'key : "' || old.id || '"';
         INSERT INTO items_fts (key, body)
         VALUES (new.id, new.title || ' ' || new.summary || ' ' || coalesce(new.buyer, ''));
       END""",
]


_BODY = "{row}.title || ' ' || {row}.summary || ' ' || coalesce({row}.buyer, '')"
# Migration 9: each item gets a stable number in `search_keys` (AUTOINCREMENT: never reused, kept by
# VACUUM) that is the rowid of its row in `items_fts`. A search then reads rowids only (the FTS index
# alone), and the facet index maps numbers to items without touching the table.
_SQLITE_KEYS = [
    "DROP TRIGGER IF EXISTS items_fts_insert",
    "DROP TRIGGER IF EXISTS items_fts_delete",
    "DROP TRIGGER IF EXISTS items_fts_update",
    "DROP TABLE IF EXISTS items_fts",
    "CREATE TABLE IF NOT EXISTS search_keys (n INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE items_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
         INSERT INTO search_keys (item_id) VALUES (new.id);
         INSERT INTO items_fts (rowid, body)
         VALUES ((SELECT n FROM search_keys WHERE item_id = new.id), {_BODY.format(row="new")});
       END""",
    """CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
         DELETE FROM items_fts WHERE rowid = (SELECT n FROM search_keys WHERE item_id = old.id);
         DELETE FROM search_keys WHERE item_id = old.id;
       END""",
    f"""CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, buyer ON items BEGIN
         DELETE FROM items_fts WHERE rowid = (SELECT n FROM search_keys WHERE item_id = old.id);
         INSERT INTO items_fts (rowid, body)
         VALUES ((SELECT n FROM search_keys WHERE item_id = new.id), {_BODY.format(row="new")});
       END""",
    "DELETE FROM search_keys",
    "INSERT INTO search_keys (item_id) SELECT id FROM items ORDER BY seen_at, id",
    f"INSERT INTO items_fts (rowid, body) SELECT k.n, {_BODY.format(row='i')} FROM items i "
    "JOIN search_keys k ON k.item_id = i.id",
]


def index_new(conn: sa.Connection, ids: list[str]) -> None:
    """SQLite: give the items just inserted their search numbers and index their text (nothing on PostgreSQL,
    where `search_text` is written with the row)."""
    if conn.dialect.name != "sqlite" or not ids:
        return
    before = conn.execute(sa.text("SELECT coalesce(max(n), 0) FROM search_keys")).scalar()
    conn.execute(sa.text("INSERT INTO search_keys (item_id) SELECT value FROM json_each(:ids)"),
                 {"ids": json.dumps(ids)})
    conn.execute(sa.text(f"INSERT INTO items_fts (rowid, body) SELECT k.n, {_BODY.format(row='i')} FROM search_keys k "
                         "JOIN items i ON i.id = k.item_id WHERE k.n > :before"), {"before": before})


def drop_insert_trigger(conn: sa.Connection) -> None:
    """Migration 16: the store indexes what it inserts (`index_new`); nothing to do on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP TRIGGER IF EXISTS items_fts_insert"))


def install_keys(conn: sa.Connection) -> None:
    """Give every item a search number on SQLite (migration 9); nothing to do on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE_KEYS:
            conn.execute(sa.text(statement))


def folded_text(title: str, summary: str, buyer: str | None) -> str:
    """The text PostgreSQL indexes: title, summary and buyer, folded, single-spaced."""
    return " ".join(fold(f"{title} {summary} {buyer or ''}").text.split())


def words(text: str) -> list[str]:
    """The words of a search box entry, folded (letters and digits only, so safe in any query syntax)."""
    return fold(text).text.split()[:MAX_WORDS]


def install(conn: sa.Connection) -> None:
    """Create the search structures and index the items already stored (migration 7)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("items")}
    if "search_text" not in columns:
        conn.execute(sa.text("ALTER TABLE items ADD COLUMN search_text TEXT"))
    if conn.dialect.name == "sqlite":
        for statement in _SQLITE:
            conn.execute(sa.text(statement))
        conn.execute(sa.text("DELETE FROM items_fts"))
        conn.execute(sa.text("INSERT INTO items_fts (key, body) SELECT id, title || ' ' || summary || ' ' || "
                             "coalesce(buyer, '') FROM items"))
        return
    rows = conn.execute(sa.text("SELECT id, title, summary, buyer FROM items WHERE search_text IS NULL")).all()
    if rows:
        conn.execute(sa.text("UPDATE items SET search_text = :text WHERE id = :id"),
                     [{"id": r.id, "text": folded_text(r.title, r.summary, r.buyer)} for r in rows])
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_items_search ON items "
                         "USING GIN (to_tsvector('simple', coalesce(search_text, '')))"))


def fts_expression(text: str) -> str | None:
    """The FTS5 query for a search box entry (None: no words)."""
    found = words(text)
    return "body : (" + " AND ".join(f'"{w}"*' for w in found) + ")" if found else None


def key_query(text: str) -> sa.TextClause | None:
    """SQLite: the search numbers (`search_keys.n`) of the items containing every word (None: no words)."""
    expression = fts_expression(text)
    if expression is None:
        return None
    return sa.text("SELECT rowid FROM items_fts WHERE items_fts MATCH :fts").bindparams(fts=expression)


def id_query(dialect: str, items: sa.FromClause, text: str) -> sa.Select[Any] | None:
    """A query of the ids of the items containing every word of `text` (None: no words)."""
    if dialect == "sqlite":
        expression = fts_expression(text)
        if expression is None:
            return None
        keys = sa.table("search_keys", sa.column("n"), sa.column("item_id"))
        return sa.select(keys.c.item_id).where(keys.c.n.in_(
            sa.select(sa.column("rowid")).select_from(sa.table("items_fts"))
            .where(sa.text("items_fts MATCH :fts").bindparams(fts=expression))))
    condition = matching_ids(dialect, items, text)
    return None if condition is None else sa.select(items.c.id).where(condition)


def matching_ids(dialect: str, items: sa.FromClause, text: str) -> sa.ColumnElement[bool] | None:
    """A condition on `items` true for the items containing every word of `text` (None: no words)."""
    found = words(text)
    if not found:
        return None
    if dialect == "sqlite":
        ids = id_query(dialect, items, text)
        assert ids is not None
        return items.c.id.in_(ids)
    query = " & ".join(f"{w}:*" for w in found)
    return sa.func.to_tsvector("simple", sa.func.coalesce(items.c.search_text, "")).bool_op("@@")(
        sa.func.to_tsquery("simple", query))
