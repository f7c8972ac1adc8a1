"""Competing members share the site: a member sees only its own matches and reasons, never another member's name,
matches or profile, on the pages and in every download; the working group sees them all, and so do members when
members.yaml says `digest.members_see_each_other: true`."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.web.conftest import NOW, PASSWORD, SECRET
from veille import pipeline
from veille.tokens import member_token
from veille.web.app import create_app

HTML = {"Accept": "text/html"}
# what would betray Neosens to Polymem: its name, its id, and the reasons of its matches
NEOSENS = ("Neosens", "neosens", "topic sensors", "keyword biofilm", "mot-clé 'biofilm'")
PAGES = ["/", "/?all=1&copies=all", "/?kind=tender&sort=deadline", "/?open=1", "/?topic=sensors", "/?q=biofilm&all=1",
         "/items/chlore", "/items/biofilm", "/items/story-water", "/items/muret-corr", "/items/muret-call",
         "/digests", "/digests/2026-W45", "/digests/2026-W46", "/digests/2026-W47", "/sources"]
EXPORTS = ["json", "csv", "xlsx", "atom", "ics"]


def signed_in_as(ctx: pipeline.Context, member: str) -> TestClient:
    """A browser signed in by the member's link (a token session)."""
    client = TestClient(create_app(ctx), follow_redirects=False)
    token = member_token(SECRET, ctx.config.member(member))
    assert client.get(f"/?token={token}", headers=HTML).status_code == 303
    return client


def text_of(response) -> str:
    """What a download holds as text: an XLSX's shared strings and sheets, anything else as it is."""
    if response.headers["content-type"].startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return " ".join(book.read(name).decode("utf-8") for name in book.namelist() if name.endswith(".xml"))
    return response.text


def everything(client: TestClient) -> dict[str, str]:
    """Every page and every download of every view of the archive, as text, by address."""
    out = {}
    for url in PAGES:
        response = client.get(url, headers=HTML)
        assert response.status_code == 200, url
        out[url] = response.text
    for view in ("", "all=1&copies=all", "kind=tender", "member=polymem"):
        for fmt in EXPORTS:
            url = f"/items.{fmt}?{view}"
            response = client.get(url)
            assert response.status_code == 200, url
            out[url] = text_of(response)
    return out


@pytest.fixture
def polymem(watch):
    with signed_in_as(watch.ctx, "polymem") as client:
        yield client


@pytest.fixture
def group(watch):
    with TestClient(create_app(watch.ctx), follow_redirects=False) as client:
        client.auth = ("anyone", PASSWORD)
        yield client


def test_a_member_session_never_shows_another_member(polymem):
    """No page and no download (JSON, CSV, XLSX, Atom, iCalendar) of a Polymem session names Neosens or shows
    its reasons, whatever the view; the item Neosens alone matches, with no topic, is hidden by default as an
    untagged item (nothing tells Polymem that someone's profile matched it)."""
    for url, body in everything(polymem).items():
        for secret in NEOSENS:
            assert secret not in body, (url, secret)
    listed = BeautifulSoup(polymem.get("/", headers=HTML).text, "html.parser")
    assert "/items/biofilm" not in str(listed) and "5 éléments" in listed.select_one("#results-title").text
    assert [a.text for a in listed.select("a[data-facet=member]")] == ["Polymem"]


def test_a_member_sees_its_own_match_and_reasons(polymem):
    """"pour vous : <its reasons>" on the list and the item page; nothing for an item it does not match."""
    listed = BeautifulSoup(polymem.get("/", headers=HTML).text, "html.parser")
    row = next(c for c in listed.select("article.card") if c.select_one('a[href="/items/story-water"]'))
    assert row.select_one(".for.mine").text == "pour vous : Membranes et filtration"
    page = BeautifulSoup(polymem.get("/items/muret-corr", headers=HTML).text, "html.parser")
    assert page.select_one(".reasons.mine").text.startswith("pour vous : keyword ultrafiltration")
    other = BeautifulSoup(polymem.get("/items/chlore", headers=HTML).text, "html.parser")
    assert "Votre profil ne correspond pas à cet élément." in other.text
    assert polymem.get("/items.json?member=polymem").json()["count"] == 2


def test_a_member_cannot_filter_on_another_member(polymem):
    """Another member's profile is unknown to a member: 400, and the answer lists no other member."""
    for url in ("/?member=neosens", "/items.json?member=neosens", "/items.csv?member=neosens&all=1"):
        response = polymem.get(url, headers=HTML if url.startswith("/?") else {})
        assert response.status_code == 400 and "valid: polymem" in response.text, url
        assert "Neosens" not in response.text and "Capteurs et suivi" not in response.text


def test_the_working_group_sees_every_member(group):
    """The password session sees each member's name and reasons on the pages and in the downloads."""
    listed = group.get("/", headers=HTML).text
    assert "pour Neosens" in listed and "pour Polymem" in listed
    assert "— Capteurs et suivi de la qualité de l&#39;eau</li>" in group.get("/items/chlore", headers=HTML).text
    assert "neosens" in group.get("/items.csv").text and "topic sensors" in group.get("/items.json").text
    assert "pour Polymem" in group.get("/digests/2026-W45", headers=HTML).text
    soup = BeautifulSoup(listed, "html.parser")
    assert [a.text for a in soup.select("a[data-facet=member]")] == ["Polymem", "Neosens"]


def test_members_see_each_other_when_members_yaml_says_so(watch, tmp_path):
    """`digest.members_see_each_other: true`: a member's session shows every member, as the working group's does."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "sources.yaml").write_text((watch.directory / "sources.yaml").read_text(encoding="utf-8"))
    members = yaml.safe_load((watch.directory / "members.yaml").read_text(encoding="utf-8"))
    members["digest"]["members_see_each_other"] = True
    (shared / "members.yaml").write_text(yaml.safe_dump(members, allow_unicode=True), encoding="utf-8")
    ctx = pipeline.open_context(shared, {**watch.env, "VEILLE_REPORTS": str(tmp_path / "reports")}, clock=lambda: NOW)
    try:
        with signed_in_as(ctx, "polymem") as client:
            listed = client.get("/", headers=HTML).text
            assert "pour Neosens" in listed and "/items/biofilm" in listed and "pour vous" not in listed
            chlore = client.get("/items/chlore", headers=HTML).text
            assert "— Capteurs et suivi de la qualité de l&#39;eau</li>" in chlore
            assert "neosens" in client.get("/items.csv").text
            assert client.get("/items.json?member=neosens").status_code == 200
    finally:
        ctx.close()
