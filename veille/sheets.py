"""Spreadsheet files as their readers open them: column headers in the reader's language, the language's CSV
separator and decimal mark, a byte-order mark, times on the deployment's clock.

Shared by the CSV and XLSX exports and the digest's `items.csv` (pure functions). Excel reads a CSV as UTF-8
only after a BOM, and splits it on the separator of the reader's locale: `;` in French (where `,` is the
decimal mark), `,` in English.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo

from veille.cells import neutralise
from veille.models import Lang

# The header of each column, per reader language (one table, to move into the gettext catalogs as it is). The
# English headers are the column ids: tools read the English CSV by them, keep them as they are.
HEADERS: dict[str, dict[Lang, str]] = {
    "id": {"fr": "identifiant", "en": "id"},
    "kind": {"fr": "type", "en": "kind"},
    "published_at": {"fr": "date", "en": "published_at"},
    "title": {"fr": "titre", "en": "title"},
    "url": {"fr": "lien", "en": "url"},
    "source": {"fr": "source", "en": "source"},
    "country": {"fr": "pays", "en": "country"},
    "region": {"fr": "région", "en": "region"},
    "relevance": {"fr": "pertinence", "en": "relevance"},
    "topics": {"fr": "sujets", "en": "topics"},
    "members": {"fr": "membres", "en": "members"},
    "why": {"fr": "raisons", "en": "why"},
    "deadline_at": {"fr": "date limite", "en": "deadline_at"},
    "buyer": {"fr": "acheteur", "en": "buyer"},
    "notice_id": {"fr": "numéro d'avis", "en": "notice_id"},
    "cpv": {"fr": "codes CPV", "en": "cpv"},
    "summary": {"fr": "résumé", "en": "summary"},
}
TIME_COLUMNS = frozenset({"published_at", "deadline_at"})  # their headers name the zone of their times
SEPARATORS: dict[Lang, str] = {"fr": ";", "en": ","}
DECIMAL_MARKS: dict[Lang, str] = {"fr": ",", "en": "."}
BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M"  # ISO order: every spreadsheet, in every locale, reads it as a date and time


def header(column: str, lang: Lang, zone: tzinfo | None = None) -> str:
    """The column's header in `lang`; a time column names `zone` when one is given: "date (Europe/Paris)"."""
    text = HEADERS[column][lang]
    return f"{text} ({zone})" if zone is not None and column in TIME_COLUMNS else text


def local(value: datetime | date | None, zone: tzinfo) -> datetime | date | None:
    """A time as a clock in `zone` shows it, without a zone (spreadsheets have none); a day stays a day."""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    return value


def cell_text(value: object, lang: Lang) -> str:
    """A cell of a CSV file: times in ISO order, a day without a time, numbers with the language's decimal mark
    (text that could start a formula is neutralised)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | int) and not isinstance(value, bool):
        return str(value).replace(".", DECIMAL_MARKS[lang])
    return neutralise(str(value))


def to_csv(rows: Iterable[Mapping[str, object]], columns: Sequence[str], lang: Lang, zone: tzinfo) -> str:
    """A CSV file for readers of `lang`: a BOM, the headers, one line per row, the language's separator, CRLF
    line ends (RFC 4180: a cell with a lone CR is quoted too). French time headers name `zone`; the English
    headers stay the bare column ids."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=SEPARATORS[lang], lineterminator="\r\n")
    writer.writerow([header(c, lang, None if lang == "en" else zone) for c in columns])
    for row in rows:
        writer.writerow([cell_text(row.get(c), lang) for c in columns])
    return out.getvalue()
