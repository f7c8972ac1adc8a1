"""The HTTP fetcher over a real loopback server: headers, gzip, conditional GET, caps, refusals."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from veille import USER_AGENT
from veille.collect.http import Fetcher, HttpSettings, Validators, is_public
from veille.errors import TerminalSourceError, TransientSourceError


def fetch(url: str, settings: HttpSettings | None = None, **kwargs):
    async def go():
        async with Fetcher(settings or HttpSettings(host_delay=0)) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def test_user_agent_and_gzip(http):
    """Requests name the project in User-Agent, accept gzip, and the body arrives decoded."""
    response = fetch(http.url("eau.rss"), allow_private=True)
    request = http.requests_to("/eau.rss")[0]
    assert request.headers["user-agent"] == USER_AGENT and "veille" in USER_AGENT
    assert "gzip" in request.headers["accept-encoding"]
    assert response.content.startswith(b"<?xml") and response.status == 200
    assert response.validators.etag and response.validators.last_modified


def test_conditional_get_gets_304(http):
    """With the stored ETag and Last-Modified, the server answers 304 Not Modified."""
    first = fetch(http.url("eau.rss"), allow_private=True)
    second = fetch(http.url("eau.rss"), allow_private=True, validators=first.validators)
    sent = http.requests_to("/eau.rss")[1].headers
    assert sent["if-none-match"] == first.validators.etag
    assert sent["if-modified-since"] == first.validators.last_modified
    assert second.not_modified and second.content == b""


def test_private_addresses_are_refused_by_default(http):
    """Loopback is refused unless the source allows private networks; nothing reaches the server."""
    with pytest.raises(TerminalSourceError, match="private or loopback"):
        fetch(http.url("eau.rss"))
    assert http.requests == []


def test_redirects_are_followed_and_capped(http):
    ok = fetch(http.url("redirect/2/eau.rss"), allow_private=True)
    assert ok.status == 200 and b"<rss" in ok.content
    with pytest.raises(TerminalSourceError, match="more than 2 redirects"):
        fetch(http.url("redirect/5/eau.rss"), HttpSettings(max_redirects=2, host_delay=0), allow_private=True)


def test_response_size_is_capped(http):
    with pytest.raises(TerminalSourceError, match="byte cap"):
        fetch(http.url("huge/200000"), HttpSettings(max_bytes=50_000, host_delay=0), allow_private=True)


def test_timeouts_and_server_errors_are_transient(http):
    with pytest.raises(TransientSourceError, match="timed out"):
        fetch(http.url("slow/2/eau.rss"), HttpSettings(timeout=0.2, host_delay=0), allow_private=True)
    with pytest.raises(TransientSourceError, match="HTTP 503"):
        fetch(http.url("status/503"), allow_private=True)
    with pytest.raises(TerminalSourceError, match="HTTP 404"):
        fetch(http.url("missing.rss"), allow_private=True)


def test_connection_refused_is_transient():
    with pytest.raises(TransientSourceError, match=r"connection to 127\.0\.0\.1:9 failed"):
        fetch("http://127.0.0.1:9/feed.rss", allow_private=True)


def test_validators_unused_without_state(http):
    fetch(http.url("eau.rss"), allow_private=True, validators=Validators())
    assert "if-none-match" not in http.requests_to("/eau.rss")[0].headers


def test_requests_to_one_host_are_spaced(http):
    """With a politeness delay, requests to the same host start at least that far apart (the waits are
    recorded, not slept: the loop's clock does not move while they are asked for)."""
    starts: list[float] = []

    async def record(seconds: float) -> None:
        starts.append(asyncio.get_running_loop().time() + seconds)  # when the request was allowed to start

    async def go():
        async with Fetcher(HttpSettings(host_delay=0.3), sleep=record) as fetcher:
            await asyncio.gather(*(fetcher.fetch(http.url("eau.rss"), allow_private=True) for _ in range(3)))

    asyncio.run(go())
    starts.sort()
    assert len(starts) == 3 and [round(b - a, 3) for a, b in itertools.pairwise(starts)] == [0.3, 0.3]


@pytest.mark.parametrize(("rules", "path", "allowed"), [
    ("User-agent: *\nDisallow: /tenders/\nAllow: /tenders/open.rss\n", "/tenders/open.rss", True),  # Allow after
    ("User-agent: *\nDisallow: /tenders/\nAllow: /tenders/open.rss\n", "/tenders/closed.rss", False),
    ("User-agent: *\nDisallow: /*.pdf$\n", "/notice.pdf", False),  # wildcard and end anchor
    ("User-agent: *\nDisallow: /*.pdf$\n", "/notice.pdf.html", True),
    ("User-agent: *\nDisallow: /*/private/\n", "/a/private/feed.rss", False),
    ("User-agent: otherbot\nDisallow: /\n", "/feed.rss", True),  # rules for another agent
    ("", "/feed.rss", True),
])
def test_robots_rules_follow_the_standard(http, rules, path, allowed):
    """robots.txt as RFC 9309 reads it: the longest matching rule wins, `*` and `$` are wildcards."""
    http.overrides["/robots.txt"] = rules.encode()

    async def go():
        async with Fetcher(HttpSettings(host_delay=0)) as fetcher:
            return await fetcher.robots_allow(http.url(path.lstrip("/")), allow_private=True)

    assert asyncio.run(go()) is allowed


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1", "fe80::1", "fc00::1", "::127.0.0.1",
                                     "::ffff:127.0.0.1", "::ffff:0:7f00:1", "64:ff9b::7f00:1", "64:ff9b::a00:1",
                                     "2002:7f00:1::", "2002:c0a8:101::", "2001:0:4136:e378:8000:63bf:80ff:fffe",
                                     "192.0.2.1", "100.64.0.1"])
def test_addresses_that_reach_private_networks_are_not_public(address):
    """Loopback and private addresses, and the IPv6 forms that embed one, are refused like the IPv4 forms."""
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "64:ff9b::5db8:d822", "2002:5db8:d822::"])
def test_public_addresses_are_public(address):
    assert is_public(address)


class Resolver:
    """A resolver the test controls: a list of answers per call, the calls counted (no name leaves the test)."""

    def __init__(self, *answers: list[str]):
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def _fetch_with(resolver: Resolver, url: str, **kwargs):
    async def go():
        async with Fetcher(HttpSettings(host_delay=0), resolver=resolver) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def test_the_address_checked_is_the_address_connected_to(http):
    """Resolved once, connected to that answer: a second answer (a rebinding DNS) is never used."""
    port = http.base_url.rsplit(":", 1)[1]
    resolver = Resolver(["127.0.0.1"], ["10.255.255.1"])  # the second answer would not connect at all
    response = _fetch_with(resolver, f"http://feeds.test:{port}/eau.rss", allow_private=True)
    assert response.status == 200 and b"<rss" in response.content and resolver.calls == ["feeds.test"]
    assert http.requests_to("/eau.rss")[0].headers["host"] == f"feeds.test:{port}"
    assert response.url == f"http://feeds.test:{port}/eau.rss"  # links are read against the name


@pytest.mark.parametrize("answers", [["93.184.216.34", "127.0.0.1"], ["::ffff:127.0.0.1"], ["64:ff9b::a00:1"]])
def test_a_name_with_any_private_answer_is_refused_before_connecting(http, answers):
    port = http.base_url.rsplit(":", 1)[1]
    with pytest.raises(TerminalSourceError, match="a private or loopback address"):
        _fetch_with(Resolver(answers), f"http://feeds.test:{port}/eau.rss")
    assert http.requests_to("/eau.rss") == []
