"""Items as an Excel workbook (XLSX) with the same columns as the CSV export (pure)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from veille.cells import neutralise, xml_safe
from veille.export.formats import CSV_COLUMNS, cells
from veille.models import Item, Lang
from veille.sheets import header

WIDTHS = {"title": 60, "summary": 80, "why": 60, "url": 40, "buyer": 30, "published_at": 22, "deadline_at": 22}
TIME_FORMAT = "yyyy-mm-dd hh:mm"
DAY_FORMAT = "yyyy-mm-dd"  # a deadline given as a day: no 00:00 shown


def to_xlsx(items: Sequence[Item], *, lang: Lang, zone: tzinfo) -> bytes:
    """Return the workbook's bytes: one sheet, a header row in `lang` frozen and filterable, times as dates and
    times on the clock of `zone` (named in their headers: Excel stores no zone)."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = "items"
    sheet.append([header(column, lang, zone) for column in CSV_COLUMNS])
    for item in items:
        values = cells(item, zone)
        row: list[object] = []
        for column in CSV_COLUMNS:
            value = values[column]
            if isinstance(value, str):
                value = neutralise(xml_safe(value))  # never a formula; nothing the file format refuses
            row.append(value)
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = TIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = DAY_FORMAT
    for index, column in enumerate(CSV_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column, 16)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
