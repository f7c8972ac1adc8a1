"""Any other JSON API or CSV file, with the item fields mapped to JSON paths or CSV columns in `options`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from veille.collect.connectors import Connector, NoOptions
from veille.collect.countries import country_code, language_code
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, parse_date, plain_text, to_utc
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import (
    NO_DEADLINE,
    Deadline,
    cpv_codes,
    day_deadline,
    deadline,
    notice_type,
    tender_value,
    timed_deadline,
    written_deadline,
)
from veille.models import Item, Source

FIELD_NAMES = ("id", "title", "url", "summary", "date", "deadline", "buyer", "country", "lang", "cpv", "value",
               "currency", "notice_type", "procedure")


class FieldMap(BaseModel):
    """Where each item field is: a JSON path (`metadata.title.0`) or a CSV column name. `title` is required."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    title: str
    url: str | None = None
    summary: str | None = None
    date: str | None = None
    deadline: str | None = None
    buyer: str | None = None
    country: str | None = None
    lang: str | None = None
    cpv: str | None = None
    value: str | None = None
    currency: str | None = None
    notice_type: str | None = None
    procedure: str | None = None


class _Common(BaseModel):
    fields: FieldMap
    date_format: str | None = None  # strptime format when dates are ambiguous, e.g. %m/%d/%Y
    timezone: str | None = None  # zone of times written without offset
    url_template: str | None = None  # e.g. https://example.org/notice/{id} when no URL field exists


class JsonOptions(PagingOptions, _Common):
    items: str = ""  # path of the list of records ("" for a top-level list)
    next: str | None = None  # path of the next page's URL in a response
    page_param: str | None = None  # or: the query parameter that numbers pages (stops on an empty page)
    params: dict[str, Any] = Field(default_factory=dict)


class CsvOptions(NoOptions, _Common):
    delimiter: str = ","
    encoding: str = "utf-8-sig"

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("delimiter must be one character")
        return value


def path_get(data: Any, path: str | None) -> Any:
    """Return the value at a dotted path (`a.b.0.c`; integers index lists); None when absent."""
    if not path:
        return data
    for part in path.split("."):
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.lstrip("-").isdigit() and -len(data) <= int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _time(value: Any, options: _Common) -> datetime | None:
    text = _scalar(value)
    if text in (None, ""):
        return None
    if options.date_format:
        try:
            return to_utc(datetime.strptime(str(text).strip(), options.date_format), options.timezone)
        except ValueError:
            return None
    return deadline(str(text), zone=options.timezone) or parse_date(str(text), options.timezone)


Getter = Callable[[Any, str | None], Any]


def _text(record: Any, get: Getter, where: str | None) -> str:
    """Return the mapped field's first value as a string ('' when absent or empty)."""
    return str(_scalar(get(record, where)) or "")


def _present(record: Any, get: Getter, where: str | None) -> str | None:
    """Return the mapped field's first value as a string, or None when the field is unmapped or empty."""
    if not where:
        return None
    value = _scalar(get(record, where))
    return str(value) if value else None


def _when(record: Any, get: Getter, where: str | None, options: _Common) -> datetime | None:
    """Return the UTC time of the mapped date field, or None when the field is unmapped or unreadable."""
    return _time(get(record, where), options) if where else None


_CLOCK = ("%H", "%I", "%X", "%c", "%T", "%R", "%s")  # strptime directives that read a time of day


def _deadline(record: Any, get: Getter, where: str | None, options: _Common) -> Deadline:
    """Return the mapped deadline; one written as a day without a time is kept as that day."""
    text = _scalar(get(record, where)) if where else None
    if text in (None, ""):
        return NO_DEADLINE
    if not options.date_format:
        return written_deadline(str(text), options.timezone)
    try:
        parsed = datetime.strptime(str(text).strip(), options.date_format)
    except ValueError:
        return NO_DEADLINE
    if any(directive in options.date_format for directive in _CLOCK):
        at = to_utc(parsed, options.timezone)
        return timed_deadline(at) if at else NO_DEADLINE
    return day_deadline(parsed.date(), options.timezone)


def _url(record: Any, get: Getter, options: _Common, key: Any) -> Any:
    """Return the mapped URL, else the URL template filled with the record's id, else None."""
    url = _scalar(get(record, options.fields.url)) if options.fields.url else None
    if not url and options.url_template and key is not None:
        url = options.url_template.format(id=key)
    return url


def _cpv(value: Any) -> list[str]:
    """Return the CPV codes of a list, or of a string of codes separated by spaces, commas or semicolons."""
    return cpv_codes(value if isinstance(value, list) else str(value or "").replace(";", " ").replace(",", " ").split())


def _lang(record: Any, get: Getter, options: _Common, source: Source) -> str | None:
    """Return the language of the mapped field, else the source's."""
    return language_code(_text(record, get, options.fields.lang)) if options.fields.lang else source.lang


def _country(record: Any, get: Getter, options: _Common, source: Source) -> str | None:
    """Return the country of the mapped field, else the source's."""
    where = options.fields.country
    return (country_code(_text(record, get, where)) if where else None) or source.country


def record_item(source: Source, record: Any, get: Getter, options: _Common, index: int) -> Item | None:
    """Build an item from one record; `get(record, where)` reads a mapped field."""
    f = options.fields
    title = plain_text(_text(record, get, f.title), TITLE_CAP)
    if not title:
        return None
    key = _scalar(get(record, f.id)) if f.id else None
    url = _url(record, get, options, key)
    cpv = get(record, f.cpv) if f.cpv else None
    given = str(_scalar(get(record, f.currency))) if f.currency and _scalar(get(record, f.currency)) else None
    value, currency = tender_value(get(record, f.value), given) if f.value else (None, None)
    return Item(
        id=item_id(source.name, str(key if key is not None else url or f"{index}:{title}")),
        source=source.name,
        kind=source.kind,
        title=title,
        url=canonical_url(str(url)) if url else None,
        summary=plain_text(_text(record, get, f.summary), SUMMARY_CAP) if f.summary else "",
        lang=_lang(record, get, options, source),
        country=_country(record, get, options, source),
        published_at=_when(record, get, f.date, options),
        notice_id=str(key) if key is not None else None,
        notice_type=notice_type(_text(record, get, f.notice_type)) if f.notice_type else None,
        buyer=_present(record, get, f.buyer),
        **_deadline(record, get, f.deadline, options),
        cpv=_cpv(cpv),
        value_amount=value,
        value_currency=currency if value is not None else None,
        procedure=_present(record, get, f.procedure),
    )


async def fetch_json(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = JsonOptions(**source.options)
    params = dict(options.params)
    if options.page_param:
        params.setdefault(options.page_param, 1)

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        data = load_json(response.content, "JSON API")
        if options.next:
            following = path_get(data, options.next)
            return PageRequest(str(following)) if following else None
        if options.page_param and path_get(data, options.items):
            return request.with_params(**{options.page_param: int(request.params[options.page_param]) + 1})
        return None

    return await fetch_pages(source, fetcher, PageRequest(source.url, params=params), next_page, options)


def parse_json(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    options = JsonOptions(**source.options)
    records = path_get(load_json(content, "JSON API"), options.items)
    if not isinstance(records, list):
        raise shape_error("the expected JSON", f"a list at '{options.items or '(top level)'}'")
    for index, record in enumerate(records):
        item = record_item(source, record, path_get, options, index)
        if item:
            yield item


def parse_csv(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    options = CsvOptions(**source.options)
    try:
        reader = csv.DictReader(io.StringIO(content.decode(options.encoding)), delimiter=options.delimiter)
        columns = set(reader.fieldnames or [])
    except (UnicodeDecodeError, LookupError, csv.Error) as exc:
        raise shape_error("a readable CSV file", f"{options.encoding} text ({exc})") from exc
    missing = sorted({c for c in options.fields.model_dump().values() if c} - columns)
    if missing:
        raise shape_error("the expected CSV", f"columns {', '.join(missing)} (found: {', '.join(sorted(columns))})")
    for index, row in enumerate(reader):
        item = record_item(source, row, lambda r, c: (r.get(c) or "").strip() if c else None, options, index)
        if item:
            yield item


JSON = Connector("json", JsonOptions, parse_json, fetch_json)
CSV = Connector("csv", CsvOptions, parse_csv)
