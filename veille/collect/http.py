"""The one place an HTTP client is built: polite, bounded, conditional, refusing private addresses."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

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
    source_deadline: float = DEFAULTS["http_source_deadline"].default  # one source, from its first request's start
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


# what to call when a request gets its slot: the collect starts the source's deadline then (set per source)
request_started: ContextVar[Callable[[], None] | None] = ContextVar("request_started", default=None)
Resolver = Callable[[str], Awaitable[list[str]]]  # host name -> its addresses (tests inject their own)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT, ::ffff:0:a.b.c.d
_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible, ::a.b.c.d


async def system_resolver(host: str) -> list[str]:
    """The addresses the system resolver gives for `host` (TransientSourceError when it gives none)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransientSourceError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, translated, compatible, NAT64, 6to4, Teredo), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if any(address in net for net in (*_NAT64, _TRANSLATED)) or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(text: str) -> bool:
    """Whether an address may be fetched from without `allow_private_network`: globally reachable, and so is
    the IPv4 address it embeds (`::ffff:127.0.0.1`, `64:ff9b::7f00:1`, `2002:7f00:1::` are loopback)."""
    address = ipaddress.ip_address(text.split("%")[0])
    inner = embedded_ipv4(address)
    return address.is_global and (inner is None or inner.is_global)


def _pinned(url: str, address: str) -> str:
    """`url` with its host replaced by the vetted address: the connection goes where the check looked."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings of every fetch (certifi's authorities, as httpx's default), made once per process: a
    queue worker builds a client per job, and loading the authorities took a fifth of its time."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class Fetcher:
    """Fetch URLs for sources with bounded concurrency overall and per host."""

    def __init__(self, settings: HttpSettings | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, resolver: Resolver = system_resolver):
        self.settings = s = settings or HttpSettings()
        self._sleep = sleep  # the politeness wait (tests pass their own)
        self._resolve = resolver
        import httpx

        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
            verify=_tls(),
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
            address = await self._vetted(url, allow_private)
            async with self._all, self._host_slot(url):
                await self._polite(url)
                started = request_started.get()
                if started is not None:
                    started()
                try:  # read timeouts are per chunk: a body that trickles in (slow-loris) needs a total cap
                    response = await asyncio.wait_for(self._send(method, url, address, send_headers, request),
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

    async def _vetted(self, url: str, allow_private: bool) -> str:
        """The address to connect to for `url`: its host resolved once, every answer vetted (a loopback, private,
        link-local or reserved one refuses the URL unless `allow_private`), the first answer kept."""
        host = urlsplit(url).hostname
        if not host:
            raise TerminalSourceError(f"no host in URL {url!r}")
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            addresses = await self._resolve(host)
        if not addresses:
            raise TransientSourceError(f"cannot resolve host {host!r}: no address")
        if not allow_private:
            for address in addresses:
                if not is_public(address):
                    raise TerminalSourceError(
                        f"refused {host} ({address}): a private or loopback address; "
                        "set allow_private_network: true on this source only if it is trusted")
        return addresses[0]

    async def _send(self, method: str, url: str, address: str, headers: dict[str, str],
                    request: dict[str, Any]) -> Response:
        import httpx

        limit = self.settings.max_bytes
        parts = urlsplit(url)
        # connect to the vetted address; the server still sees its name (Host header, TLS server name)
        pinned = {**headers, "Host": parts.netloc.rpartition("@")[2]}
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        try:
            async with self._client.stream(method, _pinned(url, address), headers=pinned, extensions=extensions,
                                           **request) as r:
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
        return Response(status, url, b"".join(chunks), r.headers,
                        Validators(r.headers.get("etag"), r.headers.get("last-modified")))
