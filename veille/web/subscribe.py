"""The addresses a reader subscribes to: a view's Atom feed and its calendar of tender deadlines.

Feed readers and calendar apps send no cookie, so a member's addresses carry its token. The token is made
from the member who reads the page (`request.state.who`, set by the guard), never copied from the request:
a page holds its own reader's token and no other. The working group's addresses carry none (it signs in
with the shared password, by HTTP Basic from a reader).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request

from veille.tokens import member_token
from veille.web.filters import View
from veille.web.site import Site, Who


def base_url(site: Site, request: Request) -> str:
    """The site's public address (VEILLE_SITE_URL), else the one the request came to; no trailing slash."""
    return site.settings.site_url or str(request.base_url).rstrip("/")


def reader_token(site: Site, who: Who | None) -> str | None:
    """The current token of the member who reads, None for the working group (or a member without one)."""
    if who is None or who.kind != "member":
        return None
    member = site.members.get(who.member_id or "")
    return member_token(site.settings.site_secret or "", member) if member else None


def signed(view: View, path: str, token: str | None) -> str:
    """`path` with the view's filters, after the token when there is one (as the digest's links have it)."""
    pairs = ([("token", token)] if token else []) + view.params()
    return f"{path}?{urlencode(pairs)}" if pairs else path


def subscriptions(site: Site, request: Request, view: View) -> dict[str, str]:
    """{"atom", "ics", "webcal"}: absolute addresses of the view's feed and calendar for the reader; `webcal`
    is the calendar's address with its scheme replaced, which calendar apps open as a subscription."""
    base = base_url(site, request)
    token = reader_token(site, getattr(request.state, "who", None))
    ics = base + signed(view, "/items.ics", token)
    return {"atom": base + signed(view, "/items.atom", token), "ics": ics,
            "webcal": urlunsplit(("webcal", *urlsplit(ics)[1:]))}
