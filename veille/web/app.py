"""The reports site: the archive filtered, searched and exported, for the cluster's members only.

Routes: `/` (the filtered list), `/items.json|csv|xlsx|atom|ics` (the same filters), `/items/<id>`,
`/digests` and `/digests/<YYYY-Www>`, `/sources`, `/signin`, `/signout`. Server-rendered pages that
need no JavaScript. Access: see `access.py`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from math import ceil
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from bs4 import BeautifulSoup
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from veille import pipeline
from veille.errors import InputError
from veille.models import KINDS, REGIONS, Item
from veille.web import access
from veille.web.filters import View, parse

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
FEED_LIMIT = 50
REFRESH_SECONDS = 2.0  # how often the store's write counter is checked
MAX_SOURCES = 40  # source names listed beside the results (the busiest ones, and the configured ones)
HERE = Path(__file__).parent
KIND_LABELS = {"tender": "Tenders", "news": "News", "regulation": "Regulation", "funding": "Funding", "event": "Events"}
REGION_LABELS = {"FR": "France", "EU": "Europe (EU/EEA)", "CA": "Canada", "BR": "Brazil", "GULF": "Gulf countries",
                 "OTHER": "Other countries"}
HTML_PAGES = ("/", "/items/", "/digests", "/sources")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "script-src 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a member's token never leaves in a Referer header
}


def _safe_url(url: str | None) -> str | None:
    return url if url and urlsplit(url).scheme in ("http", "https") else None


_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
_ENV.filters["safe_url"] = _safe_url


class Archive:
    """The facet index of the archive, rebuilt in the background when the store has been written to."""

    def __init__(self, ctx: pipeline.Context):
        self.ctx = ctx
        self.index = pipeline.facet_index(ctx)
        self.checked = time.monotonic()
        self.loading = threading.Lock()

    def current(self) -> Any:
        now = time.monotonic()
        if now - self.checked >= REFRESH_SECONDS:
            self.checked = now
            stale = self.index is None or self.ctx.store.generation() != self.index.generation
            if stale and self.loading.acquire(blocking=False):
                threading.Thread(target=self._reload, daemon=True).start()
        return self.index

    def _reload(self) -> None:
        try:
            self.index = pipeline.facet_index(self.ctx)
        finally:
            self.loading.release()


@dataclass(frozen=True)
class Who:
    """Who is reading: the shared password, or one member."""

    kind: str  # "password" | "member"
    member_id: str | None = None
    name: str = ""


def create_app(ctx: pipeline.Context) -> Starlette:
    """The site over an open context (configuration, settings, store); the caller closes the context."""
    settings = ctx.settings
    key = access.session_key(settings.site_secret, settings.site_password)
    if key is None:
        raise InputError("the reports site needs VEILLE_SITE_PASSWORD (a shared password) or VEILLE_SITE_SECRET "
                         "(members' sign-in links), or both; neither is set")
    members = {m.id: m for m in ctx.config.members}
    topic_labels = {t.id: t.label for t in ctx.config.topics}
    labels = {"topic": topic_labels, "kind": KIND_LABELS, "region": REGION_LABELS,
              "member": {m.id: m.name for m in ctx.config.members}}
    sources = [s.name for s in ctx.config.sources]
    archive = Archive(ctx)

    def identify(request: Request) -> tuple[Who | None, bool]:
        """Who the request comes from, and whether it signed in by a token in the URL just now."""
        token = request.query_params.get("token")
        if token:
            member = access.token_member(settings.site_secret, token, members)
            if member is not None:
                return Who("member", member.id, member.name), True
        if access.password_ok(settings.site_password, access.basic_password(request.headers.get("authorization"))):
            return Who("password"), False
        session = request.session
        if session.get("who") == "password" and settings.site_password and \
                session.get("fp") == access.fingerprint(settings.site_password):
            return Who("password"), False
        if session.get("who") == "member":
            member = members.get(str(session.get("id")))
            if member is not None and member.site_token > 0 and session.get("v") == member.site_token:
                return Who("member", member.id, member.name), False
        return None, False

    class Guard(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            path = request.url.path
            if path.startswith(("/signin", "/static/")):
                response = await call_next(request)
            else:
                who, by_token = identify(request)
                html = request.method == "GET" and path.startswith(HTML_PAGES) and \
                    "text/html" in request.headers.get("accept", "")
                if who is None:
                    if html:
                        target = path + (f"?{request.url.query}" if request.url.query else "")
                        response = RedirectResponse(f"/signin?{urlencode({'next': target})}", 303)
                    else:
                        response = PlainTextResponse(
                            "401 sign-in required: HTTP Basic with the site password (any user name), or ?token= "
                            "with a member's token\n", 401, headers={"WWW-Authenticate": 'Basic realm="veille"'})
                elif by_token and html:  # remember the member, and take the token out of the address bar
                    request.session.update({"who": "member", "id": who.member_id,
                                            "v": members[who.member_id or ""].site_token})
                    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                    response = RedirectResponse(path + (f"?{urlencode(rest)}" if rest else ""), 303)
                else:
                    request.state.who = who
                    response = await call_next(request)
            response.headers.update(SECURITY_HEADERS)
            return response

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        who = getattr(request.state, "who", None)
        html = _ENV.get_template(template).render(who=who, path=request.url.path, **context)
        return HTMLResponse(html, status)

    def view_of(request: Request) -> View:
        return parse(request.query_params.multi_items(), list(topic_labels), list(members))

    def bad_request(request: Request, exc: InputError) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return page(request, "error.html.j2", 400, title="Bad request", message=str(exc))
        return PlainTextResponse(f"400 {exc}\n", 400)

    def home(request: Request) -> Response:
        try:
            view = view_of(request)
        except InputError as exc:
            return bad_request(request, exc)
        query = view.query(settings.zone)
        index = archive.current()
        if index is not None:  # a million items: numpy over the index, the store for the page's 50 rows
            text = index.search(ctx.store, view.q) if view.q else None
            found = index.page(view.query(settings.zone, PAGE_SIZE, (view.page - 1) * PAGE_SIZE), text)
            total, facets = found.total, found.facets
            pages = max(1, ceil(total / PAGE_SIZE))
            if view.page > pages:
                view = view.at_page(pages)
                found = index.page(view.query(settings.zone, PAGE_SIZE, (view.page - 1) * PAGE_SIZE), text)
            items = ctx.store.items_by_ids(found.ids)
        else:
            total = ctx.store.count(query)
            pages = max(1, ceil(total / PAGE_SIZE))
            view = view.at_page(min(view.page, pages))
            items = ctx.store.items(view.query(settings.zone, PAGE_SIZE, (view.page - 1) * PAGE_SIZE))
            facets = ctx.store.facets(query)
        groups = []
        stored = sorted(facets.get("source", {}), key=lambda name: -facets["source"][name])[:MAX_SOURCES]
        for name, values in (("topic", list(topic_labels)), ("kind", list(KINDS)), ("region", list(REGIONS)),
                             ("member", list(members)), ("source", list(dict.fromkeys([*sources, *stored])))):
            counts = facets.get(name, {})
            selected = set(getattr(view, f"{name}s")) if name != "member" else {view.member}
            entries = [{"value": v, "label": labels.get(name, {}).get(v, v), "count": counts.get(v, 0),
                        "selected": v in selected, "url": view.toggle(name, v).url()}
                       for v in values if counts.get(v) or v in selected]
            groups.append({"name": name, "entries": entries})
        exports = {fmt: view.url(f"/items.{fmt}") for fmt in ("csv", "xlsx", "atom", "ics", "json")}
        return page(request, "list.html.j2", view=view, items=[_card(i, settings.zone, labels, ctx.clock()) for i in items],
                    total=total, pages=pages, groups=groups, chips=view.chips(labels), exports=exports,
                    previous=view.at_page(view.page - 1).url(page=True) if view.page > 1 else None,
                    following=view.at_page(view.page + 1).url(page=True) if view.page < pages else None,
                    labels=labels, title=_title(view, labels))

    def export(fmt: str) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                view = view_of(request)
            except InputError as exc:
                return bad_request(request, exc)
            query = view.query(settings.zone, FEED_LIMIT if fmt == "atom" else EXPORT_LIMIT)
            if fmt == "ics":
                query = replace(query, kinds=("tender",))
            items = ctx.store.items(query)
            base = settings.site_url or str(request.base_url).rstrip("/")
            if fmt == "json":
                body = json.dumps({"count": ctx.store.count(query), "items": [i.to_json() for i in items]},
                                  ensure_ascii=False, indent=2).encode()
                return Response(body, media_type="application/json")
            body, media = pipeline.export_items(
                items, fmt, title=f"veille — {_title(view, labels)}", feed_url=base + view.url(f"/items.{fmt}"),
                page_url=base + view.url("/"), item_url=base + "/items/{id}")
            headers = {} if fmt == "atom" else {"Content-Disposition": f'attachment; filename="veille-items.{fmt}"'}
            return Response(body, media_type=media, headers=headers)
        return endpoint

    def item_page(request: Request) -> Response:
        item = ctx.store.item(request.path_params["item_id"])
        if item is None:
            return page(request, "error.html.j2", 404, title="Not found", message="No such item in the archive.")
        cluster = ctx.store.clusters([item.cluster_id]).get(item.cluster_id or "", []) if item.cluster_id else []
        others = [_card(i, settings.zone, labels, ctx.clock()) for i in cluster if i.id != item.id]
        return page(request, "item.html.j2", item=_card(item, settings.zone, labels, ctx.clock()), raw=item, others=others,
                    title=item.title)

    def digests(request: Request) -> Response:
        weeks = pipeline.digest_weeks(ctx)
        built = {w for w in weeks if (settings.reports_dir / str(w) / "digest.html").is_file()}
        return page(request, "digests.html.j2", weeks=[(str(w), w in built) for w in weeks], title="Weekly digests")

    def digest(request: Request) -> Response:
        try:
            week = pipeline.Week.parse(request.path_params["week"])
        except ValueError as exc:
            return bad_request(request, InputError(str(exc)))
        if week.bounds(settings.zone)[0] > ctx.clock():
            return page(request, "error.html.j2", 404, title="Not found", message=f"Week {week} has not begun.")
        soup = BeautifulSoup(pipeline.digest_page(ctx, week), "html.parser")
        body = soup.body.decode_contents() if soup.body else ""
        return page(request, "digest.html.j2", week=str(week), body=Markup(body), title=f"Digest {week}")

    def sources_page(request: Request) -> Response:
        return page(request, "sources.html.j2", rows=pipeline.source_health(ctx), title="Sources")

    async def signin(request: Request) -> Response:
        target = request.query_params.get("next") or "/"
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only paths of this site: no open redirect
        error = None
        if request.method == "POST":
            form = await request.form()
            target = str(form.get("next") or "/")
            target = target if target.startswith("/") and not target.startswith("//") else "/"
            if access.password_ok(settings.site_password, str(form.get("password") or "")):
                request.session.clear()
                request.session.update({"who": "password", "fp": access.fingerprint(settings.site_password or "")})
                return RedirectResponse(target, 303)
            error = "Wrong password." if settings.site_password else "Sign in with the link from your digest."
        response = page(request, "signin.html.j2", 401 if error else 200, next=target, error=error,
                        password=bool(settings.site_password), title="Sign in")
        response.headers.update(SECURITY_HEADERS)
        return response

    async def signout(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/signin", 303)

    routes = [
        Route("/", home),
        *[Route(f"/items.{fmt}", export(fmt)) for fmt in ("json", "csv", "xlsx", "atom", "ics")],
        Route("/items/{item_id}", item_page),
        Route("/digests", digests),
        Route("/digests/{week}", digest),
        Route("/sources", sources_page),
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    https = bool(settings.site_url and settings.site_url.startswith("https:"))
    return Starlette(routes=routes, middleware=[
        Middleware(SessionMiddleware, secret_key=key, session_cookie="veille_session", max_age=90 * 86400,
                   same_site="lax", https_only=https),
        Middleware(Guard),
    ])


def _title(view: View, labels: dict[str, dict[str, str]]) -> str:
    parts = [label for _, label, _ in view.chips(labels)]
    return "All items" if not parts else ", ".join(parts)


def _card(item: Item, zone: Any, labels: dict[str, dict[str, str]], now: datetime) -> dict[str, Any]:
    """What a page shows of an item."""
    def local(value: datetime | None, with_time: bool = False) -> str:
        if value is None:
            return ""
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")

    when = item.published_at or item.collected_at
    summary = item.summary if len(item.summary) <= 300 else item.summary[:299] + "…"
    closed = bool(item.deadline_at and item.deadline_at < now)
    return {
        "id": item.id, "title": item.title, "url": _safe_url(item.url), "source": item.source, "kind": item.kind,
        "kind_label": labels["kind"].get(item.kind, item.kind), "date": local(when), "country": item.country,
        "region": item.region, "summary": summary, "buyer": item.buyer, "deadline": local(item.deadline_at, True),
        "closed": closed, "notice_type": (item.notice_type or "").replace("-", " "),
        "topics": [(t, labels["topic"].get(t, t), item.topics[t].score, item.topics[t].evidence)
                   for t in sorted(item.topics, key=lambda t: -item.topics[t].score)],
        "members": [(m, labels["member"].get(m, m), item.members[m].score, item.members[m].reasons)
                    for m in sorted(item.members, key=lambda m: -item.members[m].score)],
    }
