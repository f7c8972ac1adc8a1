"""The page of one item (`/items/<id>`): its details, why it was tagged, the other notices of its tender."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from veille.web import texts
from veille.web.site import not_found, page, reading_of, site_of, who_of
from veille.web.verdict import verdict_links


def item_page(request: Request) -> Response:
    """One item with its topics, member matches (only its own for a member who may not see the others) and the
    other notices or copies of its cluster."""
    site = site_of(request)
    who = who_of(request)
    store = site.ctx.store
    item = store.item(request.path_params["item_id"])
    if item is None:
        return not_found(request, texts.NO_SUCH_ITEM)
    item = site.shown(item, who)
    cluster = store.clusters([item.cluster_id]).get(item.cluster_id or "", []) if item.cluster_id else []
    reading = reading_of(request)
    return page(request, "item.html.j2", item=site.card(item, reading), raw=item, title=item.title,
                mine=site.own(who), others=[site.card(site.shown(i, who), reading) for i in cluster if i.id != item.id],
                labels=reading.labels, verdicts=verdict_links(site, who, item.id))
