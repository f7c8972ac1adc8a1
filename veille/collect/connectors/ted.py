"""TED (Tenders Electronic Daily) Search API v3: POST /v3/notices/search, iteration-token paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pycountry
from pydantic import Field

from veille.collect.connectors import Connector, eforms
from veille.collect.countries import country_code, language_code
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import (
    Deadline,
    amount,
    cpv_codes,
    deadline,
    earliest_deadline,
    eforms_notice_type,
    pick_text,
    preferred_languages,
    ted_number,
    tender_deadline,
)
from veille.errors import SourceError
from veille.models import Item, Source

FIELDS = ["publication-number", "notice-title", "buyer-name", "buyer-country", "classification-cpv",
          "publication-date", "deadline-receipt-tender-date-lot", "deadline-receipt-tender-time-lot",
          "notice-type", "links", "official-language", "description-proc", "total-value", "total-value-cur",
          "estimated-value-proc", "estimated-value-cur-proc", "RN"]
NOTICE_PAGE = "https://ted.europa.eu/{lang}/notice/-/detail/{number}"


class TedOptions(PagingOptions):
    """The expert query is `query` as written, or built from `cpv`, `keywords`, `countries` and `days`."""

    query: str | None = None
    cpv: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    days: int = Field(7, ge=1, le=3650)
    fields: list[str] = Field(default_factory=lambda: list(FIELDS))
    limit: int = Field(100, ge=1, le=250)
    scope: str = "ALL"
    enrich: int = Field(0, ge=0, le=500)  # notices per run completed from their eForms XML (value, procedure…)


def build_query(options: TedOptions) -> str:
    """Return the TED expert query: (CPV or keywords) AND buyer countries AND recent, newest first."""
    if options.query:
        return options.query
    what = []
    if options.cpv:
        what.append(f"classification-cpv IN ({' '.join(options.cpv)})")
    what += [f'FT ~ "{k}"' for k in options.keywords]
    parts = [f"({' OR '.join(what)})"] if what else []
    if options.countries:
        codes = [_alpha3(c) for c in options.countries]
        parts.append(f"buyer-country IN ({' '.join(codes)})")
    parts.append(f"publication-date >= today(-{options.days})")
    return " AND ".join(parts) + " SORT BY publication-date DESC"


def _alpha3(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return str(found.alpha_3) if found else code.upper()


def request_body(options: TedOptions, token: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": build_query(options), "fields": options.fields, "limit": options.limit,
                            "scope": options.scope, "paginationMode": "ITERATION", "checkQuerySyntax": False}
    if token:
        body["iterationNextToken"] = token
    return body


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = TedOptions(**source.options)

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        token = load_json(response.content, "TED search").get("iterationNextToken")
        return PageRequest(request.url, "POST", json=request_body(options, token)) if token else None

    first = PageRequest(source.url, "POST", json=request_body(options))
    pages = await fetch_pages(source, fetcher, first, next_page, options)
    return pages + await _eforms_notices(source, fetcher, pages, options.enrich)


async def _eforms_notices(source: Source, fetcher: Fetcher, pages: list[Response], limit: int) -> list[Response]:
    """Fetch the eForms XML (`links.xml.MUL`) of up to `limit` notices; parsed, they complete the search's
    items (the search API does not return every field: value and procedure type, for instance)."""
    urls: list[str] = []
    for page in pages:
        for notice in load_json(page.content, "TED search").get("notices") or []:
            xml = ((notice.get("links") or {}).get("xml") or {}).get("MUL") if isinstance(notice, dict) else None
            if xml and len(urls) < limit:
                urls.append(xml)
    out = []
    for url in urls:
        try:
            out.append(await fetcher.fetch(url, allow_private=source.allow_private_network))
        except SourceError:
            continue  # the search result stands without its details
    return out


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def _related(number: str, value: Any) -> list[str]:
    """This notice and TED's related notices (RN): the other publications of the same procedure."""
    values = value if isinstance(value, list) else [value] if value else []
    numbers = [ted_number(str(v)) or str(v) for v in (number, *values)]
    return [f"ted:{n}" for n in dict.fromkeys(numbers)]


def _title_language(notice: dict[str, Any], prefer: list[str]) -> str | None:
    """Return the first preferred language in which the notice title is given, or None."""
    return next((p for p in prefer if p in {k.lower() for k in (notice.get("notice-title") or {})}), None)


def _page(notice: dict[str, Any], prefer: list[str], number: Any, lang: str | None) -> tuple[str, str]:
    """Return the language of the notice page (2 letters, 'en' by default) and its URL, in a preferred language."""
    links = notice.get("links") or {}
    html_links = {k.lower(): v for k, v in (links.get("html") or {}).items()}
    page_lang = (language_code(lang) if lang else None) or "en"
    return page_lang, pick_text(html_links, prefer) or NOTICE_PAGE.format(lang=page_lang, number=number)


def _deadlines(notice: dict[str, Any]) -> list[Deadline]:
    """Return the tender deadline of each lot, its date paired with the time at the same position."""
    dates = notice.get("deadline-receipt-tender-date-lot") or []
    times = notice.get("deadline-receipt-tender-time-lot") or []
    return [tender_deadline(d, times[i] if i < len(times) else None) for i, d in enumerate(dates)]


def _value(notice: dict[str, Any]) -> tuple[float | None, Any, str | None]:
    """Return the total value of the result (awarded), else the estimated value, with its currency."""
    total = amount(notice.get("total-value"))
    if total is not None:
        return total, _first(notice.get("total-value-cur")), "awarded"
    estimate = amount(notice.get("estimated-value-proc"))
    return estimate, _first(notice.get("estimated-value-cur-proc")), "estimated" if estimate is not None else None


def parse_notice(source: Source, notice: dict[str, Any]) -> Item | None:
    """Build the item of one search result; None when it has no publication number."""
    number = notice.get("publication-number") or notice.get("ND")
    if not number:
        return None
    official = [str(o) for o in notice.get("official-language") or []]
    prefer = preferred_languages(source.lang, official)
    title = pick_text(notice.get("notice-title") or notice.get("TI"), prefer) or f"TED notice {number}"
    lang = _title_language(notice, prefer)
    page_lang, url = _page(notice, prefer, number, lang)
    deadlines = _deadlines(notice)
    value, currency, value_kind = _value(notice)
    published = deadline(notice.get("publication-date") or notice.get("PD"))
    return Item(
        id=item_id(source.name, str(number)),
        source=source.name,
        kind=source.kind,
        title=plain_text(title, TITLE_CAP),
        url=canonical_url(url),
        summary=plain_text(pick_text(notice.get("description-proc"), prefer), SUMMARY_CAP),
        lang=page_lang if lang else source.lang,
        country=country_code(_first(notice.get("buyer-country"))) or source.country,
        published_at=published,
        notice_id=str(number),
        notice_type=eforms_notice_type(_first(notice.get("notice-type"))),
        buyer=pick_text(notice.get("buyer-name"), prefer),
        **earliest_deadline(deadlines),
        cpv=cpv_codes(notice.get("classification-cpv") or []),
        value_amount=value,
        value_currency=str(currency) if value is not None and currency else None,
        value_kind=value_kind,
        related=_related(str(number), notice.get("RN")),
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    if content.lstrip()[:1] == b"<":  # an eForms notice fetched to complete a search result
        yield from eforms.parse(source, content, url, content_type)
        return
    data = load_json(content, "TED search")
    notices = data.get("notices") if isinstance(data, dict) else None
    if not isinstance(notices, list):
        raise shape_error("a TED search response", "a 'notices' list")
    seen = set()
    for notice in notices:
        item = parse_notice(source, notice) if isinstance(notice, dict) else None
        if item and item.id not in seen:  # the API can repeat a notice
            seen.add(item.id)
            yield item


CONNECTOR = Connector("ted", TedOptions, parse, fetch)
