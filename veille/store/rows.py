"""Rows of the items table to items and back, shared by the store's reading and writing halves."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from veille.models import Due, Item, MemberMatch, TopicTag
from veille.store import schema as T


def chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    """Slices of `values` short enough for one IN (...) list on every database."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def row_item(row: Any) -> Item:
    return Item(
        id=row["id"], source=row["source"], kind=row["kind"], title=row["title"], url=row["url"],
        summary=row["summary"] or "", lang=row["lang"], country=row["country"], published_at=row["published_at"],
        collected_at=row["collected_at"], updated_at=row["updated_at"], notice_id=row["notice_id"],
        notice_type=row["notice_type"], buyer=row["buyer"], deadline_at=row["deadline_at"],
        deadline_date_only=bool(row["deadline_date_only"]), deadline_zone=row["deadline_zone"],
        deadline_kind=row["deadline_kind"], deadlines=[Due.from_json(d) for d in row["deadlines"] or []],
        cpv=list(row["cpv"] or []), value_amount=row["value_amount"], value_currency=row["value_currency"],
        value_kind=row["value_kind"], value_min=row["value_min"], value_max=row["value_max"],
        procedure=row["procedure"], cluster_id=row["cluster_id"],
    )


def attach_tags(conn: sa.Connection, items: list[Item]) -> None:
    """Fill the topics and member matches of `items` from the store, in place."""
    by_id = {i.id: i for i in items}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in conn.execute(sa.select(T.item_topics).where(T.item_topics.c.item_id.in_(chunk))
                              .order_by(T.item_topics.c.topic)).mappings():
            by_id[r["item_id"]].topics[r["topic"]] = TopicTag(r["score"], list(r["evidence"]))
        for r in conn.execute(sa.select(T.item_members).where(T.item_members.c.item_id.in_(chunk))
                              .order_by(T.item_members.c.member)).mappings():
            by_id[r["item_id"]].members[r["member"]] = MemberMatch(r["score"], list(r["reasons"]))
