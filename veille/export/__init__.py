"""The export stage: one list of items, several renderers (table, CSV, JSON, HTML, XLSX, Atom, iCalendar)."""

FORMATS = ("table", "csv", "json", "html", "ics")  # `veille report --format`
# the reports site's downloads and feeds, `/items.<format>`, with their media types
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "atom": "application/atom+xml; charset=utf-8", "ics": "text/calendar; charset=utf-8"}
