"""The list agrees with the weekly digest: one row per story or tender, items with no topic and no member match
hidden, each with a switch; closed deadlines, open tenders, the deadline order, the 404 page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.conftest import STORY, TENDER
from tests.web.conftest import PASSWORD
from veille import pipeline
from veille.digest.weeks import Week
from veille.web import items as items_module
from veille.web.app import create_app

HTML = {"Accept": "text/html"}


@pytest.fixture
def group(watch):
    """The working group, signed in by the shared password."""
    with TestClient(create_app(watch.ctx), follow_redirects=False) as client:
        client.auth = ("anyone", PASSWORD)
        yield client


def soup_of(client: TestClient, url: str) -> BeautifulSoup:
    response = client.get(url, headers=HTML)
    assert response.status_code == 200, (url, response.text[:300])
    return BeautifulSoup(response.text, "html.parser")


def total(soup: BeautifulSoup) -> int:
    """The number in the list's title ("6 items")."""
    return int(re.sub(r"\D", "", soup.select_one("#results-title .count").text))


def card_ids(soup: BeautifulSoup) -> list[str]:
    return [a["href"].rsplit("/", 1)[1] for a in soup.select("article.card h2 a")]


def card(soup: BeautifulSoup, item_id: str):
    return next(c for c in soup.select("article.card") if c.select_one(f'h2 a[href="/items/{item_id}"]'))


def test_two_sources_carrying_one_story_make_one_row(group):
    """The story is listed once (its newer copy, "aussi dans" the other source) and counted once; copies=all
    lists both copies and counts them; the switch links from one to the other."""
    merged = soup_of(group, "/")
    rows = [c for c in merged.select("article.card") if c.h2.text.strip() == STORY[0]]
    assert len(rows) == 1 and card_ids(merged).count("story-water") == 1 and "story-eau" not in card_ids(merged)
    assert rows[0].select_one(".also").text.strip() == "aussi dans : eau"
    assert total(merged) == len(card_ids(merged)) == 6
    switch = merged.select_one("a[data-switch=copies]")
    assert switch.text == "Afficher toutes les copies" and switch["href"] == "/?copies=all"
    every = soup_of(group, switch["href"])
    assert [c.h2.text.strip() for c in every.select("article.card")].count(STORY[0]) == 2
    assert total(every) == len(card_ids(every)) == 8
    assert every.select_one("a[data-switch=copies]")["href"] == "/"
    assert group.get("/items.json").json()["count"] == 6 and group.get("/items.json?copies=all").json()["count"] == 8


def test_one_tender_in_two_notices_is_one_row_with_its_history_on_the_item_page(group):
    """The corrigendum (the newest notice) stands for the tender; the row links to the history on its page."""
    merged = soup_of(group, "/?kind=tender")
    assert [i for i in card_ids(merged) if i.startswith("muret")] == ["muret-corr"]
    history = card(merged, "muret-corr").select_one(".also a")
    assert history.text == "historique : 2 avis" and history["href"] == "/items/muret-corr#historique"
    page = soup_of(group, history["href"].split("#")[0])
    section = page.select_one("#historique")
    assert section.text == "Historique de cet appel d'offres"
    assert [a["href"] for a in section.find_next("ul").select("a")] == ["/items/muret-call"]
    assert TENDER in section.find_next("ul").text


@pytest.mark.parametrize("switches", ["", "copies=all", "all=1", "copies=all&all=1", "open=1", "sort=deadline"])
def test_every_count_equals_the_rows_it_leads_to(group, switches):
    """The title's number is the number of rows; each facet value's number is the number of rows (and the title's
    number) of the view its link opens, with copies merged or not, untagged items hidden or not."""
    start = soup_of(group, f"/?{switches}")
    assert total(start) == len(card_ids(start))
    links = start.select("a[data-facet]")
    assert len(links) >= 5
    for link in links:
        if link["aria-pressed"] == "true":
            continue
        shown = int(link.find_next_sibling("span", class_="count").text)
        target = soup_of(group, link["href"])
        assert total(target) == len(card_ids(target)) == shown, (switches, link["href"])


def test_pages_count_clusters(group, monkeypatch):
    """Two rows a page: the pages list each story and tender once, the page count follows the rows."""
    monkeypatch.setattr(items_module, "PAGE_SIZE", 2)
    first = soup_of(group, "/")
    assert "page 1 sur 3" in first.select_one(".pager").text
    seen, url = [], "/"
    while url:
        page = soup_of(group, url)
        seen += card_ids(page)
        following = page.select_one(".pager a[rel=next]")
        url = following["href"] if following else None
    assert len(seen) == len(set(seen)) == 6
    assert seen == [i["id"] for i in group.get("/items.json").json()["items"]]
    assert "page 3 sur 3" in soup_of(group, "/?page=9").select_one(".pager").text  # past the end: the last page
    assert "page 1 sur 4" in soup_of(group, "/?copies=all").select_one(".pager").text


def test_items_with_no_topic_and_no_member_match_are_hidden_unless_asked(group):
    """Hidden from the list and its facet counts by default; `all=1` (a visible switch) shows them."""
    hidden = soup_of(group, "/")
    assert "logiciels" not in card_ids(hidden)
    news = hidden.select_one("a[data-facet=kind][data-value=news]").find_next_sibling("span").text
    assert news == "2"  # the story (once) and the Neosens match; not the untagged item
    switch = hidden.select_one("a[data-switch=all]")
    assert switch.text == "Les afficher" and switch["href"] == "/?all=1"
    assert "sont masqués" in switch.parent.text
    shown = soup_of(group, switch["href"])
    assert "logiciels" in card_ids(shown) and total(shown) == 7
    assert shown.select_one("a[data-facet=kind][data-value=news]").find_next_sibling("span").text == "3"
    assert shown.select_one("a[data-switch=all]").text == "Les masquer"
    rows = csv.DictReader(io.StringIO(group.get("/items.csv").content.decode("utf-8-sig")), delimiter=";")
    assert [r["identifiant"] for r in rows].count("logiciels") == 0  # VEILLE_SITE_LANG: fr
    assert "logiciels" in group.get("/items.csv?all=1").text


def test_closed_deadlines_read_clos_and_are_grey(group, watch):
    """A deadline before the site's clock reads "clos" in the muted class, not bold; an open one stays bold."""
    page = soup_of(group, "/?kind=tender")
    closed = card(page, "chlore").select_one(".deadline")
    assert closed.name == "span" and "closed" in closed["class"] and closed.text == "clos le lun. 16 nov. 2026, 12:00"
    opened = card(page, "gaillac").select_one(".deadline")
    assert opened.name == "strong" and "closed" not in opened["class"] and "clos" not in opened.text
    item = soup_of(group, "/items/chlore").select_one("dl.fields .deadline")
    assert item.name == "span" and "closed" in item["class"] and item.text.endswith("· clos")
    assert "closed" not in soup_of(group, "/items/gaillac").select_one("dl.fields .deadline")["class"]
    rule = re.search(r"\.deadline\.closed \{([^}]*)\}", group.get("/static/site.css").text).group(1)
    assert "var(--muted)" in rule and "font-weight: 400" in rule


def test_open_tenders_only(group):
    """`open=1` keeps the tenders whose deadline is ahead of the site's clock: not the closed one, not the one
    without a deadline, no news; the switch and the chip take it off again."""
    start = soup_of(group, "/")
    switch = start.select_one("a[data-switch=open]")
    assert switch.text == "appels d'offres ouverts seulement" and switch["aria-pressed"] == "false"
    page = soup_of(group, switch["href"])
    assert sorted(card_ids(page)) == ["gaillac", "muret-corr"] and total(page) == 2
    assert page.select_one("a[data-switch=open]")["aria-pressed"] == "true"
    chip = next(c for c in page.select(".chips .chip") if "ouverts" in c.text)
    assert chip.a["href"] == "/"
    assert sorted(i["id"] for i in group.get("/items.json?open=1").json()["items"]) == ["gaillac", "muret-corr"]


def test_sort_by_deadline_soonest_first_and_no_deadline_last(group):
    """sort=deadline: the soonest deadline first (the closed one is the soonest), items without one last (newest
    first among them); a visible link sorts and another sorts back."""
    start = soup_of(group, "/")
    by_deadline = start.select_one("a[data-sort=deadline]")
    assert by_deadline.text == "date limite la plus proche" and by_deadline["href"] == "/?sort=deadline"
    page = soup_of(group, by_deadline["href"])
    assert card_ids(page) == ["chlore", "gaillac", "muret-corr", "biofilm", "albi", "story-water"]
    assert page.select_one("a[data-sort=deadline]")["aria-current"] == "true"
    assert page.select_one("a[data-sort=date]")["href"] == "/"
    assert card_ids(soup_of(group, "/?sort=deadline&open=1")) == ["gaillac", "muret-corr"]


def test_bad_switch_values_are_named(group):
    for query, named in (("copies=some", "copies"), ("all=yes", "all"), ("open=2", "open"), ("sort=price", "sort")):
        response = group.get(f"/items.json?{query}")
        assert response.status_code == 400 and named in response.text, query


def test_unknown_paths_and_items_get_the_sites_404_page(group):
    """A page in the site's layout, saying what is missing, with a link back to the list (not a bare text)."""
    for url, says in (("/nowhere", "pas de page à cette adresse"), ("/items/nope", "pas dans l'archive"),
                      ("/items.pdf", "no export format 'pdf'")):
        response = group.get(url, headers=HTML)
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html"), url
        page = BeautifulSoup(response.text, "html.parser")
        assert page.select_one("header.top nav") is not None and page.title.text == "Introuvable · veille"
        assert page.h1.text == "Introuvable" and says in page.select_one(".notfound").text, url
        assert page.select_one(".notfound a.back")["href"] == "/"
    assert group.get("/items.pdf").text.startswith("404 no export format")  # a script still gets one line


def test_the_list_of_a_week_counts_what_the_digest_lists(group, watch):
    """The week's view on the site (the digest's own link) shows as many rows as the digest lists; with all=1
    as many as it counts."""
    report = pipeline.build_digest(watch.ctx, week=Week(2026, 46), reports_dir=watch.directory / "w46")
    text = (watch.directory / "w46" / "2026-W46" / "digest.txt").read_text(encoding="utf-8")
    unlisted = int(re.search(r"(\d+) autres? éléments?, sans sujet", text).group(1))
    week = "/?since=2026-11-09&until=2026-11-15"
    assert total(soup_of(group, week)) == report.items - unlisted == 4
    assert total(soup_of(group, week + "&all=1")) == report.items
