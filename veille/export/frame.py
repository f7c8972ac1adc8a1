"""A report's CSV written from the store's rows, without an `Item` per row (pure).

At a hundred thousand items, making an object per item and per tag, then a dictionary of cells per item, costs more
than the database itself. Here the tags are grouped per item in one pass over their sorted rows, the columns are
formatted as lists (pandas for the times), and the CSV writer gets plain strings. The cells are exactly those of
`formats.to_csv` (the tests compare both, byte for byte).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import tzinfo
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any

import pandas as pd

from veille import sheets
from veille.cells import neutralise
from veille.export.formats import CSV_COLUMNS
from veille.ids import region_of
from veille.models import Lang
from veille.zones import zone_named

# the items' columns read for the CSV, in this order
COLUMNS = ("id", "kind", "published_at", "title", "url", "source", "country", "deadline_at", "deadline_date_only",
           "deadline_zone", "deadline_kind", "buyer", "notice_id", "cpv", "value_amount", "value_currency",
           "value_kind", "value_min", "value_max", "summary")
NUMBERS = ("value_amount", "value_min", "value_max")
# the columns the store gives as text cells (`Store.report_rows(..., texts=CELLS)`), used as they come
CELLS = ("id", "kind", "title", "url", "source", "country", "deadline_kind", "buyer", "notice_id", "cpv",
         "value_currency", "value_kind", "summary")
_NONE = ("", "", 0)  # an item without topics: no keys, no reasons, Item.relevance's integer 0


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


def _texts(values: Sequence[str]) -> list[str]:
    """Cells made here (the tags' keys and reasons), neutralised as the store's are (`cells.neutralise`)."""
    return [neutralise(v) for v in values]


def _per_item(rows: Sequence[tuple[Any, ...]]) -> dict[str, tuple[str, str, float]]:
    """{item id: (keys joined, its "why" part, the scores summed)} of (id, key, score, notes joined) rows ordered
    by id then key (as the store gives them): grouped in one pass, as `formats.cells` and `Item.relevance` make
    them."""
    out: dict[str, tuple[str, str, float]] = {}
    for item_id, group in groupby(rows, key=itemgetter(0)):
        entries = list(group)
        if len(entries) == 1:  # most items have one or two topics, and a match or two at most
            _, key, score, notes = entries[0]
            out[item_id] = (key, f"{key}: {notes}", round(score, 2))
        elif len(entries) == 2:
            (_, key, score, notes), (_, key2, score2, notes2) = entries
            out[item_id] = (f"{key};{key2}", f"{key}: {notes} | {key2}: {notes2}", round(score + score2, 2))
        else:
            out[item_id] = (";".join(e[1] for e in entries), " | ".join(f"{e[1]}: {e[3]}" for e in entries),
                            round(sum(e[2] for e in entries), 2))
    return out


def report_csv(items: Sequence[tuple[Any, ...]], topics: Sequence[tuple[Any, ...]],
               members: Sequence[tuple[Any, ...]], *, member: str | None, by_relevance: bool, limit: int | None,
               lang: Lang, zone: tzinfo) -> tuple[int, str]:
    """(rows written, the CSV) of a report from the store's rows (`Store.report_rows` with COLUMNS and CELLS),
    most relevant first when `by_relevance` (the member's score with `member`; the store's order among equals),
    at most `limit`. Text cells come straight from the rows' columns; pandas converts the times."""
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
    column = dict(zip(COLUMNS, zip(*items, strict=True), strict=True))
    tagged = [on.get(i, _NONE) for i in column["id"]]
    matched = [by.get(i, _NONE) for i in column["id"]]
    out: dict[str, list[str]] = {name: column[name] for name in CELLS}  # type: ignore[misc]
    out["topics"] = _texts([t[0] for t in tagged])
    out["members"] = _texts([m[0] for m in matched])
    out["why"] = _texts([f"{t[1]} | {m[1]}" if t[1] and m[1] else t[1] or m[1]
                         for t, m in zip(tagged, matched, strict=True)])
    out["region"] = [_region(c) for c in column["country"]]
    mark = sheets.DECIMAL_MARKS[lang]
    for name in NUMBERS:
        out[name] = ["" if v is None else str(float(v)).replace(".", mark) for v in column[name]]
    out["relevance"] = [str(t[2]).replace(".", mark) for t in tagged]
    published = _utc(pd.Series(column["published_at"], dtype=object))
    out["published_at"] = _clock(published, zone).tolist()
    out["deadline_at"] = _deadlines(column, zone).tolist()
    writer.writerows(zip(*(out[c] for c in CSV_COLUMNS), strict=True))
    return len(items), text.getvalue()


def _deadlines(column: dict[str, tuple[Any, ...]], zone: tzinfo) -> pd.Series:
    """The deadline as readers see it: the day the source wrote when it gave no time (in the buyer's zone), else
    the time on the clock of `zone`; "" for none."""
    due = _utc(pd.Series(column["deadline_at"], dtype=object))
    shown = _clock(due, zone)
    for n, (moment, day_only) in enumerate(zip(column["deadline_at"], column["deadline_date_only"], strict=True)):
        if day_only and moment is not None:
            shown[n] = due[n].to_pydatetime().astimezone(zone_named(column["deadline_zone"][n])).date().isoformat()
    return shown
