"""Members subscribe to a view: its Atom feed and its calendar of tender deadlines open by the member's own
token, since feed readers and calendar apps send no cookie; a dead token is told so in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import feedparser
import httpx
import pytest
import yaml
from bs4 import BeautifulSoup
from icalendar import Calendar
from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD, SECRET, serve
from veille import pipeline
from veille.export.ics import latest_per_tender
from veille.tokens import member_token
from veille.web.app import create_app

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)  # the site's clock: nothing here reads the wall clock
HTML = {"Accept": "text/html"}
DEAD_LINK = "Ce lien n'est plus valide : demandez-en un nouveau à l'animateur de la veille."
# what a feed reader and a calendar app send: no cookie, and not text/html
READER = {"Accept": "application/atom+xml, application/xml;q=0.9, */*;q=0.1"}
CALENDAR = {"Accept": "text/calendar, */*;q=0.1"}


@pytest.fixture
def ctx(site) -> Iterator[pipeline.Context]:
    """The test site's store and configuration, on the test's clock."""
    ctx = pipeline.open_context(site.directory, site.env, clock=lambda: NOW)
    yield ctx
    ctx.close()


def _client(ctx: pipeline.Context) -> TestClient:
    return TestClient(create_app(ctx, monotonic=lambda: 0.0), follow_redirects=False)


def _token(ctx: pipeline.Context, member_id: str) -> str:
    token = member_token(SECRET, ctx.config.member(member_id))
    assert token
    return token


def _member_page(client: TestClient, token: str, query: str) -> BeautifulSoup:
    """The list page as a member sees it after opening its digest's link (the token then leaves the URL)."""
    arrived = client.get(f"/?token={token}&{query}", headers=HTML)
    assert arrived.status_code == 303 and arrived.headers["location"] == f"/?{query}"
    shown = client.get(arrived.headers["location"], headers=HTML)
    assert shown.status_code == 200 and shown.headers["referrer-policy"] == "same-origin"
    return BeautifulSoup(shown.text, "html.parser")


def _subscriptions(soup: BeautifulSoup) -> dict[str, str]:
    """The page's Atom, iCalendar and webcal links (found by address, whatever their labels say)."""
    hrefs = [a["href"] for a in soup.select(".exports a")]
    return {"atom": next(h for h in hrefs if h.startswith("http") and "/items.atom" in h),
            "ics": next(h for h in hrefs if h.startswith("http") and "/items.ics" in h),
            "webcal": next(h for h in hrefs if h.startswith("webcal:"))}


def test_a_members_list_links_its_feed_and_calendar_with_its_token(ctx):
    """A member's page links the view's feed, calendar and webcal subscription with its token and the page's
    filters, in absolute addresses a reader can be given; downloads opened in the browser need no token."""
    token = _token(ctx, "polymem")
    with _client(ctx) as client:
        soup = _member_page(client, token, "kind=tender&region=FR")
    links = _subscriptions(soup)
    assert links == {
        "atom": f"http://testserver/items.atom?token={token}&kind=tender&region=FR",
        "ics": f"http://testserver/items.ics?token={token}&kind=tender&region=FR",
        "webcal": f"webcal://testserver/items.ics?token={token}&kind=tender&region=FR",
    }
    assert soup.select_one('link[rel=alternate][type="application/atom+xml"]')["href"] == links["atom"]
    csv_link = next(a["href"] for a in soup.select(".exports a") if "/items.csv" in a["href"])
    assert csv_link == "/items.csv?kind=tender&region=FR"
    assert "clé personnelle" in " ".join(p.get_text() for p in soup.select("p.exports"))


def test_the_links_open_with_no_cookie_over_loopback(ctx):
    """Over real HTTP, the feed and the calendar links of a member's page, fetched with no cookie as a feed
    reader and a calendar app do, answer 200 at once (no redirect, no session cookie): a valid Atom feed of
    the view, whose self link is that address, and a valid calendar of the view's tender deadlines."""
    token = _token(ctx, "neosens")
    with serve(create_app(ctx, monotonic=lambda: 0.0)) as base:
        with httpx.Client(base_url=base, follow_redirects=True) as browser:  # keeps the session cookie
            page = browser.get("/?token=" + token + "&kind=tender", headers=HTML)
        assert page.status_code == 200 and "token" not in str(page.url)
        links = _subscriptions(BeautifulSoup(page.text, "html.parser"))
        assert all(urlsplit(url).netloc == urlsplit(base).netloc for url in links.values())
        assert urlsplit(links["webcal"])._replace(scheme="http").geturl() == links["ics"]

        feed_answer = httpx.get(links["atom"], headers=READER)
        calendar_answer = httpx.get(links["ics"], headers=CALENDAR)
        # what the member's view lists (one row per tender, what it may see), newest first as in the feed
        view = httpx.get(links["atom"].replace("/items.atom", "/items.json")).json()["items"]
    expected = sorted((ctx.store.item(i["id"]) for i in view), key=lambda i: (-(i.published_at or i.collected_at)
                                                                           .timestamp(), i.id))
    assert feed_answer.status_code == 200 and "set-cookie" not in feed_answer.headers
    assert feed_answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(feed_answer.content)
    assert not feed.bozo and [e.title for e in feed.entries] == [i.title for i in expected]
    assert next(link.href for link in feed.feed.links if link.rel == "self") == links["atom"]
    assert token not in feed.feed.id  # the feed's identity outlives the token

    assert calendar_answer.status_code == 200 and "set-cookie" not in calendar_answer.headers
    assert calendar_answer.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(calendar_answer.content).walk("VEVENT")
    tenders = latest_per_tender([i for i in expected if i.deadline_at])
    assert sorted(str(e["summary"]) for e in events) == sorted(f"Date limite : {i.title}" for i in tenders)
    assert len(events) == 2 and all(e.decoded("dtend") in {i.deadline_at for i in tenders} for e in events)


def test_a_browser_opening_the_feed_link_gets_the_feed_not_a_redirect(ctx):
    """A click on the Atom link (a browser asks for text/html) gets the feed itself: exports keep the
    token in the URL and set no session, where HTML pages send the browser to the address without it."""
    token = _token(ctx, "polymem")
    with _client(ctx) as client:
        for fmt in ("atom", "ics"):
            answer = client.get(f"/items.{fmt}?token={token}&kind=tender", headers=HTML)
            assert answer.status_code == 200 and "set-cookie" not in answer.headers, fmt
            assert answer.headers["cache-control"] == "no-store"
            assert answer.headers["referrer-policy"] == "same-origin"
        assert not client.cookies


def test_each_member_page_carries_its_own_token_only(ctx):
    """Two members' pages of the same view carry different tokens, each its own and never the other's; the
    working group's page (shared password) carries none."""
    tokens = {m: _token(ctx, m) for m in ("polymem", "neosens")}
    assert tokens["polymem"] != tokens["neosens"]
    for member, token in tokens.items():
        with _client(ctx) as client:
            soup = _member_page(client, token, "topic=membranes")
        for url in _subscriptions(soup).values():
            assert dict(parse_qsl(urlsplit(url).query))["token"] == token, (member, url)
        others = [t for m, t in tokens.items() if m != member]
        assert not any(other in str(soup) for other in others), member
    with _client(ctx) as client:
        client.auth = ("anyone", PASSWORD)
        group = client.get("/?topic=membranes", headers=HTML)
    links = _subscriptions(BeautifulSoup(group.text, "html.parser"))
    assert links["atom"] == "http://testserver/items.atom?topic=membranes"
    assert links["webcal"] == "webcal://testserver/items.ics?topic=membranes"
    assert "token" not in group.text


def _revoked(site, ctx: pipeline.Context, tmp_path: Path) -> pipeline.Context:
    """The same site after the admin raised polymem's `site_token` in members.yaml."""
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "sources.yaml").write_text((site.directory / "sources.yaml").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    members = yaml.safe_load((site.directory / "members.yaml").read_text(encoding="utf-8"))
    assert members["members"][0]["id"] == "polymem"
    members["members"][0]["site_token"] = 2
    (edited / "members.yaml").write_text(yaml.safe_dump(members, allow_unicode=True), encoding="utf-8")
    return pipeline.open_context(edited, site.env, clock=lambda: NOW)


def test_a_revoked_or_wrong_token_is_told_that_its_link_is_dead(site, ctx, tmp_path):
    """After its `site_token` is raised, a member's old link shows the message: 403 and a page for a
    browser (not the password form), 401 and the message as text for the feed and the calendar; a forged
    token the same, even beside a valid session; the member's new link opens the feed."""
    old = _token(ctx, "polymem")
    revoked = _revoked(site, ctx, tmp_path)
    try:
        with _client(revoked) as client:
            page = client.get(f"/?token={old}&kind=tender", headers=HTML)
            assert page.status_code == 403 and page.headers["referrer-policy"] == "same-origin"
            soup = BeautifulSoup(page.text, "html.parser")
            assert soup.select_one("[role=alert]").get_text(strip=True) == DEAD_LINK
            assert soup.find("input", {"type": "password"}) is None and soup.select_one(".who") is None
            assert soup.select_one("a[href^='/signin']")["href"] == "/signin?next=/%3Fkind%3Dtender"
            for fmt, headers in (("atom", READER), ("ics", CALENDAR), ("atom", HTML)):
                refused = client.get(f"/items.{fmt}?token={old}&kind=tender", headers=headers)
                assert refused.status_code == 401 and refused.text == f"401 {DEAD_LINK}\n", fmt
                assert refused.headers["content-type"] == "text/plain; charset=utf-8"
                assert "Station d'épuration" not in refused.text
            fresh = member_token(SECRET, revoked.config.member("polymem"))
            assert fresh and fresh != old
            assert client.get(f"/items.atom?token={fresh}", headers=READER).status_code == 200
            # signed in (a session cookie), a forged token is still refused in words, not let in
            assert client.get(f"/?token={fresh}", headers=HTML).status_code == 303
            assert client.get("/", headers=HTML).status_code == 200
            assert client.get("/?token=polymem.forged", headers=HTML).status_code == 403
            assert client.get("/items.ics?token=polymem.forged").text == f"401 {DEAD_LINK}\n"
    finally:
        revoked.close()


def test_bad_tokens_count_against_the_failed_attempts_limit(ctx):
    """Ten dead links a minute from one address, then 429 with Retry-After, a good token too, until the
    window has passed (the clock is the test's)."""
    clock = [0.0]
    good = _token(ctx, "polymem")
    with TestClient(create_app(ctx, monotonic=lambda: clock[0]), follow_redirects=False) as client:
        for attempt in range(10):
            assert client.get(f"/items.atom?token=polymem.wrong{attempt}", headers=READER).status_code == 401
        blocked = client.get(f"/items.atom?token={good}", headers=READER)
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 60
        assert client.get("/?token=polymem.wrong", headers=HTML).status_code == 429
        clock[0] += 61
        assert client.get(f"/items.atom?token={good}", headers=READER).status_code == 200
