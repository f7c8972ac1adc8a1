"""Clustering items into stories and tenders: the link keys they share, joined in one transaction.

An item joins the items sharing one of its exact keys, and the items indexed under one of its band keys whose
signature and title pass `is_near(signature, title, theirs, their title)` (confirmed near-duplicates); the
clusters so joined merge. Items are taken in order, so one also meets the items before it. The cluster id is
the smallest item id of the cluster, whatever the order of arrival.

A key held by KEY_CAP items is saturated: it tells nothing more about who is the same story (a band of a
signature that boilerplate made common, a link every item of a feed shares), so later items neither meet
its holders nor join them. Each item is then compared with a bounded number of others: linking stays linear
in the items linked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from veille.models import Item
from veille.store import bulk
from veille.store import schema as T
from veille.store.rows import chunks, driver_rows, one_of

Entry = tuple[Item, Sequence[str], Sequence[str], int | None]  # (item, exact keys, band keys, signature)
Near = Callable[[int, str, int, str], bool]  # (signature, title, their signature, their title) -> same story
KEY_CAP = 200


class UnionFind:
    """Disjoint sets of item ids: the clusters being joined during one linking batch."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def add(self, node: str) -> None:
        self.parent.setdefault(node, node)

    def find(self, node: str) -> str:
        self.add(node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def components(self) -> list[set[str]]:
        out: dict[str, set[str]] = {}
        for node in self.parent:
            out.setdefault(self.find(node), set()).add(node)
        return list(out.values())


def signed(value: int | None) -> int | None:
    """A 64-bit signature as the signed BIGINT the databases store (None stays None)."""
    if value is None:
        return None
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


@dataclass
class Joining:
    """The state of one batch: who holds each key, what the stored items met are, the groups so far."""

    by_key: dict[str, set[str]]
    stored: dict[str, tuple[str, int | None, str]]  # id -> (cluster id, signature, title) of the stored items met
    saturated: set[str] = field(default_factory=set)  # keys held by KEY_CAP items: no longer indexed nor met
    groups: UnionFind = field(default_factory=UnionFind)
    signatures: dict[str, tuple[int | None, str]] = field(default_factory=dict)  # the batch's items
    links: list[dict[str, str]] = field(default_factory=list)

    def signature(self, other: str) -> tuple[int | None, str]:
        if other in self.signatures:
            return self.signatures[other]
        _, signature, title = self.stored.get(other, ("", None, ""))
        return signature, title

    def holders(self, keys: Sequence[str]) -> set[str]:
        return {other for k in keys if k not in self.saturated for other in self.by_key.get(k, ())}

    def met(self, entry: Entry, is_near: Near) -> set[str]:
        """The items that `entry` joins: by an exact key, or by a band key and a near signature and title."""
        item, keys, bands, signature = entry
        met = self.holders(keys)
        if signature is not None:
            for other in self.holders(bands) - met:
                theirs, title = self.signature(other)
                if theirs is not None and is_near(signature, item.title, theirs, title):
                    met.add(other)
        met.discard(item.id)
        return met

    def add(self, entry: Entry, is_near: Near) -> None:
        """Join one item to what it meets, then index its keys so that later items meet it."""
        item, keys, bands, signature = entry
        self.groups.add(item.id)
        for other in self.met(entry, is_near):
            self.groups.union(item.id, other)
            if other in self.stored and other not in self.signatures:
                self.groups.union(other, self.stored[other][0])
        self.signatures[item.id] = (signature, item.title)
        for k in dict.fromkeys([*keys, *bands]):
            holders = self.by_key.setdefault(k, set())
            if k in self.saturated or len(holders) >= KEY_CAP:
                self.saturated.add(k)
                continue
            holders.add(item.id)
            self.links.append({"item_id": item.id, "key": k})


def _replace_links(conn: sa.Connection, entries: Sequence[Entry], fresh: frozenset[str]
                   ) -> tuple[dict[str, set[str]], set[str]]:
    """Drop the batch's old links (`fresh` items have none); return {key: ids of the stored items holding it} for
    the batch's keys that are not saturated, and the saturated ones."""
    links, dialect = T.item_links.c, conn.dialect.name
    stale = [item.id for item, *_ in entries if item.id not in fresh]
    if stale:
        conn.execute(T.item_links.delete().where(one_of(dialect, links.item_id, stale)))
    every = list(dict.fromkeys(k for _, keys, bands, _ in entries for k in (*keys, *bands)))
    counts = sa.select(links.key).where(one_of(dialect, links.key, every)).group_by(links.key) \
        .having(sa.func.count() >= KEY_CAP)
    saturated: set[str] = set(conn.execute(counts).scalars())
    by_key: dict[str, set[str]] = {}
    query = sa.select(links.key, links.item_id).where(one_of(dialect, links.key, [k for k in every
                                                                                   if k not in saturated]))
    for key, item_id in driver_rows(conn, query):
        by_key.setdefault(key, set()).add(item_id)
    return by_key, saturated


def _stored_items(conn: sa.Connection, by_key: dict[str, set[str]]) -> dict[str, tuple[str, int | None, str]]:
    """{id: (cluster id, signature, title)} of the stored items that hold one of the keys."""
    stored: dict[str, tuple[str, int | None, str]] = {}
    c = T.items.c
    ids = sorted({i for found in by_key.values() for i in found})
    for item_id, cluster_id, simhash, title in driver_rows(conn, sa.select(c.id, c.cluster_id, c.simhash, c.title)
                                                             .where(one_of(conn.dialect.name, c.id, ids))):
        stored[item_id] = (cluster_id or item_id, None if simhash is None else unsigned(simhash), title)
    return stored


def _write(conn: sa.Connection, joining: Joining, fresh: frozenset[str]) -> dict[str, str]:
    """Store the links, the batch's clusters and signatures (a `fresh` item alone in its cluster already has
    both), and move joined stored clusters; return {item id: cluster id}."""
    bulk.executemany(conn, T.item_links.insert(), joining.links)
    components = joining.groups.components()
    cluster_of = {node: min(nodes) for nodes in components for node in nodes}
    bulk.executemany(conn, T.items.update().where(T.items.c.id == sa.bindparam("b_id")).values(
        cluster_id=sa.bindparam("b_cluster"), simhash=sa.bindparam("b_simhash")), [
        {"b_id": i, "b_cluster": cluster_of[i], "b_simhash": signed(signature)}
        for i, (signature, _) in joining.signatures.items() if i not in fresh or cluster_of[i] != i])
    for nodes in components:
        if len(nodes) > 1:  # stored items (and their clusters) joined: the whole cluster moves
            members = sorted(nodes)
            for chunk in chunks(members):
                conn.execute(T.items.update().where(sa.or_(T.items.c.id.in_(chunk), T.items.c.cluster_id.in_(chunk)))
                             .values(cluster_id=members[0]))
    return cluster_of


def link_all(conn: sa.Connection, entries: Sequence[Entry], is_near: Near, fresh: frozenset[str] = frozenset()
             ) -> None:
    """Cluster the entries' items with each other and with the stored items (see the module's doc); set
    each item's `cluster_id`. The `fresh` items were inserted with their signatures, each its own cluster."""
    by_key, saturated = _replace_links(conn, entries, fresh)
    joining = Joining(by_key, _stored_items(conn, by_key), saturated)
    for entry in entries:
        joining.add(entry, is_near)
    cluster_of = _write(conn, joining, fresh)
    for item, *_ in entries:
        item.cluster_id = cluster_of[item.id]
