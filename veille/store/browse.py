"""The store's reading views for reports and the site: filtered pages, counts, facets, search (SQL only here)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from veille.cells import FORMULA_START
from veille.models import Item, ItemQuery
from veille.store import schema as T
from veille.store import search
from veille.store.rows import attach_tags, chunks, driver_rows, item_select, read_items
from veille.store.rows import raw as rows_raw


def _order(query: ItemQuery) -> list[sa.ColumnElement[Any]]:
    """The order of `query`'s items: newest first, or by deadline (none last) with `order="deadline"`."""
    c = T.items.c
    newest = [c.seen_at.desc(), c.id]
    return [c.deadline_at.is_(None), c.deadline_at.asc(), *newest] if query.order == "deadline" else newest


def _joined(dialect: str, column: str, glue: str) -> sa.ColumnElement[str]:
    """A stored JSON list of texts (`column`, "table.column") joined by `glue` by the database itself: one
    text per tag row, no JSON decoded in Python (`glue` is a constant of this module, not input)."""
    if dialect == "postgresql":
        expr = f"array_to_string(ARRAY(SELECT json_array_elements_text({column})), '{glue}')"
    else:
        expr = f"coalesce((SELECT group_concat(j.value, '{glue}') FROM json_each({column}) AS j), '')"
    return sa.literal_column(expr, sa.Text)


def _cell(dialect: str, column: sa.Column[Any]) -> sa.ColumnElement[str]:
    """`column` as a spreadsheet's text cell, made by the database: "" for none, a JSON list of texts joined by
    ";", and a leading `'` when the text would start a formula (`cells.FORMULA_START`)."""
    text: sa.ColumnElement[Any] = _joined(dialect, f"items.{column.name}", ";") if isinstance(column.type, sa.JSON) \
        else sa.func.coalesce(column, "")
    return sa.case((sa.func.substr(text, 1, 1).in_(FORMULA_START), sa.literal("'") + text), else_=text) \
        .label(column.name)


def _deadlines(c: Any, bound: datetime, after: bool) -> sa.ColumnElement[bool]:
    """Deadlines (columns `c` of the items or an alias) at or after `bound` (`after`), else before it (a deadline
    given as a day is stored as the end of that day in the buyer's zone: one instant like the others)."""
    return c.deadline_at >= bound if after else c.deadline_at < bound


class Browse:
    """Mixed into `Store`: queries that read items by filters, ids or words."""

    engine: sa.Engine

    def items(self, query: ItemQuery | None = None) -> list[Item]:
        """Return the stored items matching `query` (default: all), newest first (or by deadline, see
        `ItemQuery.order`), with their tags; one per cluster with `query.one_per_cluster`."""
        query = query or ItemQuery()
        c = T.items.c
        conditions = self._conditions(query)
        stmt = item_select(*conditions).order_by(*_order(query))
        if query.limit:
            stmt = stmt.limit(query.limit)
        if query.offset:
            stmt = stmt.offset(query.offset)
        with self.engine.connect() as conn:
            found = read_items(conn, stmt)
            attach_tags(conn, found, among=sa.select(c.id).where(*conditions))
        return found

    def report_rows(self, query: ItemQuery, columns: Sequence[str], texts: Collection[str] = ()) -> tuple[
            list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows a spreadsheet of `query`'s items is written from, as the driver gives them (times and JSON as
        stored; the columns named in `texts` as spreadsheet cells, see `_cell`): the items' `columns` (in the order
        of `items`), then (item id, topic, score, evidence) and (item id, member, score, reasons) rows ordered by
        item id then topic or member, for at least those items (readers look them up by id). No `Item` is made: a
        report of a hundred thousand items is a frame, not objects."""
        c = T.items.c
        dialect = self.engine.dialect.name
        stmt = sa.select(*(_cell(dialect, c[name]) if name in texts else rows_raw(c[name]) for name in columns)) \
            .where(*self._conditions(query)).order_by(*_order(query))
        if query.limit:
            stmt = stmt.limit(query.limit)
        # the tags of every copy in view: the same filters without the one asking each item whether a newer copy
        # of its cluster stands for it (that one costs as much as reading the tags)
        among = sa.select(c.id).where(*self._scope(query, T.items), *_judged(query, c.id))
        topics, members = T.item_topics.c, T.item_members.c
        queries = [stmt,
                   sa.select(topics.item_id, topics.topic, topics.score, _joined(dialect, "item_topics.evidence", ", "))
                   .where(topics.item_id.in_(among)).order_by(topics.item_id, topics.topic),
                   sa.select(members.item_id, members.member, members.score,
                             _joined(dialect, "item_members.reasons", "; "))
                   .where(members.item_id.in_(among)).order_by(members.item_id, members.member)]
        # the database works on one query while Python takes in another's rows
        items, tags, matches = self._read_at_once(queries)
        return items, tags, matches

    def _read_at_once(self, queries: Sequence[sa.Select[Any]]) -> list[list[tuple[Any, ...]]]:
        """The driver's rows of each query, the queries run at once, each on its own connection in a thread."""
        def read(query: sa.Select[Any]) -> list[tuple[Any, ...]]:
            with self.engine.connect() as conn:
                return driver_rows(conn, query)

        with ThreadPoolExecutor(len(queries), thread_name_prefix="store-read") as pool:
            return list(pool.map(read, queries))

    def item(self, item_id: str) -> Item | None:
        """Return one stored item with its tags, or None."""
        with self.engine.connect() as conn:
            found = read_items(conn, item_select(T.items.c.id == item_id))
            if not found:
                return None
            attach_tags(conn, found)
        return found[0]

    def items_by_ids(self, ids: Sequence[str]) -> list[Item]:
        """Return the stored items with these ids, with their tags, in the order given."""
        with self.engine.connect() as conn:
            found = {i.id: i for chunk in chunks(list(ids))
                     for i in read_items(conn, item_select(T.items.c.id.in_(chunk)))}
            ordered = [found[i] for i in ids if i in found]
            attach_tags(conn, ordered)
        return ordered

    def trend_counts(self, weeks: Sequence[tuple[datetime, datetime]], members: Sequence[str] = ()) -> tuple[
            dict[tuple[str | None, str], list[int]], dict[tuple[str | None, str], list[int]]]:
        """What the digests' trends draw, counted by the database for every digest of a week at once: per week
        ((start, end) of each of `weeks`), the tenders and stories (one per cluster) per kind and per topic, of
        the items with a topic or a member match (reader None) and of each of `members`' matches.
        Returns ({(reader, kind): counts}, {(reader, topic): counts}), a count per week, oldest first."""
        kinds: dict[tuple[str | None, str], list[int]] = {}
        topics: dict[tuple[str | None, str], list[int]] = {}
        if not weeks:
            return kinds, topics
        c, t, m = T.items.c, T.item_topics.c, T.item_members.c
        week = sa.case(*[(sa.and_(c.seen_at >= start, c.seen_at < end), n)
                         for n, (start, end) in enumerate(weeks)]).label("week")
        inside = (c.seen_at >= min(s for s, _ in weeks), c.seen_at < max(e for _, e in weeks))
        story = sa.func.count(sa.distinct(sa.func.coalesce(c.cluster_id, c.id)))
        # looked up per item of the weeks (by the tags' keys), not the whole tag tables scanned
        tagged = sa.or_(sa.exists().where(t.item_id == c.id), sa.exists().where(m.item_id == c.id))
        group = sa.literal(None, sa.String).label("reader")
        queries = [  # aggregates only: the rows never come into Python one by one
            (kinds, sa.select(week, group, c.kind, story).where(*inside, tagged).group_by(week, c.kind)),
            (topics, sa.select(week, group, t.topic, story).join_from(T.items, T.item_topics, t.item_id == c.id)
             .where(*inside).group_by(week, t.topic))]
        if members:
            queries += [
                (kinds, sa.select(week, m.member, c.kind, story).join_from(T.items, T.item_members, m.item_id == c.id)
                 .where(*inside, m.member.in_(list(members))).group_by(week, m.member, c.kind)),
                (topics, sa.select(week, m.member, t.topic, story).join_from(T.items, T.item_members, m.item_id == c.id)
                 .join(T.item_topics, t.item_id == c.id).where(*inside, m.member.in_(list(members)))
                 .group_by(week, m.member, t.topic))]
        # the database counts on every core (an aggregate holds no Python lock)
        counted = self._read_at_once([query for _, query in queries])
        for (out, _), rows in zip(queries, counted, strict=True):
            for n, reader, key, count in rows:
                if n is not None:
                    out.setdefault((reader, key), [0] * len(weeks))[int(n)] = int(count)
        return kinds, topics

    def scheduled_runs(self) -> dict[str, datetime]:
        """{job id: next run time (UTC)} of the jobs `veille run` keeps in this database (none before it ran)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("apscheduler_jobs"):
                return {}
            rows = conn.execute(sa.text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
        return {str(job_id): datetime.fromtimestamp(float(at), UTC) for job_id, at in rows if at is not None}

    def seen_range(self) -> tuple[datetime, datetime] | None:
        """The first and last times items count in digests (`seen_at`), None for an empty archive."""
        with self.engine.connect() as conn:
            first, last = conn.execute(sa.select(sa.func.min(T.items.c.seen_at), sa.func.max(T.items.c.seen_at))).one()
        return None if first is None else (first, last)  # min and max keep the column's type: aware UTC

    def generation(self) -> int:
        """A number that changes whenever items or their tags are written (by any process)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(T.store_state.c.value)
                                    .where(T.store_state.c.name == "generation")).scalar() or 0)

    def search_ids(self, text: str) -> list[str] | None:
        """Ids of the items containing every word of `text` (None: no words to search)."""
        query = search.id_query(self.engine.dialect.name, T.items, text)
        if query is None:
            return None
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(query)]

    def search_keys(self, text: str) -> list[int] | None:
        """SQLite only: the search numbers of the items containing every word of `text` (None: no words, or
        not SQLite). Read from the full-text index alone, so much faster than ids for common words."""
        if self.engine.dialect.name != "sqlite":
            return None
        query = search.key_query(text)
        if query is None:
            return None
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(query)]

    def search_key_pairs(self) -> list[tuple[int, str]]:
        """SQLite: every (search number, item id); empty elsewhere."""
        if self.engine.dialect.name != "sqlite":
            return []
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.exec_driver_sql("SELECT n, item_id FROM search_keys")]

    def facet_columns(self) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]], list[tuple[str, str]]]:
        """Every item's (id, kind, region, source, seen_at and deadline_at as naive UTC, the id naming its cluster or
        None when that is its own id), newest first, and every (item id, topic) and (item id, member) pair: what an
        in-memory facet index is built from."""
        c = T.items.c
        # most items name their own cluster (or none): None keeps a million strings out of memory
        cluster = sa.case((sa.or_(c.cluster_id.is_(None), c.cluster_id == c.id), None), else_=c.cluster_id)
        with self.engine.connect() as conn:
            # times as the driver gives them (text on SQLite, naive UTC): numpy parses a million at once
            rows = [tuple(r) for r in conn.execute(sa.select(c.id, c.kind, c.region, c.source,
                                                             sa.type_coerce(c.seen_at, sa.Text),
                                                             sa.type_coerce(c.deadline_at, sa.Text), cluster)
                                                   .order_by(c.seen_at.desc(), c.id))]
            topics = [(r[0], r[1]) for r in conn.execute(sa.select(T.item_topics.c.item_id, T.item_topics.c.topic))]
            members = [(r[0], r[1]) for r in conn.execute(sa.select(T.item_members.c.item_id,
                                                                    T.item_members.c.member))]
        return rows, topics, members

    def count(self, query: ItemQuery) -> int:
        """How many stored items match `query` (its limit and offset aside): clusters with `one_per_cluster`."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(T.items)
                                    .where(*self._conditions(query))).scalar() or 0)

    def facets(self, query: ItemQuery) -> dict[str, dict[str, int]]:
        """Return {facet: {value: number of matching items}} for kind, region, source, topic and member.

        With `one_per_cluster` a number counts clusters, and the number beside a kind, region or source is the
        count the view would have with that value chosen (its clusters grouped within that value)."""
        c = T.items.c
        conditions = self._conditions(query)
        selected = sa.select(c.id).where(*conditions).scalar_subquery()
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for name, column in (("kind", c.kind), ("region", c.region), ("source", c.source)):
                where = conditions
                if query.one_per_cluster:
                    where = [*self._scope(query, T.items), self._newest(query, by=name), *_judged(query, c.id)]
                stmt = sa.select(column, sa.func.count()).where(*where, column.is_not(None)).group_by(column)
                out[name] = {str(value): int(n) for value, n in conn.execute(stmt).all()}
            for name, table, column in (("topic", T.item_topics, T.item_topics.c.topic),
                                        ("member", T.item_members, T.item_members.c.member)):
                stmt = sa.select(column, sa.func.count()).group_by(column)
                if conditions:
                    stmt = stmt.where(table.c.item_id.in_(selected))
                out[name] = {str(value): int(n) for value, n in conn.execute(stmt).all()}
        return out

    def _conditions(self, query: ItemQuery) -> list[sa.ColumnElement[bool]]:
        """The WHERE conditions of `query` on the items table (limit and offset aside)."""
        newest = [self._newest(query)] if query.one_per_cluster else []
        return [*self._scope(query, T.items), *newest, *_judged(query, T.items.c.id)]

    def _scope(self, query: ItemQuery, table: sa.FromClause) -> list[sa.ColumnElement[bool]]:
        """The conditions on `table` (the items, or an alias) that choose which copies are in view: all but those
        judged on a cluster's newest item."""
        c = table.c
        where: list[sa.ColumnElement[bool]] = []
        if query.kinds:
            where.append(c.kind.in_(query.kinds))
        if query.regions:
            where.append(c.region.in_(query.regions))
        if query.sources:
            where.append(c.source.in_(query.sources))
        if query.since:
            where.append(c.seen_at >= query.since)
        if query.until:
            where.append(c.seen_at < query.until)
        if query.deadline_from:
            where.append(_deadlines(c, query.deadline_from, after=True))
        if query.deadline_until:
            where.append(_deadlines(c, query.deadline_until, after=False))
        if query.text:
            found = search.matching_ids(self.engine.dialect.name, table, query.text)
            if found is not None:
                where.append(found)
        return where

    def _newest(self, query: ItemQuery, by: str | None = None) -> sa.ColumnElement[bool]:
        """True for an item that no newer item of its cluster in view precedes (of its cluster and its value of
        column `by`): the item that stands for the cluster. Newer: seen later, or at the same time with a smaller id
        (the order of `items`). A cluster is `cluster_id`, else the item alone; both ways are looked up by index."""
        c, newer = T.items.c, T.items.alias("newer")
        n = newer.c
        key = sa.func.coalesce(c.cluster_id, c.id)
        before = sa.or_(n.seen_at > c.seen_at, sa.and_(n.seen_at == c.seen_at, n.id < c.id))
        same = [n[by] == c[by]] if by else []
        scope = self._scope(query, newer)
        # the item naming the cluster without a cluster id itself (stored before linking) is looked for only where
        # it may be another item: most items are alone, their cluster id their own id
        root = sa.or_(c.cluster_id.is_(None), c.cluster_id == c.id,
                      ~sa.exists().where(n.id == key, n.cluster_id.is_(None), before, *same, *scope))
        return sa.and_(~sa.exists().where(n.cluster_id == key, before, *same, *scope), root)


def _judged(query: ItemQuery, item_id: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
    """The conditions judged on the item that stands for its cluster: topics, member, tagged."""
    where: list[sa.ColumnElement[bool]] = []
    for topic in query.topics:  # every topic asked for must be present
        where.append(item_id.in_(sa.select(T.item_topics.c.item_id).where(T.item_topics.c.topic == topic)))
    if query.member:
        where.append(item_id.in_(sa.select(T.item_members.c.item_id).where(T.item_members.c.member == query.member)))
    if query.tagged:
        matched = sa.select(T.item_members.c.item_id)
        if query.tagged_by is not None:
            matched = matched.where(T.item_members.c.member.in_(query.tagged_by))
        where.append(sa.or_(item_id.in_(sa.select(T.item_topics.c.item_id)), item_id.in_(matched)))
    return where
