"""The one place an HTTP client is built: polite, bounded, conditional, refusing private addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from protego import Protego

from veille import USER_AGENT
from veille.errors import SourceError, TerminalSourceError, TransientSourceError
from veille.settings import Settings

if TYPE_CHECKING:
    import httpx  # imported by the Fetcher: `veille check` reads the connectors without the HTTP client

REDIRECT_CODES = {301, 302, 303, 307, 308}
DEFAULTS = Settings.model_fields  # the HTTP settings' defaults, declared once


@dataclass(frozen=True)
class HttpSettings:
    """Limits every fetch obeys."""

    timeout: float = DEFAULTS["http_timeout"].default
    connect_timeout: float = 10.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    concurrency: int = DEFAULTS["http_concurrency"].default
    per_host: int = DEFAULTS["http_per_host"].default
    host_delay: float = DEFAULTS["http_host_delay"].default  # seconds between the starts of two requests to a host
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class Validators:
    """What the last successful fetch of a source returned, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Response:
    status: int
    url: str
    content: bytes
    headers: httpx.Headers
    validators: Validators = field(default_factory=Validators)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date (counted from `now`)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds()) if when.tzinfo else None


async def _check_address(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host is (or resolves to) a loopback, private, link-local or reserved address."""
    host = urlsplit(url).hostname
    if not host:
        raise TerminalSourceError(f"no host in URL {url!r}")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransientSourceError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise TerminalSourceError(
                f"refused {host} ({address}): a private or loopback address; "
                "set allow_private_network: true on this source only if it is trusted")


class Fetcher:
    """Fetch URLs for sources with bounded concurrency overall and per host."""

    def __init__(self, settings: HttpSettings | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.settings = s = settings or HttpSettings()
        self._sleep = sleep  # the politeness wait (tests pass their own)
        import httpx

        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
            limits=httpx.Limits(max_connections=s.concurrency * 2, max_keepalive_connections=s.concurrency),
            transport=transport,
        )
        self._all = asyncio.Semaphore(s.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._robots: dict[str, Protego] = {}
        self._next_start: dict[str, float] = {}  # host -> earliest start of its next request (loop time)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def robots_allow(self, url: str, allow_private: bool = False) -> bool:
        """Whether the site's robots.txt lets our user agent fetch `url` (read once per site and run;
        a missing or unreadable robots.txt allows everything)."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        if site not in self._robots:  # Protego: wildcards (`*`, `$`) and the longest matching rule, as Google does
            try:
                response = await self.fetch(f"{site}/robots.txt", allow_private=allow_private)
                rules = response.content.decode("utf-8", errors="replace")
            except SourceError:
                rules = ""
            self._robots[site] = Protego.parse(rules)
        return bool(self._robots[site].can_fetch(url, self.settings.user_agent))

    async def _polite(self, url: str) -> None:
        """Wait so that requests to one host start at least `host_delay` apart."""
        if self.settings.host_delay <= 0:
            return
        host = urlsplit(url).netloc.lower()
        loop = asyncio.get_running_loop()
        start = max(loop.time(), self._next_start.get(host, 0.0))
        self._next_start[host] = start + self.settings.host_delay
        await self._sleep(start - loop.time())

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        return self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))

    async def fetch(self, url: str, *, allow_private: bool = False, validators: Validators | None = None,
                    method: str = "GET", headers: dict[str, str] | None = None, **request: Any) -> Response:
        """Return the response to one request, following at most `max_redirects` redirects.

        Raises TransientSourceError (timeouts, network errors, 429, 5xx) or TerminalSourceError
        (other 4xx, refused address, body over `max_bytes`, redirect loop).
        """
        send_headers = dict(headers or {})
        if validators and validators.etag:
            send_headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            send_headers["If-Modified-Since"] = validators.last_modified
        for _hop in range(self.settings.max_redirects + 1):
            await _check_address(url, allow_private)
            async with self._all, self._host_slot(url):
                await self._polite(url)
                try:  # read timeouts are per chunk: a body that trickles in (slow-loris) needs a total cap
                    response = await asyncio.wait_for(self._send(method, url, send_headers, request),
                                                      self.settings.timeout * 3)
                except TimeoutError:
                    raise TransientSourceError(
                        f"gave up after {self.settings.timeout * 3:g}s: the body kept coming too slowly") from None
            if response.status in REDIRECT_CODES and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                    method, request = "GET", {}
                continue
            return response
        raise TerminalSourceError(f"more than {self.settings.max_redirects} redirects, last to {url}")

    async def _send(self, method: str, url: str, headers: dict[str, str], request: dict[str, Any]) -> Response:
        import httpx

        limit = self.settings.max_bytes
        try:
            async with self._client.stream(method, url, headers=headers, **request) as r:
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise TerminalSourceError(f"response of {int(declared):,} bytes is over the {limit:,}-byte cap")
                chunks: list[bytes] = []
                size = 0
                async for chunk in r.aiter_bytes():  # decoded bytes: a gzip bomb hits the cap too
                    size += len(chunk)
                    if size > limit:
                        raise TerminalSourceError(f"response is over the {limit:,}-byte cap")
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise TransientSourceError(f"timed out after {self.settings.timeout:g}s ({type(exc).__name__})") from exc
        except httpx.DecodingError as exc:
            raise TerminalSourceError(f"undecodable response body: {exc}") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            host = urlsplit(url).netloc
            raise TransientSourceError(f"connection to {host} failed: {exc or type(exc).__name__}") from exc
        status = r.status_code
        if status == 429 or status >= 500:
            wait = retry_after(r.headers.get("retry-after"))
            note = f" (retry after {wait:.0f}s)" if wait else ""
            raise TransientSourceError(f"HTTP {status} {r.reason_phrase} from {url}{note}", wait)
        if status >= 400:
            raise TerminalSourceError(f"HTTP {status} {r.reason_phrase} from {url}")
        return Response(status, str(r.url), b"".join(chunks), r.headers,
                        Validators(r.headers.get("etag"), r.headers.get("last-modified")))
