"""Signing in and out (`/signin`, `/signout`), and the guard that lets only the cluster's members read the site.

Who may read: see `access.py` (the shared password, by form or HTTP Basic) and `veille/tokens.py` (a member's
link). A member who comes by a token link is remembered in the session and the token is taken out of the
address bar.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from veille.tokens import token_member
from veille.web import access
from veille.web.site import Site, Who, page, site_of

HTML_PAGES = ("/", "/items/", "/digests", "/sources")
OPEN_PATHS = ("/signin", "/static/")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "script-src 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a member's token never leaves in a Referer header
}
UNAUTHORIZED = ("401 sign-in required: HTTP Basic with the site password (any user name), or ?token= "
                "with a member's token\n")


def identify(site: Site, request: Request) -> tuple[Who | None, bool]:
    """Who the request comes from, and whether it signed in by a token in the URL just now."""
    settings = site.settings
    token = request.query_params.get("token")
    if token:
        member = token_member(settings.site_secret, token, site.members)
        if member is not None:
            return Who("member", member.id, member.name), True
    if access.password_ok(settings.site_password, access.basic_password(request.headers.get("authorization"))):
        return Who("password"), False
    session = request.session
    if session.get("who") == "password" and settings.site_password and \
            session.get("fp") == access.fingerprint(settings.site_password):
        return Who("password"), False
    if session.get("who") == "member":
        member = site.members.get(str(session.get("id")))
        if member is not None and member.site_token > 0 and session.get("v") == member.site_token:
            return Who("member", member.id, member.name), False
    return None, False


def _refused(request: Request, html: bool) -> Response:
    if html:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?{urlencode({'next': target})}", 303)
    return PlainTextResponse(UNAUTHORIZED, 401, headers={"WWW-Authenticate": 'Basic realm="veille"'})


def _remember(site: Site, request: Request, who: Who) -> Response:
    """Keep the member in the session and send the browser to the same address without the token."""
    request.session.update({"who": "member", "id": who.member_id, "v": site.members[who.member_id or ""].site_token})
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return RedirectResponse(request.url.path + (f"?{urlencode(rest)}" if rest else ""), 303)


class Guard(BaseHTTPMiddleware):
    """Every page but the sign-in page and the static files needs a reader; every answer gets the security
    headers."""

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(OPEN_PATHS):
            response = await call_next(request)
        else:
            site = site_of(request)
            who, by_token = identify(site, request)
            html = request.method == "GET" and path.startswith(HTML_PAGES) and \
                "text/html" in request.headers.get("accept", "")
            if who is None:
                response = _refused(request, html)
            elif by_token and html:
                response = _remember(site, request, who)
            else:
                request.state.who = who
                response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response


def _local(target: str) -> str:
    """`target` when it is a path of this site, else "/": no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


async def signin(request: Request) -> Response:
    settings = site_of(request).settings
    target = _local(request.query_params.get("next") or "/")
    error = None
    if request.method == "POST":
        form = await request.form()
        target = _local(str(form.get("next") or "/"))
        if access.password_ok(settings.site_password, str(form.get("password") or "")):
            request.session.clear()
            request.session.update({"who": "password", "fp": access.fingerprint(settings.site_password or "")})
            return RedirectResponse(target, 303)
        error = "Wrong password." if settings.site_password else "Sign in with the link from your digest."
    return page(request, "signin.html.j2", 401 if error else 200, next=target, error=error,
                password=bool(settings.site_password), title="Sign in")


async def signout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/signin", 303)
