"""The reports site: the archive filtered, searched and exported, for the cluster's members only.

Routes: `/` (the filtered list), `/items.json|csv|xlsx|atom|ics` (the same filters), `/items/<id>`,
`/digests` and `/digests/<YYYY-Www>`, `/sources`, `/signin`, `/signout`, `/healthz` (open, for health checks).
Server-rendered pages that need no JavaScript. The views are in `items.py`, `item.py`, `digests.py`, `signin.py`
and `health.py`; access rules in `access.py`; the access log in `accesslog.py`. This module only wires routes,
middleware and state.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from veille.context import Context
from veille.errors import InputError
from veille.web import access, health
from veille.web.accesslog import AccessLog
from veille.web.digests import digest, digests, sources_page
from veille.web.item import item_page
from veille.web.items import home, items_export
from veille.web.signin import SESSION_DAYS, Guard, signin, signout
from veille.web.site import HERE, Site, not_found
from veille.web.verdict import verdict_page


async def _not_found(request: Request, exc: Exception) -> Response:
    """An address that no route serves gets the site's 404 page, not Starlette's bare text."""
    return not_found(request)


def create_app(ctx: Context, monotonic: Callable[[], float] = time.monotonic) -> Starlette:
    """The site over an open context (configuration, settings, store); the caller closes the context.
    `monotonic` times the checks for new writes (tests pass their own)."""
    settings = ctx.settings
    key = access.session_key(settings.site_secret, settings.site_password)
    if key is None:
        raise InputError("the reports site needs VEILLE_SITE_PASSWORD (a shared password) or VEILLE_SITE_SECRET "
                         "(members' sign-in links), or both; neither is set")
    routes = [
        Route("/", home),
        Route("/items.{format}", items_export),
        Route("/items/{item_id}", item_page),
        Route("/digests", digests),
        Route("/digests/{week}", digest),
        Route("/sources", sources_page),
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/verdict/{item_id}", verdict_page, methods=["GET", "POST"]),
        Route(health.PATH, health.healthz, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    https = bool(settings.site_url and settings.site_url.startswith("https:"))
    app = Starlette(routes=routes, exception_handlers={404: _not_found}, middleware=[
        Middleware(AccessLog),  # outermost: it sees every answer, the guard's included
        Middleware(SessionMiddleware, secret_key=key, session_cookie="veille_session", max_age=SESSION_DAYS * 86400,
                   same_site="lax", https_only=https),
        Middleware(Guard),
    ])
    app.state.site = Site(ctx, monotonic)
    return app
