"""Rows of the items table to items and back, shared by the store's reading and writing halves.

Items are read with their times and JSON columns as the driver gives them (text on SQLite) and converted here:
`datetime.fromisoformat` and one `json.loads` per value cost a third of SQLAlchemy's general result processing,
which matters when a report reads a hundred thousand items with their tags.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from veille.models import Due, Item, MemberMatch, TopicTag
from veille.store import schema as T

# the columns an Item is made of, in the order `item_from` reads them
ITEM_COLUMNS = ("id", "source", "kind", "title", "url", "summary", "lang", "country", "published_at", "collected_at",
                "updated_at", "notice_id", "notice_type", "buyer", "deadline_at", "deadline_date_only",
                "deadline_zone", "deadline_kind", "deadlines", "cpv", "value_amount", "value_currency", "value_kind",
                "value_min", "value_max", "procedure", "cluster_id")
# above this many items, their tags are read by one query over the items' own conditions, not by lists of ids
_TAGS_BY_QUERY = 2000


def chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """Slices of `values` short enough for one IN (...) list on every database."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def one_of(dialect: str, column: sa.ColumnElement[str], values: Sequence[str]) -> sa.ColumnElement[bool]:
    """`column IN values` with the values as one bound parameter (a JSON array on SQLite, an array on
    PostgreSQL), however many: one statement, compiled once and cached, where an IN list of literals is split
    in chunks and each chunk's hundreds of parameters are rendered again on every execution."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=sa.ARRAY(sa.String)))
    each = sa.func.json_each(sa.bindparam(None, json.dumps(list(values)), type_=sa.Text)).table_valued("value")
    return column.in_(sa.select(each.c.value))


def raw(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """`column` as the driver returns it: times and JSON are converted by `utc` and `loaded`, not by SQLAlchemy."""
    if isinstance(column.type, T.UTCDateTime | sa.JSON):
        return sa.type_coerce(column, sa.Text).label(column.name)
    return column


def driver_rows(conn: sa.Connection, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of `stmt` as the driver returns them (tuples), without a SQLAlchemy row per row: a third of the
    time of reading a hundred thousand rows. Values are as `raw` columns give them."""
    result = conn.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def utc(value: Any) -> datetime | None:
    """A stored time (ISO text on SQLite, a naive datetime elsewhere) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def loaded(value: Any) -> Any:
    """A stored JSON value (text, or already decoded by the driver)."""
    if value == "[]":  # most items have no deadlines or CPV codes: no decoder for them
        return []
    return json.loads(value) if isinstance(value, str) else value


def item_select(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The select of the items' `ITEM_COLUMNS` (read with `read_items`), filtered by `where`."""
    return sa.select(*(raw(T.items.c[name]) for name in ITEM_COLUMNS)).where(*where)


def item_from(r: Sequence[Any]) -> Item:
    """The item of one row of `item_select`."""
    return Item(
        id=r[0], source=r[1], kind=r[2], title=r[3], url=r[4], summary=r[5] or "", lang=r[6], country=r[7],
        published_at=utc(r[8]), collected_at=utc(r[9]), updated_at=utc(r[10]), notice_id=r[11], notice_type=r[12],
        buyer=r[13], deadline_at=utc(r[14]), deadline_date_only=bool(r[15]), deadline_zone=r[16], deadline_kind=r[17],
        deadlines=[Due.from_json(d) for d in loaded(r[18]) or []], cpv=list(loaded(r[19]) or []),
        value_amount=r[20], value_currency=r[21], value_kind=r[22], value_min=r[23], value_max=r[24],
        procedure=r[25], cluster_id=r[26],
    )


def read_items(conn: sa.Connection, stmt: sa.Select[Any]) -> list[Item]:
    """The items of `stmt` (an `item_select`), without their tags."""
    return [item_from(r) for r in driver_rows(conn, stmt)]


def row_item(row: Any) -> Item:
    """The item of a mapping of the items' columns (a whole row, as the writing half reads it)."""
    return item_from([row[name] for name in ITEM_COLUMNS])


def attach_tags(conn: sa.Connection, items: list[Item], among: sa.Select[Any] | None = None) -> None:
    """Fill the topics and member matches of `items` from the store, in place. `among`, a select of item ids
    that contains those of `items`, lets many items be read in one query each instead of lists of ids."""
    by_id = {i.id: i for i in items}
    topics, members = T.item_topics.c, T.item_members.c
    if among is not None and len(items) > _TAGS_BY_QUERY:
        scopes = [(topics.item_id.in_(among), members.item_id.in_(among))]
    else:
        scopes = [(topics.item_id.in_(chunk), members.item_id.in_(chunk)) for chunk in chunks(list(by_id))]
    kinds = ((topics, topics.topic, topics.evidence, "topics", TopicTag),
             (members, members.member, members.reasons, "members", MemberMatch))
    for scope in scopes:
        for (table, key, notes, field, tag), where in zip(kinds, scope, strict=True):
            for item_id, name, score, text in driver_rows(
                    conn, sa.select(table.item_id, key, table.score, raw(notes)).where(where)
                    .order_by(table.item_id, key)):
                item = by_id.get(item_id)
                if item is not None:
                    getattr(item, field)[name] = tag(score, list(loaded(text)))
