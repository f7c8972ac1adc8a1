"""End to end in headless Chromium (Debian's package, driven by Playwright): sign in, filter, search,
open an item, download the CSV, read the Atom feed; screenshots go to test-output/site/."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import feedparser
import pytest

from tests.web.conftest import PASSWORD, SECRET, serve
from veille.models import ItemQuery
from veille.tokens import member_token
from veille.web.app import create_app

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "site"
# read at import: the tests' clean environment drops VEILLE_* variables
BROWSER_REQUIRED = os.environ.get("VEILLE_TEST_BROWSER") == "required"
# what the list shows by default: one row per cluster, items with a topic or a member match
LISTED = ItemQuery(one_per_cluster=True, tagged=True)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "headless Chromium not installed (Debian package chromium; .ci/run installs it)"
        if BROWSER_REQUIRED:  # CI: a missing browser is a failure, not a skip
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def server(site) -> Iterator[str]:
    """The site served by uvicorn on a free loopback port, in a thread."""
    with serve(create_app(site.ctx)) as url:
        yield url


@pytest.fixture(scope="module")
def watch_server(watch) -> Iterator[str]:
    """The `watch` site (copies, notices, deadlines around its clock, untagged items) served the same way."""
    with serve(create_app(watch.ctx)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # the browser runs on the real clock even in the shifted-date run: libfaketime hangs Chromium's timers,
        # and the dates under test are the server's, which stays under faketime
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS, env=env)
        yield chromium
        chromium.close()


def sign_in(page, server: str) -> None:
    """Sign in with the shared password on the sign-in form, as a French reader (the page is on /signin)."""
    page.get_by_label("Mot de passe partagé").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(server + "/")


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query)


def test_sign_in_filter_search_open_download_and_subscribe(browser, server, site, tmp_path):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(server + "/")
    assert urlsplit(page.url).path == "/signin"
    page.screenshot(path=str(SHOTS / "signin.png"))
    sign_in(page, server)
    total = site.ctx.store.count(LISTED)
    assert f"{total} éléments" in page.locator("#results-title").inner_text()

    # two filters, by clicking facet values
    page.locator("a[data-facet=kind][data-value=tender]").click()
    page.wait_for_url("**/?kind=tender")
    page.locator("a[data-facet=topic][data-value=wastewater]").click()
    page.wait_for_url("**/?topic=wastewater&kind=tender")
    assert sorted(_query(page.url)) == [("kind", "tender"), ("topic", "wastewater")]
    chips = page.locator(".chips .chip").all_inner_texts()
    assert len(chips) == 2 and any("Appels d'offres" in c for c in chips) and any("Eaux usées" in c for c in chips)
    expected = site.ctx.store.items(replace(LISTED, kinds=("tender",), topics=("wastewater",)))
    assert page.locator("article.card").count() == len(expected) > 0
    page.screenshot(path=str(SHOTS / "filtered.png"), full_page=True)

    # full-text search, with and without accents: the same items
    page.goto(server + "/")
    results = {}
    for word in ("épuration", "epuration"):
        page.get_by_role("searchbox", name="Rechercher").fill(word)
        page.get_by_role("button", name="Appliquer").click()
        page.wait_for_load_state()
        results[word] = page.locator("article.card h2").all_inner_texts()
    assert results["épuration"] == results["epuration"] and any("Lavaur" in t for t in results["epuration"])
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)

    # an item
    page.get_by_role("link", name="Station d'épuration de Lavaur : extension").click()
    page.wait_for_load_state()
    details = page.locator("dl.fields").inner_text()
    assert "Ville de Lavaur" in details and "Date limite" in details
    assert page.locator("h2", has_text="Sujets").count() == 1
    page.screenshot(path=str(SHOTS / "item.png"), full_page=True)

    # the CSV of a filtered view, downloaded as a user would
    page.goto(server + "/?topic=membranes")
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")  # VEILLE_SITE_LANG: fr
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    wanted = site.ctx.store.items(replace(LISTED, topics=("membranes",)))
    assert sorted(r["identifiant"] for r in rows) == sorted(i.id for i in wanted) and rows
    assert all("membranes" in r["sujets"].split(";") for r in rows)

    # the Atom feed of the same view, as a feed reader gets it
    feed_url = page.get_by_role("link", name="flux Atom").get_attribute("href")
    assert feed_url == f"{server}/items.atom?topic=membranes"  # absolute, for a reader; no token for the group
    response = context.request.get(feed_url)
    feed = feedparser.parse(response.body())
    assert response.status == 200 and not feed.bozo
    assert sorted(e.title for e in feed.entries) == sorted(i.title for i in wanted)

    # on a phone
    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844},
                                storage_state=context.storage_state())
    mobile = phone.new_page()
    mobile.goto(server + "/?kind=tender")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    mobile.screenshot(path=str(SHOTS / "phone.png"))
    phone.close()
    context.close()


def test_member_link_and_unauthorised_access(browser, server, site):
    stranger = browser.new_context(locale="fr-FR")
    response = stranger.request.get(server + "/items.csv")
    assert response.status == 401 and "Ultrafiltration" not in response.text()
    page = stranger.new_page()
    page.goto(server + "/items/hostile1")
    assert urlsplit(page.url).path == "/signin"
    stranger.close()

    member = browser.new_context(locale="fr-FR")
    page = member.new_page()
    token = member_token(SECRET, site.ctx.config.member("polymem"))
    page.goto(f"{server}/?token={token}&member=polymem")
    assert "token" not in page.url and _query(page.url) == [("member", "polymem")]
    assert page.locator(".who").inner_text() == "Polymem"
    assert page.locator("article.card").count() == site.ctx.store.count(replace(LISTED, member="polymem"))
    page.screenshot(path=str(SHOTS / "member.png"), full_page=True)
    # the feed link as a feed reader is given it: it opens with no cookie
    feed_url = page.get_by_role("link", name="flux Atom").get_attribute("href")
    assert feed_url == f"{server}/items.atom?token={token}&member=polymem"
    reader = browser.new_context(locale="fr-FR")
    feed = reader.request.get(feed_url)
    assert feed.status == 200 and not feedparser.parse(feed.body()).bozo
    reader.close()
    member.close()

    # a revoked or mistyped link says so, in the readers' language
    dead = browser.new_context(locale="fr-FR")
    page = dead.new_page()
    response = page.goto(f"{server}/?token=polymem.revoked")
    assert response is not None and response.status == 403
    assert "Ce lien n'est plus valide" in page.get_by_role("alert").inner_text()
    page.screenshot(path=str(SHOTS / "invalid-link.png"))
    dead.close()

def test_switches_closed_deadlines_and_member_view_on_a_phone(browser, watch_server, watch):
    """On a 390 px screen: the switches are links that work without JavaScript, a closed deadline is grey and not
    bold, nothing scrolls sideways; a member's session shows "pour vous" and no other member."""
    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.goto(watch_server + "/signin")
    sign_in(page, watch_server)
    for url in ("/", "/?copies=all&all=1&sort=deadline", "/items/muret-corr", "/nowhere"):
        page.goto(watch_server + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{url} is {width}px wide on a 390px screen"
    page.goto(watch_server + "/")
    page.get_by_role("link", name="date limite la plus proche").click()
    page.wait_for_url("**/?sort=deadline")
    page.get_by_role("link", name="appels d'offres ouverts seulement").click()
    page.wait_for_url("**/?open=1&sort=deadline")
    assert page.locator("article.card h2").all_inner_texts()[0].startswith("Réhabilitation du réseau")
    page.get_by_role("link", name="Afficher toutes les copies").click()
    page.wait_for_url("**/?open=1&copies=all&sort=deadline")
    assert page.locator("article.card").count() == 3  # the two notices of Muret, Gaillac
    page.goto(watch_server + "/?kind=tender")
    closed = page.locator(".deadline.closed").first
    style = closed.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).fontWeight]")
    assert closed.inner_text().startswith("clos") and style[0] != "rgb(170, 51, 51)" and int(style[1]) < 600
    page.screenshot(path=str(SHOTS / "phone-tenders.png"), full_page=True)
    phone.close()

    member = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = member.new_page()
    page.goto(f"{watch_server}/?token={member_token(SECRET, watch.ctx.config.member('polymem'))}")
    assert page.locator(".who").inner_text() == "Polymem"
    story = next(t for t in page.locator("article.card").all_inner_texts() if "Gruissan" in t)
    assert "pour vous : Membranes et filtration" in story and "aussi dans : eau" in story
    assert "Neosens" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "phone-member.png"), full_page=True)
    member.close()
