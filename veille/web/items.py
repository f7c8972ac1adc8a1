"""The archive list (`/`) and its exports (`/items.json|csv|xlsx|atom|ics`): one filtered view, several forms."""

from __future__ import annotations

import json
from dataclasses import replace
from math import ceil
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from veille import pipeline
from veille.errors import InputError
from veille.export import MEDIA_TYPES
from veille.export.formats import export
from veille.models import KINDS, REGIONS, Item, ItemQuery
from veille.web.filters import SORTS, SWITCHES, View
from veille.web.site import Reading, Site, Who, bad_request, not_found, page, reading_of, site_of, title_of, who_of
from veille.web.subscribe import base_url, reader_token, signed, subscriptions
from veille.web.verdict import verdict_links

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
FEED_LIMIT = 50
MAX_SOURCES = 40  # source names listed beside the results (the busiest ones, and the configured ones)
EXPORT_FORMATS = tuple(MEDIA_TYPES)


def _found(site: Site, view: View, who: Who | None) -> tuple[View, list[Item], int, dict[str, dict[str, int]]]:
    """(the view at a page that exists, that page's items, the total, the facet counts)."""
    store = site.ctx.store

    def query(at: View) -> ItemQuery:
        return site.query(at, who, PAGE_SIZE, (at.page - 1) * PAGE_SIZE)

    index = site.archive.current()
    if index is not None:  # a million items: numpy over the index, the store for the page's 50 rows
        text = index.search(store, view.q) if view.q else None
        found = index.page(query(view), text)
        pages = max(1, ceil(found.total / PAGE_SIZE))
        if view.page > pages:
            view = view.at_page(pages)
            found = index.page(query(view), text)
        return view, store.items_by_ids(found.ids), found.total, found.facets
    whole = site.query(view, who)
    total = store.count(whole)
    view = view.at_page(min(view.page, max(1, ceil(total / PAGE_SIZE))))
    return view, store.items(query(view)), total, store.facets(whole)


def _facet_groups(site: Site, view: View, facets: dict[str, dict[str, int]],
                  who: Who | None, reading: Reading) -> list[dict[str, Any]]:
    """The filters beside the results: each value with its count and the link that toggles it (the member filter
    lists only the members the reader may see)."""
    stored = sorted(facets.get("source", {}), key=lambda name: -facets["source"][name])[:MAX_SOURCES]
    groups = []
    for name, values in (("topic", list(site.topic_labels)), ("kind", list(KINDS)), ("region", list(REGIONS)),
                         ("member", list(site.visible_members(who))),
                         ("source", list(dict.fromkeys([*site.sources, *stored])))):
        counts = facets.get(name, {})
        selected = set(getattr(view, f"{name}s")) if name != "member" else {view.member}
        entries = [{"value": v, "label": reading.labels.get(name, {}).get(v, v), "count": counts.get(v, 0),
                    "selected": v in selected, "url": view.toggle(name, v).url()}
                   for v in values if counts.get(v) or v in selected]
        groups.append({"name": name, "title": reading.labels["facet"][name], "entries": entries})
    return groups


def _rows(site: Site, items: list[Item], who: Who | None, reading: Reading) -> list[dict[str, Any]]:
    """The cards of a page, each with the rest of its cluster: the other sources of a story ("also in"), the
    number of notices of a tender (its history is on the item page)."""
    clusters = site.ctx.store.clusters({i.cluster_id for i in items if i.cluster_id})
    rows = []
    for item in items:
        cluster = clusters.get(item.cluster_id or "", [])
        card = site.card(site.shown(item, who), reading)
        card["also_in"] = [] if item.kind == "tender" else \
            sorted({i.source for i in cluster if i.source != item.source})
        card["notices"] = len(cluster) if item.kind == "tender" and len(cluster) > 1 else 0
        card["verdicts"] = verdict_links(site, who, item.id)
        rows.append(card)
    return rows


def _switches(view: View) -> dict[str, Any]:
    """The links that turn each switch of the view on or off, and those that sort it."""
    return {"toggle": {name: view.switched(name).url() for name in SWITCHES},
            "sort": {sort: view.sorted_by(sort).url() for sort in SORTS}}


def home(request: Request) -> Response:
    """The filtered, searched list of the archive, 50 items a page, with facets and export links."""
    site = site_of(request)
    who = who_of(request)
    try:
        view = site.view_of(request)
    except InputError as exc:
        return bad_request(request, exc)
    view, items, total, facets = _found(site, view, who)
    pages = max(1, ceil(total / PAGE_SIZE))
    reading = reading_of(request)
    return page(request, "list.html.j2", view=view, items=_rows(site, items, who, reading), total=total, pages=pages,
                groups=_facet_groups(site, view, facets, who, reading), chips=view.chips(reading.labels),
                exports={fmt: view.url(f"/items.{fmt}") for fmt in EXPORT_FORMATS} | subscriptions(site, request, view),
                switches=_switches(view),
                previous=view.at_page(view.page - 1).url(page=True) if view.page > 1 else None,
                following=view.at_page(view.page + 1).url(page=True) if view.page < pages else None,
                mine=site.own(who),
                labels=reading.labels, title=title_of(view, reading))


def items_export(request: Request) -> Response:
    """`/items.<format>`: the same filtered view as a download (JSON, CSV, XLSX, iCalendar) or an Atom feed."""
    site = site_of(request)
    who = who_of(request)
    fmt = request.path_params["format"]
    if fmt not in MEDIA_TYPES:
        message = f"404 no export format {fmt!r}; formats: {', '.join(MEDIA_TYPES)}"
        if "text/html" in request.headers.get("accept", ""):
            return not_found(request, message[4:])
        return Response(message + "\n", 404, media_type="text/plain")
    try:
        view = site.view_of(request)
    except InputError as exc:
        return bad_request(request, exc)
    query = site.query(view, who, FEED_LIMIT if fmt == "atom" else EXPORT_LIMIT)
    if fmt == "atom":  # a feed gives the newest, whatever the page's order
        query = replace(query, order="newest")
    if fmt == "ics":
        query = replace(query, kinds=("tender",))
    items = site.ctx.store.items(query)
    if fmt == "ics":
        items = pipeline.tender_notices(site.ctx, items)
    items = [site.shown(i, who) for i in items]  # a member's download names no other member
    if fmt == "json":
        body = json.dumps({"count": site.ctx.store.count(query), "items": [i.to_json() for i in items]},
                          ensure_ascii=False, indent=2).encode()
        return Response(body, media_type=MEDIA_TYPES[fmt])
    base = base_url(site, request)
    # the feed's id stays the same when a member's token changes; its self link is the reader's address
    body, media = export(items, fmt, title=f"veille — {title_of(view, reading_of(request))}",
                         feed_url=base + view.url(f"/items.{fmt}"), page_url=base + view.url("/"),
                         item_url=base + "/items/{id}", now=site.now(), lang=site.settings.site_lang,
                         zone=site.zone,
                         self_url=base + signed(view, f"/items.{fmt}", reader_token(site, request.state.who)))
    headers = {} if fmt == "atom" else {"Content-Disposition": f'attachment; filename="veille-items.{fmt}"'}
    return Response(body, media_type=media, headers=headers)
