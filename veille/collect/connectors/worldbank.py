"""World Bank procurement notices: search.worldbank.org/api/v2/procnotices (JSON, `os`/`rows` paging)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import Field

from veille.collect.connectors import Connector
from veille.collect.countries import country_code, country_zone, language_code
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import SUMMARY_CAP, TITLE_CAP, canonical_url, item_id, parse_date, plain_text
from veille.collect.paging import PageRequest, PagingOptions, fetch_pages, load_json, shape_error
from veille.collect.tender import Deadline, notice_type, tender_deadline
from veille.models import Item, Source

NOTICE_PAGE = "https://projects.worldbank.org/en/projects-operations/procurement-detail/{id}"
FIELDS = ("id,notice_type,noticedate,notice_lang_name,notice_status,project_ctry_name,project_id,project_name,"
          "bid_reference_no,bid_description,procurement_group,procurement_method_name,submission_deadline_date,"
          "submission_deadline_time,contact_organization,contact_ctry_name,notice_text")


class WorldBankOptions(PagingOptions):
    """`qterm` is the API's full-text query (e.g. `water OR wastewater OR desalination`)."""

    qterm: str | None = None
    notice_types: list[str] = Field(default_factory=list)
    rows: int = Field(50, ge=1, le=500)


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    options = WorldBankOptions(**source.options)
    params: dict[str, Any] = {"format": "json", "rows": options.rows, "os": 0, "srt": "noticedate",
                              "order": "desc", "fl": FIELDS}
    if options.qterm:
        params["qterm"] = options.qterm
    if options.notice_types:
        params["notice_type_exact"] = "^".join(options.notice_types)

    def next_page(response: Response, request: PageRequest, count: int) -> PageRequest | None:
        data = load_json(response.content, "World Bank procnotices")
        offset = int(request.params["os"]) + options.rows
        total = int(str(data.get("total") or 0)) if isinstance(data, dict) else 0  # numbers come as strings
        notices = data.get("procnotices") if isinstance(data, dict) else None
        return request.with_params(os=offset) if notices and offset < total else None

    return await fetch_pages(source, fetcher, PageRequest(source.url, params=params), next_page, options)


def _country(notice: dict[str, Any]) -> str | None:
    """Return the project's country, else (the project is regional: "Western and Central Africa") the contact's."""
    return country_code(notice.get("project_ctry_name")) or country_code(notice.get("contact_ctry_name"))


def _summary(notice: dict[str, Any]) -> str:
    """Return the project and procurement method, then the notice's text as plain text, joined."""
    text = plain_text(notice.get("notice_text"), SUMMARY_CAP)
    summary = " · ".join(x for x in (notice.get("project_name"), notice.get("procurement_method_name")) if x)
    return f"{summary}. {text}" if text and summary else text or summary


def _deadline(notice: dict[str, Any], country: str | None) -> Deadline:
    """Return the submission deadline, its date and time read in the country's zone."""
    return tender_deadline((notice.get("submission_deadline_date") or "")[:10] or None,
                    notice.get("submission_deadline_time"), country_zone(country))


def _related(notice: dict[str, Any], notice_id: Any) -> list[str]:
    """Return the bid's identifier (the notices of one bid, invitation then award, share the project and the bid
    reference), else the notice's own."""
    if notice.get("project_id") and notice.get("bid_reference_no"):
        return [f"worldbank-bid:{notice['project_id']}:{notice['bid_reference_no']}"]
    return [f"worldbank:{notice_id}"]


def notice_item(source: Source, notice: dict[str, Any]) -> Item | None:
    """Build the item of one procurement notice; None when it has no id."""
    notice_id = notice.get("id")
    if not notice_id:
        return None
    country = _country(notice)
    title = notice.get("bid_description") or notice.get("notice_title") or notice.get("project_name")
    summary = _summary(notice)
    return Item(
        id=item_id(source.name, str(notice_id)),
        source=source.name,
        kind=source.kind,
        title=plain_text(str(title or f"World Bank notice {notice_id}"), TITLE_CAP),
        url=canonical_url(notice.get("notice_url")) or NOTICE_PAGE.format(id=notice_id),
        summary=plain_text(summary, SUMMARY_CAP),
        lang=language_code(notice.get("notice_lang_name")) or source.lang,
        country=country or source.country,
        published_at=parse_date(notice.get("noticedate")),
        notice_id=str(notice_id),
        notice_type=notice_type(notice.get("notice_type")),
        buyer=notice.get("contact_organization") or notice.get("project_name"),
        **_deadline(notice, country),
        procedure=notice.get("procurement_method_name"),
        related=_related(notice, notice_id),
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    data = load_json(content, "World Bank procnotices")
    notices = data.get("procnotices") if isinstance(data, dict) else data  # a saved list is accepted too
    if not isinstance(notices, list):
        raise shape_error("a World Bank procnotices response", "a 'procnotices' list")
    for notice in notices:
        item = notice_item(source, notice) if isinstance(notice, dict) else None
        if item:
            yield item


CONNECTOR = Connector("worldbank", WorldBankOptions, parse, fetch)
