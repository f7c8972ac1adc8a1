"""Routes of the reports site through Starlette's test client, over a store filled by a real collect."""

from __future__ import annotations

import csv
import io
import json

import feedparser
import openpyxl
import pytest
import yaml
from bs4 import BeautifulSoup
from icalendar import Calendar
from starlette.testclient import TestClient

from tests.web.conftest import HOSTILE, PASSWORD, SECRET
from veille import pipeline
from veille.errors import InputError
from veille.models import ItemQuery
from veille.reasons import explain
from veille.tokens import member_token
from veille.web.app import create_app

HTML = {"Accept": "text/html"}


@pytest.fixture
def client(site):
    with TestClient(create_app(site.ctx), follow_redirects=False) as c:
        yield c


@pytest.fixture
def signed(client):
    client.auth = ("anyone", PASSWORD)
    return client


def ids(payload: dict) -> list[str]:
    return [i["id"] for i in payload["items"]]


def test_nothing_is_listed_without_signing_in(client, site, tmp_path):
    """Browsers go to the sign-in page; scripts get 401 with a Basic challenge; a wrong password, a forged
    or a revoked token are refused the same way."""
    response = client.get("/", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/signin?next=%2F"
    for path in ("/items.json", "/items.csv", "/items.xlsx", "/items.atom", "/items.ics", "/sources", "/digests"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"] == 'Basic realm="veille"'
        assert "Ultrafiltration" not in refused.text
    assert client.get("/items.json", auth=("x", "wrong")).status_code == 401
    assert client.get("/items.json?token=polymem.forged").status_code == 401
    token = member_token(SECRET, site.ctx.config.member("polymem"))
    assert client.get(f"/items.json?token={token}").status_code == 200
    # the admin raises polymem's site_token in members.yaml: the old link stops working, a new one works
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "sources.yaml").write_text((site.directory / "sources.yaml").read_text(encoding="utf-8"))
    members = yaml.safe_load((site.directory / "members.yaml").read_text(encoding="utf-8"))
    members["members"][0]["site_token"] = 2
    (edited / "members.yaml").write_text(yaml.safe_dump(members, allow_unicode=True), encoding="utf-8")
    revoked = pipeline.open_context(edited, site.env)
    with TestClient(create_app(revoked), follow_redirects=False) as other:
        assert other.get(f"/items.json?token={token}").status_code == 401
        fresh = member_token(SECRET, revoked.config.member("polymem"))
        assert fresh != token and other.get(f"/items.json?token={fresh}").status_code == 200
    revoked.close()


def test_site_refuses_to_start_without_password_or_secret(site):
    ctx = site.reopen(VEILLE_SITE_PASSWORD="", VEILLE_SITE_SECRET="")
    with pytest.raises(InputError, match="VEILLE_SITE_PASSWORD"):
        create_app(ctx)
    ctx.close()


def test_password_sign_in_keeps_a_session_until_the_password_changes(client, site):
    assert client.post("/signin", data={"password": "nope", "next": "/"}).status_code == 401
    response = client.post("/signin", data={"password": PASSWORD, "next": "/?kind=tender"})
    assert response.status_code == 303 and response.headers["location"] == "/?kind=tender"
    assert client.get("/?kind=tender", headers=HTML).status_code == 200
    assert client.post("/signin", data={"password": PASSWORD, "next": "//evil.example"}).headers["location"] == "/"
    changed = site.reopen(VEILLE_SITE_PASSWORD="a new password")
    with TestClient(create_app(changed), follow_redirects=False, cookies=client.cookies) as other:
        assert other.get("/", headers=HTML).status_code == 303  # the old session no longer opens the site
    changed.close()
    client.post("/signout")
    assert client.get("/", headers=HTML).status_code == 303


def test_member_token_link_signs_in_and_leaves_the_address_bar(client, site):
    token = member_token(SECRET, site.ctx.config.member("neosens"))
    response = client.get(f"/?token={token}&topic=sensors", headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/?topic=sensors"
    page = client.get("/?topic=sensors", headers=HTML)
    assert page.status_code == 200 and "Neosens" in page.text
    assert client.get(f"/items.csv?token={token}").status_code == 200  # scripted: the token alone is enough


def test_filters_combine_and_match_the_store(signed, site):
    everything = signed.get("/items.json?all=1&copies=all").json()
    assert everything["count"] == 10
    assert signed.get("/items.json").json()["count"] == 8  # the two items with no topic nor member match hidden
    view = signed.get("/items.json?topic=membranes&kind=news").json()
    assert view["count"] == site.ctx.store.count(ItemQuery(topics=("membranes",), kinds=("news",))) > 0
    assert all("membranes" in i["topics"] and i["kind"] == "news" for i in view["items"])
    two = signed.get("/items.json?topic=membranes&topic=drinking_water").json()
    assert all({"membranes", "drinking_water"} <= set(i["topics"]) for i in two["items"])
    assert set(ids(two)) < set(ids(everything))
    member = signed.get("/items.json?member=polymem&region=FR").json()
    assert member["count"] and all("polymem" in i["members"] and i["region"] == "FR" for i in member["items"])
    assert ids(signed.get("/items.json?source=board").json()) == ids(signed.get("/items.json?kind=tender").json())
    assert signed.get("/items.json?since=2026-11-11&until=2026-11-11").json()["count"] < everything["count"]


def test_search_ignores_accents_and_case(signed):
    plain = ids(signed.get("/items.json?q=epuration").json())
    assert plain and plain == ids(signed.get("/items.json?q=%C3%89puration").json()) == \
        ids(signed.get("/items.json?q=EPURATION").json())
    found = signed.get("/items.json?q=epuration").json()["items"]
    assert any("Station d'épuration de Lavaur" in i["title"] for i in found)
    assert signed.get("/items.json?q=epuration&kind=news").json()["count"] == 0


def test_bad_parameters_are_named(signed):
    response = signed.get("/items.json?topic=nope")
    assert response.status_code == 400 and "unknown topic 'nope'" in response.text
    assert "not a date" in signed.get("/?since=yesterday", headers=HTML).text
    assert signed.get("/items.csv?member=nobody").status_code == 400


def test_list_page_shows_chips_facet_counts_and_export_links(signed, site):
    soup = BeautifulSoup(signed.get("/?topic=membranes", headers=HTML).text, "html.parser")
    chips = soup.select(".chips .chip")
    assert len(chips) == 1 and "Membranes" in chips[0].text
    assert chips[0].a["href"] == "/"  # removing the only filter
    counts = {a["data-value"]: int(a.find_next_sibling("span").text) for a in soup.select("a[data-facet=kind]")}
    assert counts == site.ctx.store.facets(ItemQuery(topics=("membranes",)))["kind"]
    assert sum(counts.values()) == site.ctx.store.count(ItemQuery(topics=("membranes",)))
    toggled = soup.select_one("a[data-facet=kind][data-value=news]")["href"]
    assert toggled == "/?topic=membranes&kind=news"
    exports = {a.text: a["href"] for a in soup.select(".exports a")}
    assert exports["CSV"] == "/items.csv?topic=membranes"
    assert exports["flux Atom"] == "http://testserver/items.atom?topic=membranes"  # absolute: for a feed reader
    for label in ("Rechercher", "Du", "Au"):
        assert soup.find("label", string=label) is not None


def test_exports_carry_the_same_view(signed):
    view = signed.get("/items.json?topic=membranes").json()
    text = signed.get("/items.csv?topic=membranes").content.decode("utf-8-sig")  # VEILLE_SITE_LANG: fr
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert [r["identifiant"] for r in rows] == ids(view) and all("membranes" in r["sujets"] for r in rows)
    book = openpyxl.load_workbook(io.BytesIO(signed.get("/items.xlsx?topic=membranes").content))
    sheet = book["items"]
    header = [c.value for c in sheet[1]]
    assert [r[header.index("identifiant")] for r in sheet.iter_rows(min_row=2, values_only=True)] == ids(view)
    assert all(not str(v).startswith("=") for r in sheet.iter_rows(values_only=True) for v in r if v)
    feed = feedparser.parse(signed.get("/items.atom?topic=membranes").content)
    assert not feed.bozo and len(feed.entries) == view["count"]
    assert feed.feed.links[0]["href"].endswith("/items.atom?topic=membranes")
    assert [e.title for e in feed.entries] == [i["title"] for i in view["items"]]
    calendar = Calendar.from_ical(signed.get("/items.ics").content)
    events = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    tenders = [i for i in signed.get("/items.json?kind=tender").json()["items"] if i["deadline_at"]]
    assert len(events) == len(tenders) == 2 and "Date limite : Station d'épuration de Lavaur : extension" in events


def test_item_page_shows_fields_reasons_and_link(signed, site):
    tender = next(i for i in site.ctx.store.items(ItemQuery(kinds=("tender",))) if i.buyer)
    soup = BeautifulSoup(signed.get(f"/items/{tender.id}", headers=HTML).text, "html.parser")
    text = soup.get_text(" ")
    assert tender.title in text and "Ville de Lavaur" in text and "lun. 30 nov. 2026, 12:00" in text
    assert soup.select_one("a.original")["href"] == tender.url
    labels = {t.id: t.label_in("fr") for t in site.ctx.config.topics}
    for topic, tag in tender.topics.items():  # the evidence as a French reader reads it
        assert explain(tag.evidence[0], "fr", labels) in text, topic
    for member, match in tender.members.items():
        assert explain(match.reasons[0], "fr", labels) in text, member
    assert signed.get("/items/nope", headers=HTML).status_code == 404


def test_hostile_titles_are_text_and_headers_forbid_scripts(signed):
    page = signed.get("/items/hostile1", headers=HTML)
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    assert "javascript:" not in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_digests_and_sources_pages(signed, site):
    listing = signed.get("/digests", headers=HTML)
    assert listing.status_code == 200 and "/digests/" in listing.text
    digest = signed.get("/digests/2026-W46", headers=HTML)
    assert digest.status_code == 200 and "semaine 46" in digest.text and "Se terminent bientôt" in digest.text
    assert (site.directory / "reports" / "2026-W46" / "digest.html").is_file()
    assert signed.get("/digests/2026-W99", headers=HTML).status_code == 400
    assert signed.get("/digests/2099-W01", headers=HTML).status_code == 404
    sources = BeautifulSoup(signed.get("/sources", headers=HTML).text, "html.parser")
    assert [th.text for th in sources.select("tbody th")] == ["eau", "water", "board"]
    tenders = json.loads(signed.get("/items.json?kind=tender").text)["count"]
    assert tenders == site.ctx.store.count(ItemQuery(kinds=("tender",), one_per_cluster=True, tagged=True))


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
                                    "http://evil.example/", "/%09/evil.example", "javascript:alert(1)"])
def test_sign_in_never_redirects_off_the_site(client, site, target):
    """Whatever `next` or the path says, the answer after a sign-in goes to a path of this site."""
    signed_in = client.post("/signin", data={"password": PASSWORD, "next": target})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    token = member_token(SECRET, site.ctx.config.member("polymem"))
    by_token = client.get(f"/signin?next={target}&token={token}", headers=HTML)
    assert by_token.headers.get("location", "/") in ("/", "/signin")
    smuggled = client.get(f"//evil.example/?token={token}", headers=HTML)
    assert smuggled.status_code in (303, 404) and not smuggled.headers.get("location", "/").startswith("//")


def test_failed_sign_ins_are_limited_per_address_then_allowed_again(site):
    """Ten failures a minute from one address, then 429 with Retry-After (the right password too, until
    the window has passed); the clock is the test's."""
    clock = [0.0]
    with TestClient(create_app(site.ctx, monotonic=lambda: clock[0]), follow_redirects=False) as client:
        for _ in range(10):
            assert client.post("/signin", data={"password": "wrong", "next": "/"}).status_code == 401
        blocked = client.post("/signin", data={"password": PASSWORD, "next": "/"})
        assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 60
        assert client.get("/items.json", auth=("x", PASSWORD)).status_code == 429
        assert client.get("/items.json?token=polymem.forged").status_code == 429
        clock[0] += 61
        assert client.post("/signin", data={"password": PASSWORD, "next": "/"}).status_code == 303
        assert client.get("/items.json", auth=("x", PASSWORD)).status_code == 200


def test_odd_credentials_and_filters_get_401_or_400_never_500(site, signed):
    with TestClient(create_app(site.ctx)) as anonymous:
        assert anonymous.get("/items.json?token=polymem.été€").status_code == 401
        assert anonymous.get("/items.json", headers={"Authorization": "Basic w6l0w6k6w6l0w6k="}).status_code == 401
        assert anonymous.get("/items.json", headers={"Authorization": "Basic ***"}).status_code == 401
    for query in ("page=٣", "page=" + "9" * 5000, "since=1899-12-31", "until=2101-01-01", "since=0001-01-01",
                  "page=²"):
        assert signed.get(f"/items.json?{query}").status_code == 400, query
    for week in ("0001-W01", "9999-W52", "2026-W٤٦"):
        assert signed.get(f"/digests/{week}", headers=HTML).status_code == 400, week


def test_a_week_outside_the_archive_builds_no_file_and_pages_are_not_cached(signed, site):
    before = sorted(p.name for p in (site.directory / "reports").glob("*")) if (site.directory / "reports").is_dir() \
        else []
    assert signed.get("/digests/2001-W05", headers=HTML).status_code == 404
    after = sorted(p.name for p in (site.directory / "reports").glob("*")) if (site.directory / "reports").is_dir() \
        else []
    assert after == before and "2001-W05" not in after
    assert signed.get("/", headers=HTML).headers["cache-control"] == "no-store"
    assert signed.get("/items.csv").headers["cache-control"] == "no-store"


@pytest.mark.parametrize("how", ["password", "token"])
def test_sign_out_ends_the_session_on_the_server(site, how):
    """A session cookie copied before sign-out opens nothing afterwards (the server remembers the sign-out)."""
    with TestClient(create_app(site.ctx), follow_redirects=False) as client:
        if how == "password":
            assert client.post("/signin", data={"password": PASSWORD, "next": "/"}).status_code == 303
        else:
            token = member_token(SECRET, site.ctx.config.member("polymem"))
            assert client.get(f"/?token={token}", headers=HTML).status_code == 303
        copied = dict(client.cookies)
        assert client.get("/", headers=HTML).status_code == 200
        assert client.post("/signout").status_code == 303
    with TestClient(create_app(site.ctx), follow_redirects=False, cookies=copied) as replay:
        assert replay.get("/", headers=HTML).status_code == 303  # to the sign-in page
        assert replay.get("/items.json").status_code == 401
