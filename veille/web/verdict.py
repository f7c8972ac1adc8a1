"""The verdict links of the digest and the site: "pertinent" / "pas pour nous" on one item, for one reader.

A link (`/verdict/<item id>?by=<reader>&v=<verdict>&sig=<signature>`) opens a confirmation page and records
nothing: mail scanners and link previews follow links, they do not press buttons. The page's button posts the
verdict with the same signature; a second post of the same verdict changes nothing, another verdict replaces
the first. The signature (`veille.tokens.verdict_code`) names the reader and the item, so a link records one
reader's word on one item and nothing else; no sign-in is needed.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from veille.tokens import GROUP, VERDICTS, verdict_code, verdict_ok, verdict_path
from veille.web import texts
from veille.web.messages import INVALID_LINK_TITLE
from veille.web.site import Site, Who, page, reading_of, site_of


def verdict_url(site: Site, reader: str, item_id: str, verdict: str) -> str | None:
    """The address of `reader`'s verdict link on an item (None when the site has no secret to sign it)."""
    code = verdict_code(site.settings.site_secret or "", reader, item_id, site.members)
    if code is None:
        return None
    return verdict_path(reader, item_id, verdict, code)


async def verdict_page(request: Request) -> Response:
    """GET: the item and the verdict to confirm; POST: the verdict recorded (the button of that page)."""
    site = site_of(request)
    _ = reading_of(request)._
    item_id = request.path_params["item_id"]
    fields = dict(request.query_params)
    if request.method == "POST":
        fields |= {k: str(v) for k, v in (await request.form()).items()}
    reader, code, chosen = fields.get("by", ""), fields.get("sig", ""), fields.get("v", "")
    if not verdict_ok(site.settings.site_secret, reader, item_id, code, site.members):
        response: Response = page(request, "error.html.j2", 403, title=_(INVALID_LINK_TITLE),
                                  message=_(texts.VERDICT_BAD_LINK))
    else:
        response = await run_in_threadpool(_answer, request, site, item_id, reader, code,
                                           chosen if chosen in VERDICTS else "")
    response.headers["Cache-Control"] = "no-store"  # a reader's own verdict stays out of shared caches
    return response


def _answer(request: Request, site: Site, item_id: str, reader: str, code: str, chosen: str) -> Response:
    """The page of a valid link (the store read and written off the event loop)."""
    _ = reading_of(request)._
    store = site.ctx.store
    item = store.item(item_id)
    if item is None:
        return page(request, "error.html.j2", 404, title=_(texts.NOT_FOUND), message=_(texts.NO_SUCH_ITEM))
    recorded = request.method == "POST" and bool(chosen) and store.record_verdict(item_id, reader, chosen)
    member = site.members.get(reader)
    return page(request, "verdict.html.j2", item=item, chosen=chosen, recorded=recorded,
                current=store.verdict(item_id, reader), by=reader, sig=code,
                reader_name=member.name if member else _(texts.WORKING_GROUP),
                title=_(texts.VERDICT_TITLE), original=item.url)


def verdict_links(site: Site, who: Who | None, item_id: str) -> dict[str, str]:
    """{verdict: address} of the reader's two links on an item (none for nobody, or without a secret)."""
    if who is None:
        return {}
    reader = who.member_id if who.kind == "member" and who.member_id else GROUP
    links = {v: verdict_url(site, reader, item_id, v) for v in VERDICTS}
    return {v: url for v, url in links.items() if url}
