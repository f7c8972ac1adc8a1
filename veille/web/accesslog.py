"""The site's access log: one line per request (method, path, status, duration), a JSON object off a terminal.

The path is logged without its query string, and no header is: a member's `?token=`, a session cookie or an
HTTP Basic password never reaches the log. It is an ASGI middleware (not Starlette's `BaseHTTPMiddleware`), the
outermost of the site, so that it sees every answer, the guard's redirects and refusals included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = logging.getLogger("veille.web.access")


class AccessLog:
    """Log each HTTP request once its answer has started (or failed: 500); `clock` is a monotonic clock in
    seconds (tests give their own)."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float] = time.perf_counter):
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.clock()
        status = 500  # what the server answers when the app raises before starting a response

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            _log(scope["method"], scope["path"], status, (self.clock() - start) * 1000)


def _log(method: str, path: str, status: int, ms: float) -> None:
    duration = round(ms, 1)
    LOGGER.info("%s %s %d %.1f ms", method, path, status, duration,
                extra={"method": method, "path": path, "status": status, "duration_ms": duration})
