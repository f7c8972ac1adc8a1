"""HTML listing pages (news lists, tender boards) read with CSS selectors through BeautifulSoup."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, field_validator

from veille.collect.connectors import Connector, single_get
from veille.collect.countries import country_zone
from veille.collect.http import Fetcher, Response, Validators
from veille.collect.normalize import TITLE_CAP, canonical_url, item_id, parse_date, plain_text
from veille.collect.tender import written_deadline
from veille.errors import TerminalSourceError
from veille.models import Item, Source

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

log = logging.getLogger("veille.collect")


# Local times written on pages are read in the `timezone` option's zone, else in the zone of the publisher's
# country (countries.country_zone), else as UTC.
class PageOptions(BaseModel):
    """CSS selectors of a listing: `item` selects each entry, the others are relative to it."""

    model_config = ConfigDict(extra="forbid")

    item: str
    title: str
    link: str = "a"
    date: str | None = None
    summary: str | None = None
    deadline: str | None = None
    buyer: str | None = None
    timezone: str | None = None

    @field_validator("item", "title", "link", "date", "summary", "deadline", "buyer")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is not None:
            import soupsieve  # only when a page source is configured

            try:
                soupsieve.compile(value)
            except soupsieve.SelectorSyntaxError as exc:
                raise ValueError(f"{value!r} is not a valid CSS selector: {str(exc.args[0]).splitlines()[0]}") from None
        return value


def _text(node: Tag, selector: str | None) -> tuple[str, Tag | None]:
    if not selector:
        return "", None
    found = node.select_one(selector)
    return (found.get_text(" ", strip=True), found) if found else ("", None)


def _date_text(node: Tag, selector: str | None) -> str:
    """Return the text of a date element, preferring a machine-readable `datetime` attribute."""
    from bs4 import Tag

    text, found = _text(node, selector)
    if found is not None:
        stamped = found if found.get("datetime") else found.find(attrs={"datetime": True})  # type: ignore[call-overload]
        if isinstance(stamped, Tag):
            return str(stamped["datetime"])
    return text


def _soup(content: bytes) -> BeautifulSoup:
    """Return the parsed page (lxml's HTML parser, quiet about XML documents)."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning  # imported by the collect, not by `veille check`

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(content, "lxml")


def _zone(options: PageOptions, country: str | None) -> str | None:
    """Return the zone of local times: the `timezone` option, else the source country's zone (else UTC)."""
    return options.timezone or country_zone(country)


def _page_lang(soup: BeautifulSoup) -> str | None:
    """Return the 2-letter language declared by `<html lang>`, or None."""
    declared = soup.html.get("lang") if soup.html else None
    return declared[:2].lower() if isinstance(declared, str) and declared[:2].isalpha() else None


def _link(node: Tag, selector: str, url: str) -> str | None:
    """Return the absolute canonical URL of the entry's link (the entry itself when it is the `a`), or None."""
    link_node = node if node.name == "a" and selector == "a" else node.select_one(selector)
    href = link_node.get("href") if link_node is not None else None
    return canonical_url(urljoin(url, str(href))) if href else None


def _entry_item(source: Source, node: Tag, options: PageOptions, url: str, zone: str | None,
                page_lang: str | None) -> Item | None:
    """Return the item of one listing entry, or None when it has no title."""
    title_text, _ = _text(node, options.title)
    link = _link(node, options.link, url)
    title = plain_text(title_text, TITLE_CAP)
    if not title:
        return None
    summary_text, _ = _text(node, options.summary)
    buyer, _ = _text(node, options.buyer)
    return Item(
        id=item_id(source.name, link or title),
        source=source.name,
        kind=source.kind,
        title=title,
        url=link,
        summary=plain_text(summary_text),
        lang=source.lang or page_lang,
        country=source.country,
        published_at=parse_date(_date_text(node, options.date), zone),
        **written_deadline(_date_text(node, options.deadline), zone),
        buyer=plain_text(buyer, TITLE_CAP) or None,
    )


def parse(source: Source, content: bytes, url: str, content_type: str = "") -> Iterator[Item]:
    """Yield one item per element matching the `item` selector."""
    options = PageOptions(**source.options)
    soup = _soup(content)
    entries = soup.select(options.item)
    if not entries and not soup.find(True):
        raise TerminalSourceError("empty or unreadable HTML page")
    if not entries:  # a page that changed its layout: said at once, not "ok, 0 items" for weeks
        raise TerminalSourceError(f"the item selector {options.item!r} matched nothing on the page: has the site "
                                  f"changed its layout? Look at it with `veille try {source.name}`")
    zone = _zone(options, source.country)
    page_lang = _page_lang(soup)
    for node in entries:
        item = _entry_item(source, node, options, url, zone, page_lang)
        if item is not None:
            yield item
    _warn_unmatched(source, options, entries)


def _warn_unmatched(source: Source, options: PageOptions, entries: list[Tag]) -> None:
    """Log a warning for each field selector that matched in none of the entries (a field that went missing)."""
    for field in ("title", "date", "summary", "deadline", "buyer"):
        selector = getattr(options, field)
        if selector and not any(node.select_one(selector) for node in entries):
            log.warning("%s: the %s selector %r matched in none of the %d items", source.name, field, selector,
                        len(entries), extra={"source": source.name})


FIELDS = ("title", "link", "date", "summary", "deadline", "buyer")


def selector_counts(options: dict[str, object], content: bytes) -> dict[str, int]:
    """How many nodes each selector matches on a page: `item` on the page, each field selector in how many of
    those items (what an admin checks when a field comes out empty)."""
    chosen = PageOptions.model_validate(options)
    entries = _soup(content).select(chosen.item)
    counts = {"item": len(entries)}
    for name in FIELDS:
        selector = getattr(chosen, name)
        if selector:
            counts[name] = sum(1 for node in entries if node.select_one(selector) is not None)
    return counts


async def fetch(source: Source, fetcher: Fetcher, validators: Validators) -> list[Response]:
    """A conditional GET of the page, if the site's robots.txt allows it."""
    if not await fetcher.robots_allow(source.url, source.allow_private_network):
        raise TerminalSourceError(f"{source.url} is disallowed by the site's robots.txt for our user agent")
    return await single_get(source, fetcher, validators)


CONNECTOR = Connector("page", PageOptions, parse, fetch)
