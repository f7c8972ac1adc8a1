"""A small HTTP server on 127.0.0.1 serving payload files, for the demo and the tests.

It behaves like a real publisher: ETag / Last-Modified with 304 answers, gzip when asked, and a few
faults on request: /status/503, /slow/<seconds>/<file>, /redirect/<n>/<file>, /huge/<bytes>.
It records every request it receives so tests can assert on what the collector sent.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TYPES = {".rss": "application/rss+xml; charset=utf-8", ".xml": "application/xml", ".atom": "application/atom+xml",
         ".html": "text/html; charset=utf-8", ".json": "application/json", ".csv": "text/csv; charset=utf-8"}
FIXED_MTIME = 1_762_000_000  # a stable Last-Modified for payloads that do not change


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # a client that gives up (timeout, size cap) resets the connection: expected here, not an error
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection at once, without an answer (a reset, not a clean close)."""
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def _trickle(h: BaseHTTPRequestHandler, delay: str) -> None:
    """Send a 100,000-byte body one byte every `delay` seconds, until the client goes away."""
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(100000):
        try:
            h.wfile.write(b" ")
            h.wfile.flush()
        except OSError:
            return
        time.sleep(float(delay))


def _fault(h: BaseHTTPRequestHandler, parts: list[str]) -> bool:
    """Answer a fault asked by the path (/reset, /loop, /trickle/<s>, /status/<code>); return whether it did."""
    if parts[0] == "reset":  # the connection dies without an answer
        _reset(h)
    elif parts[0] == "loop":  # a redirect to itself, forever
        FixtureServer._send(h, 302, b"", "text/plain", {"Location": "/loop"})
    elif parts[0] == "trickle" and len(parts) > 1:  # a body that arrives one byte at a time
        _trickle(h, parts[1])
    elif parts[0] == "status" and len(parts) > 1 and parts[1].isdigit():
        FixtureServer._send(h, int(parts[1]), b"fault on request\n", "text/plain")
    else:
        return False
    return True


def _redirect_target(parts: list[str]) -> str:
    """Return the Location of /redirect/<n>/<file>: the file after the last hop, else one hop fewer."""
    hops = int(parts[1])
    return "/" + "/".join(parts[2:]) if hops <= 1 else f"/redirect/{hops - 1}/" + "/".join(parts[2:])


def _generated(h: BaseHTTPRequestHandler, parts: list[str]) -> bool:
    """Answer /redirect/<n>/<file> and /huge/<bytes>; return whether the path was one of them."""
    if parts[0] == "redirect" and len(parts) > 2:
        FixtureServer._send(h, 302, b"", "text/plain", {"Location": _redirect_target(parts)})
    elif parts[0] == "huge" and len(parts) > 1:
        FixtureServer._send(h, 200, b"<rss>" + b" " * int(parts[1]) + b"</rss>", "application/rss+xml")
    else:
        return False
    return True


def _serve(h: BaseHTTPRequestHandler, path: str, content: bytes) -> None:
    """Send a payload with its ETag and Last-Modified: 304 when the client has it, gzip when it asks."""
    etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
    modified = formatdate(FIXED_MTIME, usegmt=True)
    if h.headers.get("If-None-Match") == etag:
        FixtureServer._send(h, 304, b"", None, {"ETag": etag, "Last-Modified": modified})
        return
    headers = {"ETag": etag, "Last-Modified": modified}
    if "gzip" in (h.headers.get("Accept-Encoding") or ""):
        content = gzip.compress(content)
        headers["Content-Encoding"] = "gzip"
    FixtureServer._send(h, 200, content, ctype=TYPES.get(Path(path).suffix, "application/octet-stream"),
                        headers=headers)


class FixtureServer:
    """Serve the files of `root` on 127.0.0.1 until `stop()`; usable as a context manager."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root)
        self.requests: list[Request] = []
        self.overrides: dict[str, bytes] = {}  # path -> body, to change a payload between runs
        # path -> handler(request) giving (status, body, content type[, headers]): answers per request
        self.routes: dict[str, Callable[[Request], tuple[Any, ...]]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet: tests and demo print their own lines
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        self._httpd = _QuietServer((host, port), Handler)
        self._httpd.daemon_threads = True
        # a short poll: stop() returns at once instead of waiting out serve_forever's default half second
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def start(self) -> FixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def query(self, request: Request) -> dict[str, list[str]]:
        return parse_qs(urlsplit(request.path).query)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        """Record the request, then answer it: its route, a fault, a generated body, else a payload file."""
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        self.requests.append(Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body))
        route = self.routes.get(h.path.split("?")[0])
        if route is not None:
            status, content, ctype, *extra = route(self.requests[-1])
            return self._send(h, status, content, ctype, extra[0] if extra else None)
        parts = h.path.split("?")[0].strip("/").split("/")
        if _fault(h, parts):
            return None
        if parts[0] == "slow" and len(parts) > 2:
            time.sleep(float(parts[1]))
            parts = parts[2:]
        if _generated(h, parts):
            return None
        path = "/" + "/".join(parts)
        content = self._payload(parts)
        if content is None:
            return self._send(h, 404, b"not found\n", "text/plain")
        return _serve(h, path, content)

    def _payload(self, parts: list[str]) -> bytes | None:
        """Return the body for a path: its override, else the file under the root, else None."""
        override = self.overrides.get("/" + "/".join(parts))
        if override is not None:
            return override
        file = (self.root / "/".join(parts)).resolve()
        if self.root.resolve() not in file.parents or not file.is_file():
            return None
        return file.read_bytes()

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str | None,
              headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        if ctype:
            h.send_header("Content-Type", ctype)
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
