"""EU Funding & Tenders portal search (SEDIA): funding calls and topics, multipart JSON parts, page numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from veille.collect.connectors import Connector
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import cpv_codes, deadline, tender_deadline, tender_value
from veille.models import Item, Source

TOPIC_PAGE = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/{id}"
OPEN, FORTHCOMING = "31094501", "31094502"


class EuFundingOptions(PagingOptions):
    """`text` is the portal's free text (`***` for all); `types` 1, 2, 8 are calls for proposals and topics."""

    text: str = "***"
    types: list[str] = Field(default_factory=lambda: ["1", "2", "8"])
    statuses: list[str] = Field(default_factory=lambda: [OPEN, FORTHCOMING])
    identifier_prefixes: list[str] = Field(default_factory=list)  # e.g. HORIZON-CL6-, LIFE-
    page_size: int = Field(50, ge=1, le=100)
    languages: list[str] = Field(default_factory=lambda: ["en"])


def query(options: EuFundingOptions) -> dict[str, Any]:
    must: list[dict[str, Any]] = [{"terms": {"type": options.types}}, {"terms": {"status": options.statuses}}]
    if options.identifier_prefixes:
        must.append({"bool": {"should": [{"prefix": {"identifier": p}} for p in options.identifier_prefixes]}})
    return {"bool": {"must": must}}


def parts(options: EuFundingOptions) -> dict[str, Any]:
    """The multipart body: each part JSON with its own Content-Type, or the API ignores the filter."""
    def part(value: Any) -> tuple[str, bytes, str]:
        return ("blob", json.dumps(value).encode(), "application/json")

    return {"query": part(query(options)), "sort": part({"field": "sortStatus", "order": "ASC"}),
            "languages": part(options.languages)}


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = EuFundingOptions(**source.options)
    params = {"apiKey": "SEDIA", "text": options.text, "pageSize": options.page_size, "pageNumber": 1}

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        data = load_json(response.content, "EU Funding & Tenders search")
        results = data.get("results") if isinstance(data, dict) else None
        total = int(data.get("totalResults") or 0) if isinstance(data, dict) else 0
        page = int(request.params["pageNumber"])
        if not results or len(results) < options.page_size or (total and page * options.page_size >= total):
            return None
        return PageRequest(request.url, "POST", params={**request.params, "pageNumber": page + 1},
                           files=parts(options))

    first = PageRequest(source.url, "POST", params=params, files=parts(options))
    return await fetch_pages(source, fetcher, first, next_page, options)


def _meta(result: dict[str, Any], key: str) -> str | None:
    value = (result.get("metadata") or {}).get(key)
    if isinstance(value, list):
        value = next((v for v in value if v not in (None, "")), None)
    return str(value) if value not in (None, "") else None


def _identifier(result: dict[str, Any], prefixes: list[str]) -> Any:
    """Return the topic or call identifier, or None when it is absent or starts with none of `prefixes`."""
    identifier = _meta(result, "identifier") or result.get("reference")
    if not identifier:
        return None
    if prefixes and not any(str(identifier).startswith(p) for p in prefixes):
        return None
    return identifier


def _url(result: dict[str, Any], identifier: Any) -> Any:
    """Return the result's URL, else its topic page on the portal."""
    return _meta(result, "url") or result.get("url") or TOPIC_PAGE.format(id=str(identifier).lower())


def _summary(call: str | None, description: Any) -> str:
    """Return the call identifier and the plain description, joined."""
    return plain_text(" · ".join(x for x in (call, plain_text(description)) if x), SUMMARY_CAP)


def _lang(result: dict[str, Any], source: Source) -> Any:
    """Return the result's language (2 letters), else the source's, else English."""
    return (result.get("language") or source.lang or "en")[:2]


def _cpv(result: dict[str, Any]) -> list[str]:
    """Return the main CPV code of a tender, as a list (empty for funding calls)."""
    main = _meta(result, "mainCpv")
    return cpv_codes([main] if main else [])


def result_item(source: Source, result: dict[str, Any], prefixes: list[str]) -> Item | None:
    """Build the item of one search result; None without an identifier or outside the identifier prefixes."""
    identifier = _identifier(result, prefixes)
    if identifier is None:
        return None
    call = _meta(result, "callIdentifier")
    title = _meta(result, "title") or result.get("summary") or identifier
    description = _meta(result, "description") or result.get("content")
    url = _url(result, identifier)
    value, currency = tender_value(_meta(result, "cftEstimatedOverallContractAmount"),
                                   _meta(result, "cftEstimatedOverallContractCurrency"))
    return Item(
        id=item_id(source.name, str(identifier)),
        source=source.name,
        kind=source.kind,
        title=plain_text(str(title), TITLE_CAP),
        url=canonical_url(url),
        summary=_summary(call, description),
        lang=_lang(result, source),
        country=source.country,
        published_at=deadline(_meta(result, "startDate")),
        notice_id=str(identifier),
        notice_type=None,
        buyer=_meta(result, "frameworkProgramme") or "European Commission",
        **tender_deadline(_meta(result, "deadlineDate")),
        cpv=_cpv(result),
        value_amount=value,
        value_currency=currency if value is not None else None,
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    options = EuFundingOptions(**source.options)
    data = load_json(content, "EU Funding & Tenders search")
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise shape_error("an EU Funding & Tenders search response", "a 'results' list")
    for result in results:
        item = result_item(source, result, options.identifier_prefixes) if isinstance(result, dict) else None
        if item:
            yield item


CONNECTOR = Connector("eu-funding", EuFundingOptions, parse, fetch)
