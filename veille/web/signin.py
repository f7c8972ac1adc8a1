"""Signing in and out (`/signin`, `/signout`), and the guard that lets only the cluster's members read the site.

Who may read: see `access.py` (the shared password, by form or HTTP Basic) and `veille/tokens.py` (a member's
link). A member who comes by a token link to a page is remembered in the session and the token is taken out
of the address bar; an export (`/items.*`: the Atom feed and the calendar a reader or a calendar app
subscribes to, which send no cookie) is answered at once, with no session. A token that opens nothing
(wrong, forged, revoked) is told apart from no credentials: its reader learns that the link is dead.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import unquote, urlencode

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from veille.tokens import token_member
from veille.web import access
from veille.web.messages import INVALID_LINK, INVALID_LINK_TITLE
from veille.web.site import Site, Who, page, reading_of, site_of

EXPORTS = "/items."  # /items.json|csv|xlsx|atom|ics
BY_TOKEN, BAD_TOKEN = "token", "bad token"  # how a request carrying ?token= came
SESSION_DAYS = 90
OPEN_PATHS = ("/signin", "/static/", "/verdict/")  # a verdict link is signed itself
OPEN_ROUTES = ("/healthz",)  # exactly these paths: a health check reveals nothing and needs no reader
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "script-src 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a member's token never leaves in a Referer header
}
UNAUTHORIZED = ("401 sign-in required: HTTP Basic with the site password (any user name), or ?token= "
                "with a member's token\n")


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def identify(site: Site, request: Request) -> tuple[Who | None, str]:
    """Who the request comes from, and how: BY_TOKEN (a member's token in the URL, just now), BAD_TOKEN (a
    token in the URL that opens nothing, whatever else the request carries: who holds a dead link must hear
    it, not be let in by a cookie until its feed reader, which has none, fails), or "" (the password, a
    session, or nobody). A wrong token or HTTP Basic password counts as a failed attempt of the address."""
    settings = site.settings
    token = request.query_params.get("token")
    if token:
        member = token_member(settings.site_secret, token, site.members)
        if member is not None:
            return Who("member", member.id, member.name), BY_TOKEN
        site.attempts.failed(_address(request))
        return None, BAD_TOKEN
    basic = access.basic_password(request.headers.get("authorization"))
    if access.password_ok(settings.site_password, basic):
        return Who("password"), ""
    if request.headers.get("authorization"):
        site.attempts.failed(_address(request))
    session = request.session
    if session and (not session.get("sid") or site.ctx.store.session_ended(str(session["sid"]))):
        return None, ""  # signed out (the cookie replayed), or made before sessions had an id
    if session.get("who") == "password" and settings.site_password and \
            session.get("fp") == access.fingerprint(settings.site_password):
        return Who("password"), ""
    if session.get("who") == "member":
        member = site.members.get(str(session.get("id")))
        if member is not None and member.site_token > 0 and session.get("v") == member.site_token:
            return Who("member", member.id, member.name), ""
    return None, ""


def _too_many(wait: int) -> Response:
    return PlainTextResponse(f"429 too many failed sign-in attempts from this address: try again in {wait} s\n",
                             429, headers={"Retry-After": str(wait)})


def _tries_to_sign_in(request: Request) -> bool:
    return bool(request.query_params.get("token") or request.headers.get("authorization"))


def _refused(request: Request, html: bool) -> Response:
    if html:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?{urlencode({'next': target})}", 303)
    return PlainTextResponse(UNAUTHORIZED, 401, headers={"WWW-Authenticate": 'Basic realm="veille"'})


def _invalid_link(site: Site, request: Request, html: bool) -> Response:
    """403 and a page that says the link is dead for a browser (401 would open its password dialog); 401 and
    the same sentence as text for the rest: feed readers, calendar apps, scripts."""
    _ = reading_of(request)._
    if html:
        return page(request, "invalid_link.html.j2", 403, title=_(INVALID_LINK_TITLE), message=_(INVALID_LINK),
                    password=bool(site.settings.site_password), next=_without_token(request))
    return PlainTextResponse(f"401 {_(INVALID_LINK)}\n", 401, headers={"WWW-Authenticate": 'Basic realm="veille"'})


def _without_token(request: Request) -> str:
    """The request's path on this site and its query string, less the token."""
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    return _local(request.url.path) + (f"?{urlencode(rest)}" if rest else "")


def _remember(site: Site, request: Request, who: Who) -> Response:
    """Keep the member in the session and send the browser to the same address without the token."""
    request.session.clear()
    request.session.update({"who": "member", "id": who.member_id, "v": site.members[who.member_id or ""].site_token,
                            "sid": secrets.token_urlsafe(24)})
    return RedirectResponse(_without_token(request), 303)


class Guard(BaseHTTPMiddleware):
    """Every page but the sign-in page, the static files and the health check needs a reader; every answer gets
    the security headers."""

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith(OPEN_PATHS) or path in OPEN_ROUTES:
            response = await call_next(request)
        else:
            site = site_of(request)
            wait = site.attempts.wait(_address(request)) if _tries_to_sign_in(request) else 0
            who, how = (None, "") if wait else identify(site, request)
            browser = request.method == "GET" and "text/html" in request.headers.get("accept", "")
            html = browser and not path.startswith(EXPORTS)
            if wait:
                response = _too_many(wait)
            elif how == BAD_TOKEN:
                response = _invalid_link(site, request, html)
            elif who is None:
                response = _refused(request, browser)
            elif how == BY_TOKEN and html:
                response = _remember(site, request, who)
            else:
                request.state.who = who
                response = await call_next(request)
                response.headers["Cache-Control"] = "no-store"  # what a reader saw stays out of shared caches
        response.headers.update(SECURITY_HEADERS)
        return response


def _local(target: str) -> str:
    """`target` when it is a path of this site, else "/": no open redirect, however the host is smuggled
    (`//host`, `/\\host`, `/%2F%2Fhost`, control characters that browsers drop)."""
    decoded = unquote(target)
    for form in (target, decoded):
        if not form.startswith("/") or form[1:2] in ("/", "\\") or any(c < " " or c == "\\" for c in form[:3]):
            return "/"
    return target if not any(ord(c) < 32 for c in decoded) else "/"


async def signin(request: Request) -> Response:
    site = site_of(request)
    settings = site.settings
    target = _local(request.query_params.get("next") or "/")
    error = None
    if request.method == "POST":
        wait = site.attempts.wait(_address(request))
        if wait:
            return _too_many(wait)
        form = await request.form()
        target = _local(str(form.get("next") or "/"))
        if access.password_ok(settings.site_password, str(form.get("password") or "")):
            request.session.clear()
            request.session.update({"who": "password", "fp": access.fingerprint(settings.site_password or ""),
                                    "sid": secrets.token_urlsafe(24)})
            return RedirectResponse(target, 303)
        site.attempts.failed(_address(request))
        error = "Wrong password." if settings.site_password else "Sign in with the link from your digest."
    return page(request, "signin.html.j2", 401 if error else 200, next=target, error=error,
                password=bool(settings.site_password), title="Sign in")


async def signout(request: Request) -> Response:
    """End the session here and on the server: its cookie, replayed, is refused."""
    site = site_of(request)
    sid = request.session.get("sid")
    if sid:
        site.ctx.store.end_session(str(sid), site.now() + timedelta(days=SESSION_DAYS))
    request.session.clear()
    return RedirectResponse("/signin", 303)
