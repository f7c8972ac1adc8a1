"""An in-memory facet index of the archive: filter, count and page a million items in milliseconds.

The store stays the truth; the index holds, per item, only what filters and facets need (kind, region,
source, date, deadline, cluster, topics and members as bit sets of as many 64-bit words as they need) in numpy
arrays ordered newest first. Full-text
conditions come from the store's search index (`FacetIndex.search`: on SQLite the items' search numbers,
read from the FTS5 index alone; elsewhere their ids). A reader rebuilds it when
`Store.generation()` changes, so what it shows is never older than the last write it has noticed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from veille.models import ItemQuery
from veille.store.database import Store

WORD = 64  # topics and members are bits of 64-bit words: a word per 64 names


@dataclass(frozen=True)
class Page:
    """One page of a filtered view: the ids shown, the total, and the facet counts of the whole view."""

    ids: list[str]
    total: int
    facets: dict[str, dict[str, int]]


class FacetIndex:
    """Built once by `FacetIndex.load(store)`; `page(query, search(store, text))` answers a view."""

    def __init__(self, generation: int, ids: list[str], kinds: list[str], regions: list[str], sources: list[str],
                 kind: np.ndarray, region: np.ndarray, source: np.ndarray, seen: np.ndarray,
                 topics: list[str], topic_bits: np.ndarray, members: list[str], member_bits: np.ndarray,
                 deadline: np.ndarray | None = None, cluster: np.ndarray | None = None):
        self.generation = generation
        self.ids = ids
        self.kinds, self.regions, self.sources = kinds, regions, sources
        self.kind, self.region, self.source, self.seen = kind, region, source, seen
        self.topics, self.topic_bits = topics, _words(topic_bits)
        self.members, self.member_bits = members, _words(member_bits)
        self.deadline = deadline if deadline is not None else np.full(len(ids), np.datetime64("NaT"), "datetime64[us]")
        # each item's cluster as a number (its own when alone), and whether it is alone in it
        self.cluster = cluster if cluster is not None else np.arange(len(ids), dtype=np.int64)
        sizes = np.bincount(self.cluster) if len(ids) else np.array([], dtype=np.int64)
        self.alone = sizes[self.cluster] == 1 if len(ids) else np.array([], dtype=bool)
        # the items sharing a cluster, sorted by (value of a column, cluster, newest first): taking the first of
        # each group in view needs no sort per request (built with the index, per column)
        self._groups: dict[str, np.ndarray] = {}
        stamps = self.deadline.astype(np.int64)  # NaT is the smallest int64: sorted last instead
        self._deadline_order = np.where(np.isnat(self.deadline), np.iinfo(np.int64).max, stamps)
        encoded = np.array([i.encode() for i in ids], dtype=bytes) if ids else np.array([], dtype="S1")
        self._by_id = np.argsort(encoded, kind="stable")
        self._sorted_ids = encoded[self._by_id]
        self._sorted_keys: np.ndarray | None = None  # search numbers, sorted, and the position of each
        self._key_positions = np.array([], dtype=np.int64)

    def _set_keys(self, pairs: Sequence[tuple[int, str]]) -> None:
        if not pairs:
            return
        keys = np.array([k for k, _ in pairs], dtype=np.int64)
        where = self.positions([i for _, i in pairs], keep_missing=True)
        known = where >= 0
        order = np.argsort(keys[known])
        self._sorted_keys = keys[known][order]
        self._key_positions = where[known][order]

    @classmethod
    def load(cls, store: Store) -> FacetIndex | None:
        """Read the archive's columns from the store (any number of topics and members; the type keeps None for a
        site that has to do without an index)."""
        generation = store.generation()
        rows, topic_pairs, member_pairs = store.facet_columns()
        ids = [r[0] for r in rows]
        position = {item_id: n for n, item_id in enumerate(ids)}

        def codes(column: int) -> tuple[list[str], np.ndarray]:
            names: dict[str, int] = {}
            values = [names.setdefault(r[column], len(names)) if r[column] is not None else -1 for r in rows]
            return list(names), np.array(values, dtype=np.int32)

        kinds, kind = codes(1)
        regions, region = codes(2)
        sources, source = codes(3)
        seen = np.array([str(r[4]) for r in rows], dtype="datetime64[us]") if rows else np.array([], "datetime64[us]")
        deadline = np.array([str(r[5]) if r[5] is not None else "NaT" for r in rows], dtype="datetime64[us]") \
            if rows else np.array([], "datetime64[us]")
        # a cluster's number is the position of the item naming it (numbers past the items for a name not stored)
        unknown: dict[str, int] = {}

        def cluster_of(n: int, name: str | None) -> int:
            if name is None:
                return n
            found = position.get(name)
            return found if found is not None else unknown.setdefault(name, len(rows) + len(unknown))

        cluster = np.array([cluster_of(n, r[6]) for n, r in enumerate(rows)], dtype=np.int64)

        def bits(pairs: Sequence[tuple[str, str]]) -> tuple[list[str], np.ndarray]:
            names = sorted({name for _, name in pairs})
            number = {name: n for n, name in enumerate(names)}
            out = np.zeros((len(ids), max(1, -(-len(names) // WORD))), dtype=np.uint64, order="F")
            where = np.array([position.get(item_id, -1) for item_id, _ in pairs], dtype=np.int64)
            numbers = np.array([number[name] for _, name in pairs], dtype=np.int64)
            flags = np.left_shift(np.uint64(1), (numbers % WORD).astype(np.uint64))
            keep = where >= 0
            np.bitwise_or.at(out, (where[keep], numbers[keep] // WORD), flags[keep])
            return names, out

        topic_set, member_set = bits(topic_pairs), bits(member_pairs)
        index = cls(generation, ids, kinds, regions, sources, kind, region, source, seen, *topic_set, *member_set,
                    deadline=deadline, cluster=cluster)
        index._set_keys(store.search_key_pairs())
        for by in (None, "kind", "region", "source"):  # here, in the loading thread, not in a request
            index._grouped(by)
        return index

    def search(self, store: Store, text: str) -> np.ndarray | None:
        """Positions of the items containing every word of `text` (None: no words to search)."""
        if self._sorted_keys is not None:
            keys = store.search_keys(text)
            if keys is None:
                return None
            wanted = np.array(keys, dtype=np.int64)
            if not self._sorted_keys.size or not wanted.size:
                return np.array([], dtype=np.int64)
            at = np.minimum(np.searchsorted(self._sorted_keys, wanted), self._sorted_keys.size - 1)
            return np.asarray(self._key_positions[at[self._sorted_keys[at] == wanted]], dtype=np.int64)
        ids = store.search_ids(text)
        return None if ids is None else self.positions(ids)

    def positions(self, ids: Sequence[str], keep_missing: bool = False) -> np.ndarray:
        """Positions (in newest-first order) of the given ids; unknown ids are left out (or -1)."""
        if not ids or not len(self._sorted_ids):
            return np.full(len(ids) if keep_missing else 0, -1, dtype=np.int64)
        wanted = np.array([i.encode() for i in ids], dtype=bytes)
        at = np.searchsorted(self._sorted_ids, wanted)
        at = np.minimum(at, len(self._sorted_ids) - 1)
        found = self._sorted_ids[at] == wanted
        if keep_missing:
            return np.where(found, self._by_id[at], -1).astype(np.int64)
        return np.asarray(self._by_id[at[found]], dtype=np.int64)

    def mask(self, query: ItemQuery, text: np.ndarray | None = None) -> np.ndarray:
        """True for the items of `query`'s view (its text condition given as positions, from `search`): one per
        cluster with `one_per_cluster`."""
        scope = self.scope(query, text)
        return (self.firsts(scope) if query.one_per_cluster else scope) & self.judged(query)

    def scope(self, query: ItemQuery, text: np.ndarray | None = None) -> np.ndarray:
        """True for the items that the filters choosing copies keep (all but topics, member and tagged)."""
        keep = np.ones(len(self.ids), dtype=bool)

        def one_of(column: np.ndarray, names: list[str], wanted: Sequence[str]) -> None:
            nonlocal keep
            codes = [names.index(w) for w in wanted if w in names]
            keep &= np.isin(column, codes)

        if query.kinds:
            one_of(self.kind, self.kinds, query.kinds)
        if query.regions:
            one_of(self.region, self.regions, query.regions)
        if query.sources:
            one_of(self.source, self.sources, query.sources)
        if query.since:
            keep &= self.seen >= _naive(query.since)
        if query.until:
            keep &= self.seen < _naive(query.until)
        if query.deadline_from:  # no deadline (NaT) compares false: left out
            keep &= self.deadline >= _naive(query.deadline_from)
        if query.deadline_until:
            keep &= self.deadline < _naive(query.deadline_until)
        if text is not None:
            hits = np.zeros(len(self.ids), dtype=bool)
            hits[text] = True
            keep &= hits
        return keep

    def judged(self, query: ItemQuery) -> np.ndarray:
        """True for the items whose topics and member matches pass `query` (judged on a cluster's newest item)."""
        keep = np.ones(len(self.ids), dtype=bool)
        if query.topics:
            if any(t not in self.topics for t in query.topics):
                keep[:] = False
            else:
                need = _flags(self.topics, query.topics, self.topic_bits.shape[1])
                for word in np.flatnonzero(need):
                    keep &= (self.topic_bits[:, word] & need[word]) == need[word]
        if query.member:
            if query.member not in self.members:
                keep[:] = False
            else:
                keep &= _has(self.member_bits, self.members.index(query.member))
        if query.tagged:
            counted = self.members if query.tagged_by is None else [m for m in self.members if m in query.tagged_by]
            wanted = _flags(self.members, counted, self.member_bits.shape[1])
            tagged = np.zeros(len(self.ids), dtype=bool)
            for column in range(self.topic_bits.shape[1]):
                tagged |= self.topic_bits[:, column] != 0
            for word in np.flatnonzero(wanted):
                tagged |= (self.member_bits[:, word] & wanted[word]) != 0
            keep &= tagged
        return keep

    def firsts(self, scope: np.ndarray, by: str | None = None) -> np.ndarray:
        """True for the newest item in `scope` of each cluster (of each cluster within each value of column `by`:
        kind, region or source)."""
        keep = scope & self.alone  # an item alone in its cluster stands for it
        order = self._grouped(by)
        inside = order[scope[order]]  # still grouped, newest first within each group
        if inside.size:
            first = np.ones(inside.size, dtype=bool)
            clusters = self.cluster[inside]
            first[1:] = clusters[1:] != clusters[:-1]
            if by is not None:
                values = getattr(self, by)[inside]
                first[1:] |= values[1:] != values[:-1]
            keep[inside[first]] = True
        return keep

    def _grouped(self, by: str | None) -> np.ndarray:
        key = by or ""
        if key not in self._groups:
            shared = np.flatnonzero(~self.alone)
            keys = (shared, self.cluster[shared]) + ((getattr(self, by)[shared],) if by else ())
            self._groups[key] = shared[np.lexsort(keys)]  # the last key sorts first
        return self._groups[key]

    def page(self, query: ItemQuery, text: np.ndarray | None = None) -> Page:
        """The ids of `query`'s page (its limit and offset), in its order, its total and facet counts."""
        scope = self.scope(query, text)
        judged = self.judged(query)
        keep = (self.firsts(scope) if query.one_per_cluster else scope) & judged
        chosen = np.flatnonzero(keep)
        if query.order == "deadline":  # stable: newest first among equal deadlines
            chosen = chosen[np.argsort(self._deadline_order[chosen], kind="stable")]
        start = query.offset or 0
        end = start + query.limit if query.limit else None
        facets: dict[str, dict[str, int]] = {}
        for name, column, names in (("kind", self.kind, self.kinds), ("region", self.region, self.regions),
                                    ("source", self.source, self.sources)):
            # with one per cluster, a value counts the clusters the view would show with that value chosen
            rows = self.firsts(scope, name) & judged if query.one_per_cluster else keep
            values = column[rows]
            counts = np.bincount(values[values >= 0], minlength=len(names))
            facets[name] = {names[n]: int(c) for n, c in enumerate(counts) if c}
        for name, column, names in (("topic", self.topic_bits, self.topics),
                                    ("member", self.member_bits, self.members)):
            values = np.asfortranarray(column[keep])
            facets[name] = {}
            for n, label in enumerate(names):
                count = int(np.count_nonzero(_has(values, n)))
                if count:
                    facets[name][label] = count
        return Page([self.ids[int(i)] for i in chosen[start:end]], len(chosen), facets)


def _words(bits: np.ndarray) -> np.ndarray:
    """Bit sets as (items, words), each word's column contiguous (a one-word array given flat is one column)."""
    # not reshape(len, -1): an empty archive (a new deployment's) has no length to infer the words from
    return np.asfortranarray(bits if bits.ndim == 2 else bits.reshape(len(bits), 1))


def _has(bits: np.ndarray, number: int) -> np.ndarray:
    """True for the rows of `bits` holding name number `number`."""
    return np.asarray((bits[:, number // WORD] & np.uint64(1 << (number % WORD))) != 0)


def _flags(names: list[str], wanted: Sequence[str], words: int) -> np.ndarray:
    """The bit set of `wanted` (names of `names`), one value per word."""
    out = np.zeros(words, dtype=np.uint64)
    for name in wanted:
        n = names.index(name)
        out[n // WORD] |= np.uint64(1 << (n % WORD))
    return out


def _naive(value: datetime) -> np.datetime64:
    return np.datetime64(value.astimezone(UTC).replace(tzinfo=None), "us")
