"""The numbers of a digest, computed with pandas from the week's items (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
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


def week_over_week(df: pd.DataFrame, previous: pd.DataFrame) -> Table:
    now = df.groupby("kind").size() if not df.empty else pd.Series(dtype=int)
    before = previous.groupby("kind").size() if not previous.empty else pd.Series(dtype=int)
    both = pd.concat([now.rename("this"), before.rename("previous")], axis=1).fillna(0).astype(int)
    rows = [[k, int(both.loc[k, "this"]), int(both.loc[k, "previous"]),
             int(both.loc[k, "this"] - both.loc[k, "previous"])] for k in _kind_order(both.index)]
    rows.append(["all", len(df), len(previous), len(df) - len(previous)])
    return Table(["kind", "this week", "previous week", "change"], rows)


def top_sources(df: pd.DataFrame, n: int = 8) -> Table:
    if df.empty:
        return Table(["source", "items"], [])
    counts = df.groupby("source").size().sort_values(ascending=False, kind="stable").head(n)
    return Table(["source", "items"], [[s, int(c)] for s, c in counts.items()])


def numbers(items: Sequence[Item], previous: Sequence[Item], topic_order: Sequence[str]) -> Numbers:
    """The digest's numbers for this week's `items` against the `previous` week's."""
    df, before = frame(items), frame(previous)
    return Numbers(kind_topic_table(df, topic_order), region_table(df), week_over_week(df, before), top_sources(df))
