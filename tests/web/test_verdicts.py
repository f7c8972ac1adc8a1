"""The watch learns from its readers: "pertinent" / "pas pour nous" links in the digest and on the site, a
confirmation page whose button records the verdict, the verdicts exported, scored and turned into proposals."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.conftest import MEMBERS, WATCH_SOURCES, write_config
from tests.web.conftest import PASSWORD, SECRET
from veille import pipeline
from veille.digest.weeks import Week
from veille.models import Item, Member
from veille.tokens import GROUP, member_token, verdict_code, verdict_ok
from veille.web.app import create_app

HTML = {"Accept": "text/html"}
SITE_URL = "https://veille.wsm.example.org"
NOW = datetime(2026, 11, 16, 7, 30, tzinfo=UTC)  # Monday after week 46: the digest's time


def _item(item_id: str, title: str, summary: str = "", day: int = 10) -> Item:
    return Item(id=item_id, source="eau", kind="news", title=title, summary=summary, url=f"https://eau.example/{item_id}",
                published_at=datetime(2026, 11, day, 9, tzinfo=UTC), collected_at=datetime(2026, 11, 15, tzinfo=UTC),
                lang="fr", country="FR")


ITEMS = [  # Polymem follows membranes and drinking water, and the keyword "ultrafiltration"
    _item("pool-1", "Ultrafiltration pour les piscines municipales de Lyon", "Un bassin couvert rénové."),
    _item("pool-2", "Piscines privées : l'ultrafiltration séduit les particuliers", "Un marché de loisirs.", 11),
    _item("muret", "Ultrafiltration de l'eau potable à Muret", "La régie choisit des membranes.", 12),
    _item("chlore", "Des capteurs de chlore connectés sur le réseau de Toulouse", "Mesure en continu.", 13),
    _item("kayak", "Un club de kayak ouvre ses portes", "Sport en eaux vives.", 13),
]


CLOCK = [NOW]  # the watch's clock: tests move it


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    values = {"VEILLE_DB": f"sqlite:///{tmp_path / 'veille.db'}", "VEILLE_SITE_PASSWORD": PASSWORD,
              "VEILLE_SITE_SECRET": SECRET, "VEILLE_SITE_URL": SITE_URL, "VEILLE_TZ": "Europe/Paris",
              "VEILLE_REPORTS": str(tmp_path / "reports")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)  # the command-line tests read them too
    return values


@pytest.fixture
def watch(tmp_path, env):
    directory = write_config(tmp_path, WATCH_SOURCES, MEMBERS)
    CLOCK[0] = NOW
    ctx = pipeline.open_context(directory, env, clock=lambda: CLOCK[0])
    items = [Item(**vars(i)) for i in ITEMS]
    ctx.tagger.tag_many(items)
    ctx.store.upsert_items(items)
    ctx.store.save_tags(items)
    try:
        yield ctx
    finally:
        ctx.close()


def _links(html: str) -> dict[tuple[str, str], str]:
    """{(item id, verdict): address} of the verdict links in a page."""
    out = {}
    for a in BeautifulSoup(html, "html.parser").find_all("a", href=True):
        parts = urlsplit(unescape(a["href"]))
        if parts.path.startswith("/verdict/"):
            out[(parts.path.rsplit("/", 1)[1], parse_qs(parts.query)["v"][0])] = a["href"]
    return out


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_signatures_name_one_reader_and_one_item():
    members = {m["id"]: Member(**m) for m in MEMBERS}
    code = verdict_code(SECRET, "polymem", "muret", members)
    assert code and verdict_ok(SECRET, "polymem", "muret", code, members)
    assert not verdict_ok(SECRET, "polymem", "chlore", code, members)  # another item
    assert not verdict_ok(SECRET, "neosens", "muret", code, members)  # another reader
    assert not verdict_ok("another secret", "polymem", "muret", code, members)
    assert not verdict_ok(None, "polymem", "muret", code, members)
    assert verdict_code("", "polymem", "muret", members) is None  # no secret: no links
    assert verdict_code(SECRET, "stranger", "muret", members) is None
    revoked = {**members, "polymem": members["polymem"].model_copy(update={"site_token": 2})}
    assert not verdict_ok(SECRET, "polymem", "muret", code, revoked)  # raised site_token: old links die
    assert verdict_ok(SECRET, GROUP, "muret", verdict_code(SECRET, GROUP, "muret", members), members)


def test_the_digest_links_each_item_for_its_reader_and_a_click_records_after_confirmation(watch):
    report = pipeline.build_digest(watch, week=Week.parse("2026-W46"), mode="dry-run",
                                   reports_dir=watch.settings.reports_dir, now=NOW)
    folder = watch.settings.reports_dir / "2026-W46"
    group = _links((folder / "digest.html").read_text(encoding="utf-8"))
    member = _links((folder / "members/polymem/digest.html").read_text(encoding="utf-8"))
    listed = {i for i, _ in group}
    assert {"pool-1", "pool-2", "muret", "chlore"} <= listed and "kayak" not in listed  # untagged: not listed
    assert {i for i, _ in member} == {"pool-1", "pool-2", "muret"}  # Polymem's matches
    assert all(parse_qs(urlsplit(unescape(u)).query)["by"] == [GROUP] for u in group.values())
    assert all(parse_qs(urlsplit(unescape(u)).query)["by"] == ["polymem"] for u in member.values())
    text = (folder / "members/polymem/digest.txt").read_text(encoding="utf-8")
    # the week's feedback is the working group's line only
    assert "Retours de la semaine" in (folder / "digest.txt").read_text(encoding="utf-8")
    assert "Retours de la semaine" not in text
    assert "pas pour nous : " + SITE_URL + "/verdict/pool-1?" in text.replace("&amp;", "&")
    assert report.items == 5

    client = TestClient(create_app(watch), follow_redirects=False)
    link = _path(unescape(member[("pool-1", "not_relevant")]))
    page = client.get(link, headers=HTML)  # what a mail scanner does: nothing is recorded
    assert page.status_code == 200 and "Pas pour nous" in page.text and 'method="post"' in page.text
    assert watch.store.verdicts() == []
    form = BeautifulSoup(page.text, "html.parser").find("form")
    fields = {i["name"]: i["value"] for i in form.find_all("input")}
    done = client.post(link, data={**fields, "v": "not_relevant"}, headers=HTML)
    assert done.status_code == 200 and "enregistré" in done.text
    first = watch.store.verdicts()
    assert [(v.item_id, v.reader, v.verdict) for v in first] == [("pool-1", "polymem", "not_relevant")]
    CLOCK[0] = NOW + timedelta(hours=1)
    client.post(link, data={**fields, "v": "not_relevant"}, headers=HTML)  # again: nothing changes
    assert watch.store.verdicts() == first
    client.post(link, data={**fields, "v": "relevant"}, headers=HTML)  # a changed mind replaces it
    assert [(v.item_id, v.verdict, v.at) for v in watch.store.verdicts()] == [
        ("pool-1", "relevant", NOW + timedelta(hours=1))]


def test_a_forged_or_borrowed_link_records_nothing(watch):
    client = TestClient(create_app(watch), follow_redirects=False)
    code = verdict_code(SECRET, "polymem", "pool-1", {m.id: m for m in watch.config.members})
    for path, data in [("/verdict/pool-1?by=polymem&v=relevant&sig=forged", {}),
                       (f"/verdict/muret?by=polymem&v=relevant&sig={code}", {}),  # another item
                       (f"/verdict/pool-1?by=neosens&v=relevant&sig={code}", {}),  # another reader
                       ("/verdict/pool-1", {"by": "polymem", "v": "relevant", "sig": "x"})]:
        assert client.post(path, data=data, headers=HTML).status_code == 403, path
        assert client.get(path, headers=HTML).status_code == 403, path
    assert client.post(f"/verdict/pool-1?by=polymem&sig={code}", data={"v": "maybe"}).status_code == 200
    assert watch.store.verdicts() == []


def test_the_site_gives_each_reader_its_own_links(watch):
    client = TestClient(create_app(watch), follow_redirects=False, base_url=SITE_URL)  # https: secure cookies
    token = member_token(SECRET, watch.config.member("polymem"))
    assert client.get(f"/?token={token}", headers=HTML).status_code == 303
    listed = _links(client.get("/?all=1", headers=HTML).text)
    assert ("muret", "relevant") in listed
    assert all("by=polymem" in unescape(u) for u in listed.values())
    item = _links(client.get("/items/muret", headers=HTML).text)
    assert set(item) == {("muret", "relevant"), ("muret", "not_relevant")}
    group = TestClient(create_app(watch), follow_redirects=False, base_url=SITE_URL)
    assert group.post("/signin", data={"password": PASSWORD}).status_code == 303
    assert all("by=group" in unescape(u) for u in _links(group.get("/?all=1", headers=HTML).text).values())


def test_feedback_export_scores_and_suggestions(watch, veille, tmp_path):
    """Polymem says its two swimming-pool items are not for it and the chlorine sensors are: the exclusion of the
    pools' word and a keyword of the sensors' are proposed, each with the items it puts right."""
    given = [("pool-1", "polymem", "not_relevant"), ("pool-2", "polymem", "not_relevant"),
             ("muret", "polymem", "relevant"), ("chlore", "polymem", "relevant"),  # chlore: not matched today
             ("muret", GROUP, "relevant")]
    for minutes, (item, reader, verdict) in enumerate(given):
        CLOCK[0] = NOW + timedelta(minutes=minutes)
        assert watch.store.record_verdict(item, reader, verdict)
    assert not watch.store.record_verdict("no-such-item", "polymem", "relevant")
    rows = pipeline.feedback_rows(watch)
    assert [(r["id"], r["reader"], r["verdict"]) for r in rows] == given
    scores = {r["reader"]: r for r in pipeline.feedback_scores(watch)}
    polymem = scores["polymem"]
    assert (polymem["verdicts"], polymem["sent"], polymem["sent_relevant"]) == (4, 3, 1)
    assert polymem["precision"] == round(1 / 3, 3)
    assert [m["id"] for m in polymem["missed"]] == ["chlore"]
    assert scores[GROUP]["precision"] == 1.0
    found = pipeline.suggestions(watch, "polymem")
    excludes = [s for s in found if s.kind == "exclude"]
    keywords = [s for s in found if s.kind == "keyword"]
    assert excludes and all(set(s.fixes) <= {"pool-1", "pool-2"} for s in excludes)
    assert any("piscine" in s.term for s in excludes)
    assert keywords and all(s.fixes == ["chlore"] for s in keywords)
    assert not any(s.term in ("ultrafiltration", "muret") for s in found)  # in a relevant item: never excluded

    config = ("--config", tmp_path)
    exported = veille(*config, "feedback", "--format", "csv", "--lang", "en")
    assert exported.code == 0, exported.err
    lines = list(csv.DictReader(io.StringIO(exported.out.lstrip("\ufeff"))))
    assert [(r["reader"], r["id"], r["verdict"]) for r in lines][-1] == ("group", "muret", "relevant")
    assert len(lines) == 5 and lines[0]["title"].startswith("Ultrafiltration pour les piscines")
    scored = json.loads(veille(*config, "eval", "--feedback", "--member", "polymem", "--json").out)
    assert scored[0]["precision"] == round(1 / 3, 3) and scored[0]["missed"][0]["id"] == "chlore"
    printed = veille(*config, "suggest", "--member", "polymem")
    assert printed.code == 0 and "- id: polymem" in printed.out and "exclude:" in printed.out
    assert "keywords:" in printed.out and "Des capteurs de chlore" in printed.out
    assert veille(*config, "eval").code == 2  # neither a file nor --feedback
    assert veille(*config, "suggest", "--member", "nobody").code == 2


def test_a_reader_clicks_its_digest_links_in_chromium(watch, env, tmp_path):
    """Headless Chromium opens Polymem's digest, follows a "pas pour nous" link to the site's confirmation page
    (nothing recorded yet), presses its button (recorded), then changes its mind on the same page."""
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import serve
    from tests.web.test_browser import CHROMIUM_ARGS, SHOTS, _chromium

    executable = _chromium()
    with serve(create_app(watch)) as url:
        ctx = pipeline.open_context(Path(watch.config.directory), {**env, "VEILLE_SITE_URL": url}, clock=lambda: NOW)
        try:
            pipeline.build_digest(ctx, week=Week.parse("2026-W46"), mode="dry-run",
                                  reports_dir=tmp_path / "digests", now=NOW)
        finally:
            ctx.close()
        digest = tmp_path / "digests/2026-W46/members/polymem/digest.html"
        with sync_playwright() as playwright:
            browser_env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                                                  env=browser_env)
            try:
                page = chromium.new_page(locale="fr-FR", viewport={"width": 390, "height": 844})
                page.goto(digest.as_uri())
                entry = page.locator("div.item", has_text="piscines municipales")
                entry.get_by_role("link", name="pas pour nous").click()
                page.wait_for_load_state()
                assert page.url.startswith(url + "/verdict/pool-1?")
                assert watch.store.verdicts() == []  # following the link records nothing
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "verdict-confirm-390.png"), full_page=True)
                page.get_by_role("button", name="Pas pour nous").click()
                page.wait_for_load_state()
                assert "Merci" in page.locator("p.done").inner_text()
                assert [(v.item_id, v.reader, v.verdict) for v in watch.store.verdicts()] == [
                    ("pool-1", "polymem", "not_relevant")]
                page.get_by_role("button", name="Pertinent").click()  # a changed mind
                page.wait_for_load_state()
                assert [v.verdict for v in watch.store.verdicts()] == ["relevant"]
            finally:
                chromium.close()


def test_the_confirmation_page_escapes_a_hostile_title(watch):
    hostile = Item(id="hostile", source="eau", kind="news", title="<script>alert(1)</script> ultrafiltration",
                   url="javascript:alert(1)", collected_at=NOW, lang="fr")
    watch.store.upsert_items([hostile])
    code = verdict_code(SECRET, "polymem", "hostile", {m.id: m for m in watch.config.members})
    page = TestClient(create_app(watch)).get(f"/verdict/hostile?by=polymem&v=relevant&sig={code}", headers=HTML)
    assert page.status_code == 200 and "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "javascript:" not in page.text and page.headers["cache-control"] == "no-store"


def test_group_is_not_a_member_id():
    with pytest.raises(ValueError, match="reserved for the working group"):
        Member(id="group", name="Group")
