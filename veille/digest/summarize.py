"""The numbers of a digest, computed with pandas from the week's items (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from veille.models import KIND_ORDER, REGIONS, Item

NO_TOPIC = "(none)"


@dataclass(frozen=True)
class Table:
    """A small table ready for a template: column headers and rows of cells."""

    columns: list[str]
    rows: list[list[object]]


@dataclass(frozen=True)
class Numbers:
    """The week in numbers, as tables of IDs (the renderer puts labels on them)."""

    by_kind_topic: Table
    by_region: Table
    week_over_week: Table
    top_sources: Table


def frame(items: Sequence[Item]) -> pd.DataFrame:
    """Return one row per item with the columns the summaries need."""
    return pd.DataFrame(
        [{"id": i.id, "kind": i.kind, "source": i.source, "title": i.title, "url": i.url,
          "published_at": i.published_at, "country": i.country, "region": i.region or "unknown",
          "topics": sorted(i.topics), "members": sorted(i.members), "deadline_at": i.deadline_at,
          "buyer": i.buyer, "cpv": list(i.cpv)} for i in items],
        columns=["id", "kind", "source", "title", "url", "published_at", "country", "region", "topics",
                 "members", "deadline_at", "buyer", "cpv"],
    )


def _kind_order(kinds: pd.Index) -> list[str]:
    return sorted(kinds, key=lambda k: KIND_ORDER.get(k, 99))


def kind_topic_table(df: pd.DataFrame, topic_order: Sequence[str]) -> Table:
    """Items per topic (rows) and kind (columns); an item with two topics counts in both rows."""
    if df.empty:
        return Table(["topic"], [])
    exploded = df.assign(topic=df["topics"].map(lambda t: t or [NO_TOPIC])).explode("topic")
    counts = pd.crosstab(exploded["topic"], exploded["kind"])
    rows_order = [t for t in (*topic_order, NO_TOPIC) if t in counts.index]
    counts = counts.reindex(index=rows_order, columns=_kind_order(counts.columns), fill_value=0)
    rows = [[topic, *(int(v) for v in counts.loc[topic]), int(counts.loc[topic].sum())] for topic in counts.index]
    return Table(["topic", *counts.columns, "all kinds"], rows)


def region_table(df: pd.DataFrame) -> Table:
    counts = df.groupby("region").size() if not df.empty else pd.Series(dtype=int)
    order = [r for r in (*REGIONS, "unknown") if r in counts.index]
    return Table(["region", "items"], [[r, int(counts[r])] for r in order])


def week_over_week(df: pd.DataFrame, previous: Mapping[str, int]) -> Table:
    """Items per kind this week against the previous week's counts (`previous`: {kind: count})."""
    now = df.groupby("kind").size() if not df.empty else pd.Series(dtype=int)
    before = pd.Series({k: n for k, n in previous.items() if n}, dtype=int)
    both = pd.concat([now.rename("this"), before.rename("previous")], axis=1).fillna(0).astype(int)
    rows = [[k, int(both.loc[k, "this"]), int(both.loc[k, "previous"]),
             int(both.loc[k, "this"] - both.loc[k, "previous"])] for k in _kind_order(both.index)]
    total = sum(previous.values())
    rows.append(["all", len(df), total, len(df) - total])
    return Table(["kind", "this week", "previous week", "change"], rows)


def top_sources(df: pd.DataFrame, n: int = 8) -> Table:
    if df.empty:
        return Table(["source", "items"], [])
    counts = df.groupby("source").size().sort_values(ascending=False, kind="stable").head(n)
    return Table(["source", "items"], [[s, int(c)] for s, c in counts.items()])


def numbers(items: Sequence[Item], previous: Mapping[str, int], topic_order: Sequence[str]) -> Numbers:
    """The digest's numbers for this week's `items` against the previous week's counts per kind."""
    df = frame(items)
    return Numbers(kind_topic_table(df, topic_order), region_table(df), week_over_week(df, previous), top_sources(df))


class WeeklyCounts:
    """The trend of every digest of a week, as the store counts it (`Store.trend_counts`): per week, the tenders
    and stories per kind and per topic, of all tagged items (reader None) or of one member's matches."""

    def __init__(self, counted: tuple[Mapping[tuple[str | None, str], list[int]],
                                      Mapping[tuple[str | None, str], list[int]]], weeks: int):
        self.kinds, self.topics = counted
        self.weeks = weeks

    def counts(self, member: str | None, topics: Sequence[str]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """({kind: count per week}, {topic: count per week} for `topics`) of the items tagged or matched, or
        matched by `member` when given."""
        kinds = {kind: list(n) for (reader, kind), n in self.kinds.items() if reader == member}
        return kinds, {t: list(self.topics.get((member, t), [0] * self.weeks)) for t in topics}
