"""Items as an Excel workbook (XLSX) with the same columns as the CSV export (pure)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from veille.cells import neutralise, xml_safe
from veille.export.formats import CSV_COLUMNS, csv_row
from veille.models import Item

WIDTHS = {"title": 60, "summary": 80, "why": 60, "url": 40, "buyer": 30}
DATES = ("published_at", "deadline_at")


def to_xlsx(items: Sequence[Item]) -> bytes:
    """Return the workbook's bytes: one sheet, a header row frozen and filterable, dates as dates."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = "items"
    sheet.append(CSV_COLUMNS)
    for item in items:
        row: list[object] = []
        values = csv_row(item)
        for column in CSV_COLUMNS:
            value: object = values[column]
            if column in DATES and value:
                value = datetime.fromisoformat(str(value)).replace(tzinfo=None)  # Excel has no time zones: UTC
            elif column == "relevance":
                value = float(str(value) or 0)
            elif isinstance(value, str):
                value = neutralise(xml_safe(value))  # never a formula; nothing the file format refuses
            row.append(value)
        sheet.append(row)
    for index, column in enumerate(CSV_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column, 16)
        if column in DATES:
            for cell in sheet[get_column_letter(index)][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
