"""US Federal Register documents API (rules, proposed rules, notices): JSON, follow `next_page_url`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field

from veille.collect.connectors import Connector
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import deadline, tender_deadline
from veille.models import Item, Source

EASTERN = "America/New_York"


class FederalRegisterOptions(PagingOptions):
    term: str | None = None
    agencies: list[str] = Field(default_factory=list)  # slugs, e.g. environmental-protection-agency
    types: list[str] = Field(default_factory=list)  # RULE, PRORULE, NOTICE, PRESDOCU
    days: int = Field(14, ge=1, le=3650)
    per_page: int = Field(100, ge=1, le=1000)


def build_params(options: FederalRegisterOptions, today: datetime | None = None) -> list[tuple[str, Any]]:
    since = ((today or datetime.now(UTC)) - timedelta(days=options.days)).date().isoformat()
    params: list[tuple[str, Any]] = [("conditions[publication_date][gte]", since), ("order", "newest"),
                                     ("per_page", options.per_page)]
    if options.term:
        params.append(("conditions[term]", options.term))
    params += [("conditions[agencies][]", a) for a in options.agencies]
    params += [("conditions[type][]", t) for t in options.types]
    return params


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = FederalRegisterOptions(**source.options)

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        data = load_json(response.content, "Federal Register")
        following = data.get("next_page_url") if isinstance(data, dict) else None
        # total_pages is capped (50) whatever the count: only next_page_url says whether more exist
        return PageRequest(following) if following and data.get("results") else None

    first = PageRequest(source.url, params=dict(_group(build_params(options))))
    return await fetch_pages(source, fetcher, first, next_page, options)


def _group(params: list[tuple[str, Any]]) -> dict[str, Any]:
    """httpx sends a list value as a repeated parameter (conditions[agencies][]=a&…=b)."""
    grouped: dict[str, Any] = {}
    for key, value in params:
        if key in grouped:
            grouped[key] = [*grouped[key], value] if isinstance(grouped[key], list) else [grouped[key], value]
        else:
            grouped[key] = [value] if key.endswith("[]") else value
    return grouped


def document_item(source: Source, doc: dict[str, Any]) -> Item | None:
    number = doc.get("document_number")
    if not number:
        return None
    agencies = [a.get("name") or a.get("raw_name") for a in doc.get("agencies") or [] if isinstance(a, dict)]
    doc_type = doc.get("type")
    text = plain_text(doc.get("abstract") or doc.get("excerpts"))
    summary = " · ".join(x for x in (doc_type, ", ".join(a for a in agencies if a)) if x)
    return Item(
        id=item_id(source.name, str(number)),
        source=source.name,
        kind=source.kind,
        title=plain_text(doc.get("title") or f"Federal Register {number}", TITLE_CAP),
        url=canonical_url(doc.get("html_url")),
        summary=plain_text(f"{summary} — {text}" if text else summary, SUMMARY_CAP),
        lang="en",
        country="US",
        published_at=deadline(doc.get("publication_date"), zone=EASTERN),
        notice_id=str(number),
        notice_type=None,
        buyer=agencies[0] if agencies else None,
        # the comment period's end: the date to act on a proposed rule
        **tender_deadline(doc.get("comments_close_on"), zone=EASTERN, kind="comments"),
        procedure=doc_type,
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    data = load_json(content, "Federal Register")
    if isinstance(data, dict) and "results" in data:
        documents = data["results"] or []
    elif isinstance(data, dict) and "document_number" in data:
        documents = [data]  # a single document (/documents/{number}.json)
    else:
        raise shape_error("a Federal Register response", "a 'results' list or one document")
    for doc in documents:
        item = document_item(source, doc) if isinstance(doc, dict) else None
        if item:
            yield item


CONNECTOR = Connector("federal-register", FederalRegisterOptions, parse, fetch)
