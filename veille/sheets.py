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
from functools import cache

from veille.cells import FORMULA_START, neutralise
from veille.i18n import LANGS, NC_, translations
from veille.models import Lang

# The columns, in English their own ids (scripts read them); their headers in other languages are in the catalogs,
# under the context "column" (a column's name is not the word of a sentence).
COLUMNS: tuple[str, ...] = (
    NC_("column", "id"),
    NC_("column", "kind"),
    NC_("column", "published_at"),
    NC_("column", "title"),
    NC_("column", "url"),
    NC_("column", "source"),
    NC_("column", "country"),
    NC_("column", "region"),
    NC_("column", "relevance"),
    NC_("column", "topics"),
    NC_("column", "members"),
    NC_("column", "why"),
    NC_("column", "deadline_at"),
    NC_("column", "deadline_kind"),
    NC_("column", "value_amount"),
    NC_("column", "value_currency"),
    NC_("column", "value_kind"),
    NC_("column", "value_min"),
    NC_("column", "value_max"),
    NC_("column", "buyer"),
    NC_("column", "notice_id"),
    NC_("column", "cpv"),
    NC_("column", "summary"),
    NC_("column", "at"),  # the feedback export (`veille feedback`): when, who, which verdict
    NC_("column", "reader"),
    NC_("column", "verdict"),
)


@cache
def headers(lang: str) -> dict[str, str]:
    """{column id: its header for readers of `lang`}."""
    catalog = translations(lang)
    return {column: column if lang == "en" else catalog.pgettext("column", column) for column in COLUMNS}


def __getattr__(name: str) -> dict[str, dict[str, str]]:  # HEADERS: {column: {lang: header}}, read from the catalogs
    if name == "HEADERS":
        return {column: {lang: headers(lang)[column] for lang in LANGS} for column in COLUMNS}
    raise AttributeError(name)

TIME_COLUMNS = frozenset({"published_at", "deadline_at", "at"})  # their headers name the zone of their times
SEPARATORS: dict[Lang, str] = {"fr": ";", "en": ","}
DECIMAL_MARKS: dict[Lang, str] = {"fr": ",", "en": "."}
BOM = "\ufeff"
TIME_FORMAT = "%Y-%m-%d %H:%M"  # ISO order: every spreadsheet, in every locale, reads it as a date and time


def header(column: str, lang: Lang, zone: tzinfo | None = None) -> str:
    """The column's header in `lang`; a time column names `zone` when one is given: "date (Europe/Paris)"."""
    text = headers(lang)[column]
    return f"{text} ({zone})" if zone is not None and column in TIME_COLUMNS else text


def local(value: datetime | date | None, zone: tzinfo) -> datetime | date | None:
    """A time as a clock in `zone` shows it, without a zone (spreadsheets have none); a day stays a day."""
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None)
    return value


def cell_text(value: object, lang: Lang) -> str:
    """A cell of a CSV file: times in ISO order, a day without a time, numbers with the language's decimal mark
    (text that could start a formula is neutralised)."""
    if type(value) is str:  # most cells: checked first
        return neutralise(value)
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
        # text cells, most of them, are neutralised here rather than through `cell_text`: a tenth of a large file
        writer.writerow([(f"'{v}" if v.startswith(FORMULA_START) else v) if type(v) is str else cell_text(v, lang)
                         for v in map(row.get, columns)])
    return out.getvalue()
