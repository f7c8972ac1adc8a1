"""EU Funding & Tenders portal search (SEDIA): funding calls and topics, multipart JSON parts, page numbers.

Every metadata value of a result is a list of strings (`"budget": ["30500"]`); `actions` and `budgetOverview`
are JSON written inside such strings, and may be cut short in saved copies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from veille.collect.connectors import Connector
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import (
    NO_DEADLINE,
    Deadline,
    cpv_codes,
    day_deadline,
    deadline,
    tender_deadline,
    tender_value,
)
from veille.models import Item, Source

TOPIC_PAGE = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/{id}"
FORTHCOMING, OPEN, CLOSED = "31094501", "31094502", "31094503"  # as `actions` spells them out
STATUS_TYPES = {FORTHCOMING: "prior-information", OPEN: "contract-notice", CLOSED: "other"}
APPLICATION = "application"  # what a call's deadline is for
BRUSSELS = "Europe/Brussels"  # the portal's deadlines are Brussels time
CASCADE = "8"  # calls of EU-funded projects for third parties ("cascade funding"): one result per call
PROGRAMMES = {"HORIZON": "Horizon Europe", "DIGITAL": "Digital Europe Programme", "LIFE": "LIFE Programme",
              "CEF": "Connecting Europe Facility", "ERASMUS": "Erasmus+", "EU4H": "EU4Health", "INNOVFUND":
              "Innovation Fund", "SMP": "Single Market Programme", "CERV": "Citizens, Equality, Rights and Values",
              "CREA": "Creative Europe", "EMFAF": "European Maritime, Fisheries and Aquaculture Fund",
              "RFCS": "Research Fund for Coal and Steel", "EDF": "European Defence Fund", "I3": "Interregional "
              "Innovation Investments", "AGRIP": "Promotion of agricultural products", "UCPM": "Union Civil "
              "Protection Mechanism", "ISF": "Internal Security Fund", "AMIF": "Asylum, Migration and "
              "Integration Fund", "EUAF": "Union Anti-Fraud Programme", "JUST": "Justice Programme"}


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


def _metas(result: dict[str, Any], key: str) -> list[str]:
    """Return the non-empty values of a metadata field (a list of strings, or one value)."""
    value = (result.get("metadata") or {}).get(key)
    values = value if isinstance(value, list) else [value]
    return [" ".join(str(v).split()) for v in values if v not in (None, "") and str(v).strip()]


def _meta(result: dict[str, Any], key: str) -> str | None:
    """Return the first non-empty value of a metadata field, spaces collapsed."""
    return next(iter(_metas(result, key)), None)


def _cascade(result: dict[str, Any]) -> bool:
    return _meta(result, "type") == CASCADE


def _identifier(result: dict[str, Any], prefixes: list[str]) -> Any:
    """Return the topic or call identifier, or None when it is absent or starts with none of `prefixes`."""
    identifier = _meta(result, "identifier") or result.get("reference") or _meta(result, "REFERENCE")
    if not identifier:
        return None
    if prefixes and not any(str(identifier).startswith(p) for p in prefixes):
        return None
    return identifier


def _url(result: dict[str, Any], identifier: Any) -> Any:
    """Return the result's page, else its topic page on the portal (not the topic's JSON data file)."""
    url = _meta(result, "url") or result.get("url")
    if url and not str(url).endswith(".json"):
        return url
    return TOPIC_PAGE.format(id=identifier)


def _summary(parts: list[str | None], description: Any) -> str:
    """Return the call identifier and title and the plain description, joined."""
    return plain_text(" · ".join(x for x in (*parts, plain_text(description)) if x), SUMMARY_CAP)


def _lang(result: dict[str, Any], source: Source) -> Any:
    """Return the result's language (2 letters), else the source's, else English."""
    return (result.get("language") or _meta(result, "language") or source.lang or "en")[:2].lower()


def _deadline(result: dict[str, Any], now: datetime | None) -> Deadline:
    """Return the first deadline at or after `now` (cut-offs, two stages), else the last one; 00:00 UTC is a day.
    Without `now`, the call's own opening date stands for it: the result never depends on the day it is read."""
    now = now or deadline(_meta(result, "startDate")) or datetime.min.replace(tzinfo=UTC)
    written = (tender_deadline(text, kind=APPLICATION) for text in _metas(result, "deadlineDate"))
    found = [d for d in written if d["deadline_at"]]
    if not found:
        return NO_DEADLINE
    found.sort(key=lambda d: d["deadline_at"] or now)
    chosen = next((d for d in found if (d["deadline_at"] or now) >= now), found[-1])
    at = chosen["deadline_at"]
    if at is not None and (at.hour, at.minute, at.second) == (0, 0, 0):  # the portal writes a day as 00:00 UTC
        return day_deadline(at.date(), BRUSSELS, APPLICATION)
    return chosen


def _budget(result: dict[str, Any], identifier: str) -> float | None:
    """Return the budget of the call: `budget` (cascade calls), else the topic's yearly budgets in `budgetOverview`."""
    budget, _ = tender_value(_meta(result, "budget"), "EUR")
    if budget is not None:
        return budget
    overview = _meta(result, "budgetOverview") or ""
    # a JSON text that may be cut short: read the topic's own action, not the whole document
    action = r'"action"\s*:\s*"' + re.escape(identifier) + r' [^"]*"[^{}]*?"budgetYearMap"\s*:\s*\{([^{}]*)\}'
    match = re.search(action, overview)
    if not match:
        return None
    years = re.findall(r'"\d{4}"\s*:\s*"?(\d+(?:\.\d+)?)', match.group(1))
    return float(sum(float(y) for y in years)) if years else None


def _buyer(result: dict[str, Any], identifier: str) -> str:
    """Return the project that funds a cascade call, else the EU programme of the topic, else the Commission."""
    if _cascade(result):
        name, acronym = _meta(result, "projectName"), _meta(result, "projectAcronym")
        if name or acronym:
            return f"{name} ({acronym})" if name and acronym else str(name or acronym)
    programme = PROGRAMMES.get(identifier.split("-", 1)[0].upper())
    return f"European Commission – {programme}" if programme else "European Commission"


def _cpv(result: dict[str, Any]) -> list[str]:
    """Return the main CPV code of a tender, as a list (empty for funding calls)."""
    main = _meta(result, "mainCpv")
    return cpv_codes([main] if main else [])


def result_item(source: Source, result: dict[str, Any], prefixes: list[str],
                now: datetime | None = None) -> Item | None:
    """Build the item of one search result; None without an identifier or outside the identifier prefixes.

    A cascade call shares its topic's identifier with the project's other calls: its key is the result's
    `reference`, its title the call's own (`callTitle`), its summary starts with the topic identifier.
    """
    identifier = _identifier(result, prefixes)
    if identifier is None:
        return None
    identifier = str(identifier)
    cascade = _cascade(result)
    key = str(result.get("reference") or identifier) if cascade else identifier
    call, call_title = _meta(result, "callIdentifier"), _meta(result, "callTitle")
    if cascade:
        title = call_title or result.get("summary") or _meta(result, "title") or identifier
        parts = [identifier, _meta(result, "title") if title != _meta(result, "title") else None]
    else:
        title = _meta(result, "title") or result.get("summary") or identifier
        parts = [call, call_title if call_title != call else None]
    description = (_meta(result, "description") or _meta(result, "descriptionByte") or result.get("content"))
    value, currency = tender_value(_meta(result, "cftEstimatedOverallContractAmount"),
                                   _meta(result, "cftEstimatedOverallContractCurrency"))
    if value is None:
        value, currency = _budget(result, identifier), "EUR"
    return Item(
        id=item_id(source.name, key),
        source=source.name,
        kind=source.kind,
        title=plain_text(str(title), TITLE_CAP),
        url=canonical_url(_url(result, identifier)),
        summary=_summary(parts, description),
        lang=_lang(result, source),
        country=source.country,
        published_at=deadline(_meta(result, "startDate")),
        notice_id=key,
        notice_type=STATUS_TYPES.get(_meta(result, "status") or ""),
        buyer=_buyer(result, identifier),
        **_deadline(result, now),
        cpv=_cpv(result),
        value_amount=value,
        value_currency=currency if value is not None else None,
        procedure=_meta(result, "typesOfAction"),
        related=[f"eu-funding:{identifier}"] if cascade else [],
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    """Yield one item per search result that has an identifier within the options' prefixes."""
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
