"""What every page of the reports site shares: the open context, labels, the facet index, page rendering."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from veille.context import Context
from veille.errors import InputError
from veille.i18n import Formats, gettext_for, negotiate, template_environment
from veille.ids import NOTICE_TYPES
from veille.models import KIND_LABELS, REGION_LABELS, Item, ItemQuery, Member
from veille.reasons import explain
from veille.store.index import FacetIndex
from veille.web import texts
from veille.web.filters import View, parse
from veille.web.limits import Attempts

REFRESH_SECONDS = 2.0  # how often the store's write counter is checked
HERE = Path(__file__).parent


def safe_url(url: str | None) -> str | None:
    """The URL when it is http(s), else None: no `javascript:` link reaches a page."""
    return url if url and urlsplit(url).scheme in ("http", "https") else None


@cache
def _env(lang: str) -> jinja2.Environment:
    """The pages' templates speaking `lang`."""
    env: jinja2.Environment = template_environment("veille.web", lang)
    env.filters["safe_url"] = safe_url
    return env


@dataclass(frozen=True)
class Reading:
    """How one request is read: its language (the browser's among fr and en, else VEILLE_SITE_LANG), the labels
    of every filter value in it, and its formats of dates and amounts."""

    lang: str
    labels: dict[str, dict[str, str]]
    fmt: Formats

    def _(self, text: str) -> str:
        return self.fmt.gettext(text)


class Archive:
    """The facet index of the archive, rebuilt in the background when the store has been written to."""

    def __init__(self, ctx: Context, monotonic: Callable[[], float] = time.monotonic):
        self.ctx = ctx
        self.monotonic = monotonic
        self.index = FacetIndex.load(ctx.store)
        self.checked = monotonic()
        self.loading = threading.Lock()

    def current(self) -> FacetIndex | None:
        now = self.monotonic()
        if now - self.checked >= REFRESH_SECONDS:
            self.checked = now
            stale = self.index is None or self.ctx.store.generation() != self.index.generation
            if stale and self.loading.acquire(blocking=False):
                threading.Thread(target=self._reload, daemon=True).start()
        return self.index

    def settled(self) -> FacetIndex | None:
        """The index once any reload under way has finished."""
        with self.loading:
            return self.index

    def _reload(self) -> None:
        try:
            self.index = FacetIndex.load(self.ctx.store)
        finally:
            self.loading.release()


@dataclass(frozen=True)
class Who:
    """Who is reading: the shared password, or one member."""

    kind: str  # "password" | "member"
    member_id: str | None = None
    name: str = ""


class Site:
    """The state of the running site: its context, the members, the labels of every filter, the archive."""

    def __init__(self, ctx: Context, monotonic: Callable[[], float] = time.monotonic):
        self.ctx = ctx
        self.settings = ctx.settings
        self.members: dict[str, Member] = {m.id: m for m in ctx.config.members}
        self.topic_labels = {t.id: t.label for t in ctx.config.topics}
        self._readings: dict[str, Reading] = {}
        self.sources = [s.name for s in ctx.config.sources]
        self.archive = Archive(ctx, monotonic)
        self.attempts = Attempts(clock=monotonic)  # failed sign-ins per client address

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def now(self) -> datetime:
        return self.ctx.clock()

    def view_of(self, request: Request) -> View:
        """The filters of the request's query string (raises InputError on a bad value); a member who may not
        see the others can filter on its own profile only (another member is unknown to it)."""
        return parse(request.query_params.multi_items(), list(self.topic_labels),
                     list(self.visible_members(who_of(request))))

    def sees_all(self, who: Who | None) -> bool:
        """Whether `who` sees every member's matches: the working group, or any member when members.yaml says
        `digest.members_see_each_other: true` (nobody signed in sees none)."""
        return who is not None and (who.kind != "member" or self.ctx.config.digest.members_see_each_other)

    def visible_members(self, who: Who | None) -> dict[str, Member]:
        """The members whose names and matches `who` may see: all, or only itself (competitors share the site)."""
        if self.sees_all(who):
            return self.members
        return {m: member for m, member in self.members.items() if who is not None and m == who.member_id}

    def own(self, who: Who | None) -> str | None:
        """The member reading when it sees only its own matches (shown as "pour vous"), else None."""
        return who.member_id if who is not None and who.kind == "member" and not self.sees_all(who) else None

    def shown(self, item: Item, who: Who | None) -> Item:
        """The item as `who` may see it: without the other members' matches when it may not see them."""
        if self.sees_all(who):
            return item
        visible = self.visible_members(who)
        return replace(item, members={m: match for m, match in item.members.items() if m in visible})

    def query(self, view: View, who: Who | None, limit: int | None = None, offset: int = 0) -> ItemQuery:
        """The store query of `view` for `who`: an item that only other members match counts as untagged for a
        member who may not see them (nothing shows that someone else's profile matched it)."""
        tagged_by = None if self.sees_all(who) else tuple(self.visible_members(who))
        return view.query(self.zone, limit, offset, now=self.now(), tagged_by=tagged_by)

    def reading(self, lang: str) -> Reading:
        """The labels and formats of readers of `lang`."""
        if lang not in self._readings:
            _ = gettext_for(lang)
            config = self.ctx.config
            labels = {"topic": {t.id: t.label_in(lang) for t in config.topics},
                      "kind": {k: _(v) for k, v in KIND_LABELS.items()},
                      "region": {k: _(v) for k, v in REGION_LABELS.items()},
                      "member": {m.id: m.name for m in config.members}, "open": {"1": _(texts.OPEN_TENDERS)},
                      "facet": {k: _(v) for k, v in texts.FACETS.items()}}
            self._readings[lang] = Reading(lang, labels, Formats(lang, self.zone))
        return self._readings[lang]

    def card(self, item: Item, reading: Reading) -> dict[str, Any]:
        return card(item, reading, self.now())


def who_of(request: Request) -> Who | None:
    """Who reads: set by the guard on every page but the sign-in page and the static files."""
    who: Who | None = getattr(request.state, "who", None)
    return who


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def reading_of(request: Request) -> Reading:
    """How the request is read: in the language its browser prefers among fr and en, else VEILLE_SITE_LANG."""
    site = site_of(request)
    return site.reading(negotiate(request.headers.get("accept-language"), site.settings.site_lang))


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of the site rendered from `template` in the reader's language, knowing who reads it and where."""
    lang = reading_of(request).lang
    html = _env(lang).get_template(template).render(who=who_of(request), path=request.url.path, lang=lang,
                                                    **context)
    return HTMLResponse(html, status, headers={"Content-Language": lang, "Vary": "Accept-Language"})


def bad_request(request: Request, exc: InputError) -> Response:
    """400 with the reason: a page for a browser, a line of text for a script."""
    if "text/html" in request.headers.get("accept", ""):
        return page(request, "error.html.j2", 400, title=reading_of(request)._(texts.BAD_REQUEST), message=str(exc))
    return PlainTextResponse(f"400 {exc}\n", 400)


def not_found(request: Request, message: str = texts.NO_SUCH_PAGE) -> Response:
    """404 as a page of the site: its layout, what is missing (`message`, a catalog's message) and the way back
    to the list."""
    _ = reading_of(request)._
    return page(request, "not_found.html.j2", 404, title=_(texts.NOT_FOUND), message=_(message))


def title_of(view: View, reading: Reading) -> str:
    """The title of a filtered view: its filters' labels, or "All items"."""
    parts = [label for _name, label, _url in view.chips(reading.labels)]
    return reading._(texts.ALL_ITEMS) if not parts else ", ".join(parts)


def card(item: Item, reading: Reading, now: datetime) -> dict[str, Any]:
    """What a page shows of an item, in the reader's language."""
    fmt, labels = reading.fmt, reading.labels
    when = item.published_at or item.collected_at
    closes = item.closes_at(fmt.zone)
    summary = item.summary if len(item.summary) <= 300 else item.summary[:299] + "…"
    notice = NOTICE_TYPES.get(item.notice_type or "", "") if item.notice_type else ""
    return {
        "id": item.id, "title": item.title, "url": safe_url(item.url), "source": item.source, "kind": item.kind,
        "kind_label": labels["kind"].get(item.kind, item.kind), "date": fmt.day(when), "country": item.country,
        "region": item.region, "summary": summary, "buyer": item.buyer,
        "deadline": fmt.moment(item.local_deadline(fmt.zone)), "closed": bool(closes and closes < now),
        "value": fmt.value(item.value_amount, item.value_currency, item.value_kind, item.value_min, item.value_max),
        "due": fmt.due(item.deadline_kind),
        "notice_type": reading._(notice) if notice else "",
        "topics": [(t, labels["topic"].get(t, t), item.topics[t].score,
                    [explain(e, reading.lang, labels["topic"]) for e in item.topics[t].evidence])
                   for t in sorted(item.topics, key=lambda t: -item.topics[t].score)],
        "members": [(m, labels["member"].get(m, m), item.members[m].score,
                     [explain(r, reading.lang, labels["topic"]) for r in item.members[m].reasons])
                    for m in sorted(item.members, key=lambda m: -item.members[m].score)],
        "country_name": fmt.country(item.country), "lang_name": fmt.language(item.lang),
    }
