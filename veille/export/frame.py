"""A report's CSV written from the store's rows, without an `Item` per row (pure).

At a hundred thousand items, making an object per item and per tag, then a dictionary of cells per item, costs more
than the database itself. Here the tags are grouped per item in one pass over their sorted rows, the columns are
formatted as lists (pandas for the times), and the CSV writer gets plain strings. The cells are exactly those of
`formats.to_csv` (the tests compare both, byte for byte).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any

import pandas as pd

from veille import sheets
from veille.export.formats import CSV_COLUMNS
from veille.ids import region_of
from veille.models import Lang
from veille.zones import zone_named

# the items' columns read for the CSV, in this order
COLUMNS = ("id", "kind", "published_at", "title", "url", "source", "country", "deadline_at", "deadline_date_only",
           "deadline_zone", "deadline_kind", "buyer", "notice_id", "cpv", "value_amount", "value_currency",
           "value_kind", "value_min", "value_max", "summary")
TEXT = ("id", "kind", "title", "url", "source", "country", "region", "topics", "members", "why", "deadline_kind",
        "buyer", "notice_id", "cpv", "value_currency", "value_kind", "summary")
NUMBERS = ("value_amount", "value_min", "value_max")
_NONE = ("", "", 0)  # an item without topics: no keys, no reasons, Item.relevance's integer 0


def _loaded(value: Any) -> list[Any]:
    if value is None or value == "[]":
        return []
    return json.loads(value) if isinstance(value, str) else list(value)


def _utc(values: pd.Series) -> pd.Series:
    """Stored times (ISO text on SQLite, naive datetimes elsewhere) as aware UTC times."""
    return pd.to_datetime(values, utc=True, format="ISO8601") if len(values) else values


def _clock(times: pd.Series, zone: tzinfo) -> pd.Series:
    """UTC times as a clock in `zone` shows them, in the spreadsheets' format; "" for none."""
    if not len(times):
        return times.astype(object)
    return times.dt.tz_convert(zone).dt.strftime(sheets.TIME_FORMAT).fillna("")


@cache
def _region(country: str | None) -> str:
    return region_of(country) or ""


def _per_item(rows: Sequence[tuple[Any, ...]]) -> dict[str, tuple[str, str, float]]:
    """{item id: (keys joined, its "why" part, the scores summed)} of (id, key, score, notes joined) rows ordered
    by id then key (as the store gives them): grouped in one pass, as `formats.cells` and `Item.relevance` make
    them."""
    out: dict[str, tuple[str, str, float]] = {}
    for item_id, group in groupby(rows, key=itemgetter(0)):
        entries = list(group)
        out[item_id] = (";".join(e[1] for e in entries), " | ".join(f"{e[1]}: {e[3]}" for e in entries),
                        round(sum(e[2] for e in entries), 2))
    return out


def report_csv(items: Sequence[tuple[Any, ...]], topics: Sequence[tuple[Any, ...]],
               members: Sequence[tuple[Any, ...]], *, member: str | None, by_relevance: bool, limit: int | None,
               lang: Lang, zone: tzinfo) -> tuple[int, str]:
    """(rows written, the CSV) of a report from the store's rows (`Store.report_rows` with COLUMNS), most relevant
    first when `by_relevance` (the member's score with `member`; the store's order among equals), at most `limit`."""
    text = io.StringIO()
    text.write(sheets.BOM)
    writer = csv.writer(text, delimiter=sheets.SEPARATORS[lang], lineterminator="\r\n")
    writer.writerow([sheets.header(c, lang, None if lang == "en" else zone) for c in CSV_COLUMNS])
    if not items:
        return 0, text.getvalue()
    on = _per_item(topics)
    by = _per_item(members)
    if by_relevance:  # most relevant first, the store's order among equals (a stable sort)
        own = {r[0]: r[2] for r in members if r[1] == member} if member is not None else {}
        score = (lambda r: own.get(r[0], 0.0)) if member is not None else (lambda r: on.get(r[0], _NONE)[2])
        items = sorted(items, key=lambda r: -score(r))
    if limit:
        items = items[:limit]
    df = pd.DataFrame(list(items), columns=list(COLUMNS))
    tagged = [on.get(i, _NONE) for i in df["id"]]
    matched = [by.get(i, _NONE) for i in df["id"]]
    df["topics"] = [t[0] for t in tagged]
    df["members"] = [m[0] for m in matched]
    df["why"] = [f"{t[1]} | {m[1]}" if t[1] and m[1] else t[1] or m[1] for t, m in zip(tagged, matched, strict=True)]
    mark = sheets.DECIMAL_MARKS[lang]
    out: dict[str, list[str]] = {}
    for column in TEXT:
        if column == "region":
            values = [_region(c if isinstance(c, str) else None) for c in df["country"].tolist()]
        elif column == "cpv":
            values = [";".join(_loaded(v)) for v in df["cpv"].tolist()]
        else:
            values = ["" if v is None or v != v else str(v) for v in df[column].tolist()]
        out[column] = [f"'{v}" if v.startswith(sheets.FORMULA_START) else v for v in values]
    for column in NUMBERS:
        out[column] = ["" if v is None or v != v else str(float(v)).replace(".", mark) for v in df[column].tolist()]
    out["relevance"] = [str(t[2]).replace(".", mark) for t in tagged]
    out["published_at"] = _clock(_utc(df["published_at"]), zone).tolist()
    out["deadline_at"] = _deadlines(df, zone).tolist()
    writer.writerows(zip(*(out[c] for c in CSV_COLUMNS), strict=True))
    return len(df), text.getvalue()


def _deadlines(df: pd.DataFrame, zone: tzinfo) -> pd.Series:
    """The deadline as readers see it: the day the source wrote when it gave no time (in the buyer's zone), else
    the time on the clock of `zone`; "" for none."""
    due = _utc(df["deadline_at"])
    shown = _clock(due, zone) if len(df) else pd.Series([], dtype=object)
    days = df["deadline_date_only"].astype(bool) & due.notna() if len(df) else pd.Series([], dtype=bool)
    for n in days[days].index:
        moment: datetime = due[n].to_pydatetime()
        shown[n] = moment.astimezone(zone_named(df.at[n, "deadline_zone"])).date().isoformat()
    return shown
