"""`/healthz`: whether the site can read its store, for a container's health check and a load balancer.

Open to anyone (the guard lets it through), so it says nothing else: `{"status": "ok"}` with 200, or
`{"status": "unavailable"}` with 503 when the store cannot be read; the reason goes to the log, not the answer.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse

from veille.web.site import site_of

PATH = "/healthz"
LOGGER = logging.getLogger("veille.web.health")
NO_STORE = {"Cache-Control": "no-store"}


def healthz(request: Request) -> JSONResponse:
    """200 when one row of the store can be read, else 503 (a plain function: Starlette runs it in a thread, so a
    database that hangs holds no other request)."""
    try:
        site_of(request).ctx.store.generation()
    except SQLAlchemyError as exc:
        LOGGER.warning("health check: the store cannot be read: %s", type(exc).__name__,
                       extra={"status": "unavailable", "error": type(exc).__name__})
        return JSONResponse({"status": "unavailable"}, 503, headers=NO_STORE)
    return JSONResponse({"status": "ok"}, headers=NO_STORE)
