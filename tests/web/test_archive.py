"""The site is the faithful archive: a sent digest is shown as it was sent, with its date and its recipients; the
site speaks the browser's language among French and English; the digest's own counts agree."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD
from veille import pipeline
from veille.digest.weeks import Week
from veille.web.app import create_app

HTML = {"Accept": "text/html"}
SENT_AT = datetime(2026, 11, 16, 6, 30, tzinfo=UTC)


def test_a_sent_digest_is_shown_as_it_was_sent(site, smtp, tmp_path):
    ctx = pipeline.open_context(site.directory, {**site.env, "VEILLE_SMTP_HOST": smtp.host,
                                                 "VEILLE_SMTP_PORT": str(smtp.port), "VEILLE_SMTP_TLS": "none",
                                                 "VEILLE_REPORTS": str(tmp_path)}, clock=lambda: SENT_AT)
    try:
        report = pipeline.build_digest(ctx, week=Week(2026, 46), mode="send", reports_dir=tmp_path, now=SENT_AT)
        assert sum(e.status == "sent" for e in report.emails if e.digest == "full") == 1
        sent_html = (tmp_path / "2026-W46" / "digest.html").read_text(encoding="utf-8")
        # the files change afterwards (a rebuild, another day): the site still shows what was sent
        (tmp_path / "2026-W46" / "digest.html").write_text("<html><body>rebuilt later</body></html>")
        with TestClient(create_app(ctx), follow_redirects=False) as client:
            client.auth = ("anyone", PASSWORD)
            page = client.get("/digests/2026-W46", headers=HTML)
            listing = client.get("/digests", headers=HTML)
        stored = ctx.store.sent_digest("2026-W46")
    finally:
        ctx.close()
    assert page.status_code == 200 and "rebuilt later" not in page.text
    shown = BeautifulSoup(page.text, "html.parser")
    assert "Envoyée le lun. 16 nov. 2026, 07:30 à 1 destinataire." in shown.text
    first_title = BeautifulSoup(sent_html, "html.parser").select_one("p.title").get_text()
    assert first_title in shown.select_one(".digest").get_text()
    week = next(li for li in BeautifulSoup(listing.text, "html.parser").select("ul.weeks li") if "2026-W46" in str(li))
    assert "Semaine 46 (9–15 nov. 2026)" in week.text and "envoyé le lun. 16 nov. 2026" in week.text
    items = int(re.search(r"(\d+) éléments?, envoyé", week.text).group(1))
    assert stored is not None and items == stored["items"] == report.items - _unlisted(sent_html) > 0


def test_the_site_speaks_the_browsers_language(site):
    with TestClient(create_app(site.ctx), follow_redirects=False) as client:
        client.auth = ("anyone", PASSWORD)
        french = client.get("/", headers=HTML)
        english = client.get("/", headers={**HTML, "Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
        german = client.get("/", headers={**HTML, "Accept-Language": "de-DE,de;q=0.9"})
    assert french.headers["content-language"] == "fr" and '<html lang="fr">' in french.text
    assert "Rechercher" in french.text and "Éléments" in french.text and "Eaux usées et boues" in french.text
    assert english.headers["content-language"] == "en" and '<html lang="en">' in english.text
    assert "Search" in english.text and "Wastewater &amp; sludge" in english.text and "Rechercher" not in english.text
    assert german.headers["content-language"] == "fr"  # neither: VEILLE_SITE_LANG (fr)


def test_the_digest_counts_agree_with_each_other(site, tmp_path):
    """The headline, each section's count and the numbers' total count the same items."""
    pipeline.build_digest(site.ctx, week=Week(2026, 46), reports_dir=tmp_path, now=SENT_AT)
    text = (tmp_path / "2026-W46" / "digest.txt").read_text(encoding="utf-8")
    headline = int(re.search(r"\n  (\d+) nouv\w+ appels? d'offres pour vous", text).group(1))
    sections = {label: int(n) for label, n in re.findall(r"\n([A-ZÉÈ' ]+) \((\d+)\)\n-+\n", text)}
    assert sections.get("APPELS D'OFFRES", 0) == headline
    total = int(re.search(r"\n  tous types\s+(\d+)", text).group(1))
    assert total == sum(sections.values())
    closing = int(re.search(r"\n  (\d+) appels? d'offres se termin", text).group(1))
    assert closing > 0 and f"SE TERMINENT BIENTÔT ({closing})" in text
    block = text.split(f"SE TERMINENT BIENTÔT ({closing})\n", 1)[1].split("\n\n", 1)[0]
    assert len([line for line in block.splitlines() if line.startswith("* ")]) == closing


def _unlisted(html: str) -> int:
    found = re.search(r"(\d+) autres? éléments?, sans sujet", BeautifulSoup(html, "html.parser").get_text())
    return int(found.group(1)) if found else 0


def test_a_members_digest_and_its_site_link_count_the_same(site, tmp_path):
    """Polymem's digest says "Voir les N éléments de la semaine"; its link, opened with its token, lists N."""
    ctx = pipeline.open_context(site.directory, {**site.env, "VEILLE_SITE_URL": "http://testserver"},
                                clock=lambda: SENT_AT)
    try:
        pipeline.build_digest(ctx, week=Week(2026, 46), member_ids=["polymem"], reports_dir=tmp_path, now=SENT_AT)
        text = (tmp_path / "2026-W46" / "members" / "polymem" / "digest.txt").read_text(encoding="utf-8")
        said, link = re.search(r"Voir les (\d+) éléments de la semaine sur le site de la veille : (\S+)", text).groups()
        sections = sum(int(n) for n in re.findall(r"\n[A-ZÉÈ' ]+ \((\d+)\)\n-+\n", text))
        with TestClient(create_app(ctx), follow_redirects=True) as client:
            path = link.removeprefix("http://testserver")
            page = client.get(path, headers=HTML)
            json_view = client.get(path.replace("/?", "/items.json?", 1)).json()
    finally:
        ctx.close()
    shown = int(re.search(r"(\d+) éléments?", BeautifulSoup(page.text, "html.parser").select_one(
        "#results-title .count").text).group(1))
    assert int(said) == sections == shown == json_view["count"] > 0
