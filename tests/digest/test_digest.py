"""`veille digest` end to end: collected items → files → email received by a real SMTP server."""

from __future__ import annotations

import csv
import email
import re
from email import policy

import pytest

from tests.conftest import MEMBERS, SITE, feed_source, write_config
from veille.store import Store


@pytest.fixture
def collected(tmp_path, http, veille):
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), country="FR"),
                                                feed_source("water", http.url("water.atom"))], MEMBERS)
    assert veille("--config", directory, "collect").code == 0
    return directory


def _smtp_env(monkeypatch, smtp) -> None:
    monkeypatch.setenv("VEILLE_SMTP_HOST", smtp.host)
    monkeypatch.setenv("VEILLE_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("VEILLE_SMTP_TLS", "none")
    monkeypatch.setenv("VEILLE_MAIL_FROM", "veille@wsm.example.org")


def test_week_boundaries_select_items(collected, veille):
    """Items of 15 Nov 23:30 Paris are in W46; those of 3 Nov are in W45, the previous week."""
    result = veille("--config", collected, "digest", "--week", "2026-W46")
    assert result.code == 0, result.err
    assert "digest 2026-W46: 5 items" in result.out
    items_csv = (collected / "reports/2026-W46/items.csv").open(encoding="utf-8-sig", newline="")
    titles = {r["titre"] for r in csv.DictReader(items_csv, delimiter=";")}  # digest.lang: fr
    assert "Un capteur de biofilm pour les canalisations d'eau potable" in titles  # Sunday 23:30 Paris
    assert "Sewer overflow rules tightened in Ontario" not in titles  # week 45
    text = (collected / "reports/2026-W46/digest.txt").read_text(encoding="utf-8")
    # the numbers count what the digest lists: 4 of the 5 items (one has no topic and no match), 1 the week before
    assert re.search(r"\n  tous types\s+4\s+1\s+\+3\n", text)  # this week, previous week, change
    assert "ACTUALITÉS (4)" in text
    assert "1 autre élément, sans sujet ni correspondance, n'est compté nulle part ici" in text


def test_send_delivers_multipart_email(collected, veille, smtp, monkeypatch):
    """The working group and the member who asked get an email: text + HTML, links, topics, no script (in
    English here: `digest.lang: en`)."""
    members = (collected / "members.yaml").read_text(encoding="utf-8")
    (collected / "members.yaml").write_text(members.replace("digest:\n", "digest:\n  lang: en\n", 1), encoding="utf-8")
    _smtp_env(monkeypatch, smtp)
    result = veille("--config", collected, "digest", "--week", "2026-W46", "--send")
    assert result.code == 0, result.err
    received = {rcpts[0]: email.message_from_bytes(raw, policy=policy.default)
                for rcpts, raw in smtp.handler.messages}
    assert set(received) == {"group@wsm.example.org", "veille@polymem.example.org"}
    message = received["group@wsm.example.org"]
    assert message["Subject"] == "Water market watch — week 46 (9–15 Nov 2026)"
    assert message["From"] == "veille@wsm.example.org"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Usine d'eau potable : ultrafiltration sur fibres creuses à Castanet" in text
    assert "https://fixture.veille.invalid/eau/uf-castanet?id=7" in text
    assert 'href="https://fixture.veille.invalid/eau/uf-castanet?id=7"' in html
    assert "Membranes &amp; filtration" in html and "Membranes & filtration" in text
    assert "for Polymem" in html
    # nothing from a source can inject markup, script or external resources
    lowered = html.lower()
    assert "<script" not in lowered and "javascript:" not in lowered and "onerror" not in lowered
    assert "<style" not in lowered and 'style="' in lowered  # CSS inlined
    assert "src=" not in lowered and "<link" not in lowered
    assert "&lt;img src=x onerror=alert(1)&gt;" not in html  # the hostile title was reduced to text upstream
    assert "PFAS dans l'eau du robinet" in text
    member = received["veille@polymem.example.org"]
    member_text = member.get_body(("plain",)).get_content()
    assert "Polymem" in member["Subject"]
    assert "for you: Membranes & filtration: “ultrafiltration” in the title" in member_text
    # a member sees its own matches and reasons, never another member's name (members_see_each_other: false)
    assert "Neosens" in text and "Neosens" not in member_text
    assert "Neosens" not in member.get_body(("html",)).get_content()
    assert "Résultats trimestriels" not in member_text  # matches no profile


def test_second_send_skips_recipients_already_served(collected, veille, smtp, monkeypatch):
    _smtp_env(monkeypatch, smtp)
    veille("--config", collected, "digest", "--week", "2026-W46", "--send")
    result = veille("--config", collected, "digest", "--week", "2026-W46", "--send")
    assert result.out.count("already-sent:") == 2
    assert len(smtp.handler.messages) == 2
    veille("--config", collected, "digest", "--week", "2026-W46", "--send", "--resend")
    assert len(smtp.handler.messages) == 4


def test_without_smtp_emails_go_to_outbox(collected, veille):
    result = veille("--config", collected, "digest", "--week", "2026-W46", "--send")
    assert result.code == 0
    outbox = collected / "reports/2026-W46/outbox"
    eml = outbox / "group@wsm.example.org.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message.is_multipart() and message.get_body(("html",)) is not None
    assert (outbox / "polymem" / "veille@polymem.example.org.eml").exists()


def test_dry_run_sends_nothing(collected, veille, smtp, monkeypatch):
    _smtp_env(monkeypatch, smtp)
    result = veille("--config", collected, "digest", "--week", "2026-W46", "--dry-run")
    assert result.code == 0 and "would-send: group@wsm.example.org" in result.out
    assert smtp.handler.messages == []


def test_member_digest_on_request(collected, veille):
    result = veille("--config", collected, "digest", "--week", "2026-W46", "--member", "neosens")
    assert result.code == 0
    text = (collected / "reports/2026-W46/members/neosens/digest.txt").read_text(encoding="utf-8")
    assert "capteur de biofilm" in text and "ultrafiltration" not in text
    assert not (collected / "reports/2026-W46/digest.txt").exists()
    assert veille("--config", collected, "digest", "--member", "nobody").code == 2


def test_failing_smtp_server_keeps_files_and_exits_1(tmp_path, http, veille, monkeypatch):
    """A server refusing the message: a clear error naming it, exit 1, digest files kept, nothing recorded."""
    from veille.demo.smtp import start_smtp

    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"))], MEMBERS)
    veille("--config", directory, "collect")
    controller, _ = start_smtp(None, refuse="554 5.7.1 Message rejected by policy")
    try:
        monkeypatch.setenv("VEILLE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("VEILLE_SMTP_PORT", str(controller.port))
        monkeypatch.setenv("VEILLE_SMTP_TLS", "none")
        result = veille("--config", directory, "digest", "--week", "2026-W46", "--send")
    finally:
        controller.stop()
    assert result.code == 1
    assert (f"SMTP server 127.0.0.1:{controller.port} did not accept 2 messages: "
            "group@wsm.example.org: 554 5.7.1 Message rejected by policy") in result.err
    assert (directory / "reports/2026-W46/digest.html").exists()
    # recorded as refused (not sent): reported, and not tried again without --resend
    assert Store.open(f"sqlite:///{directory / 'veille.db'}").delivered("2026-W46", "full") == {
        "group@wsm.example.org": "refused"}


def test_unreachable_smtp_server(collected, veille, monkeypatch):
    monkeypatch.setenv("VEILLE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VEILLE_SMTP_PORT", "9")
    monkeypatch.setenv("VEILLE_SMTP_TLS", "none")
    result = veille("--config", collected, "digest", "--week", "2026-W46", "--send")
    assert result.code == 1 and "cannot deliver through SMTP server 127.0.0.1:9" in result.err


def test_bad_week_argument_exits_2(collected, veille):
    result = veille("--config", collected, "digest", "--week", "2026-46")
    assert result.code == 2 and "YYYY-Www" in result.err




def test_same_story_from_two_sources_is_listed_once(tmp_path, http, veille):
    """A story carried by two feeds appears once in the digest, with "also in: <other source>"."""
    copy = (SITE / "eau.rss").read_text(encoding="utf-8").replace("fx-", "copy-").replace(
        "https://Fixture.Veille.invalid/eau/uf-castanet?utm_source=rss&amp;id=7#top",
        "https://reprise.example.org/uf-castanet")
    http.overrides["/reprise.rss"] = copy.encode()
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), country="FR"),
                                                feed_source("reprise", http.url("reprise.rss"), country="FR")], MEMBERS)
    assert veille("--config", directory, "collect").code == 0
    veille("--config", directory, "digest", "--week", "2026-W46")
    text = (directory / "reports/2026-W46/digest.txt").read_text(encoding="utf-8")
    assert text.count("Usine d'eau potable : ultrafiltration sur fibres creuses à Castanet") == 1
    assert "aussi dans : reprise" in text or "aussi dans : eau" in text


def test_failing_and_silent_sources_reach_the_admins(tmp_path, http, veille, smtp, monkeypatch):
    """A source failing 3 runs and a silent one are listed in the digest's admin section and mailed to admins."""
    from datetime import UTC, datetime, timedelta

    from veille import pipeline

    directory = write_config(tmp_path / "cfg", [feed_source("broken", http.url("status/500")),
                                                feed_source("water", http.url("water.atom"))], MEMBERS,
                             {"recipients": ["group@wsm.example.org"], "admins": ["admin@wsm.example.org"]})
    ctx = pipeline.open_context(directory)
    try:  # "water" yielded items ten days ago, nothing since
        pipeline.collect_sources(ctx, ["water"], now=datetime.now(UTC) - timedelta(days=10))
    finally:
        ctx.close()
    for _ in range(3):
        veille("--config", directory, "collect", "--source", "broken")
    veille("--config", directory, "collect", "--source", "water")
    health = veille("--config", directory, "sources").out
    assert "failing for 3 runs" in health and "silent" in health
    _smtp_env(monkeypatch, smtp)
    result = veille("--config", directory, "digest", "--week", "2026-W46", "--send")
    assert result.code == 0, result.err
    text = (directory / "reports/2026-W46/digest.txt").read_text(encoding="utf-8")
    assert "SOURCES À SURVEILLER" in text and "broken: failing for 3 runs: HTTP 500" in text
    alerts = [email.message_from_bytes(raw, policy=policy.default) for rcpts, raw in smtp.handler.messages
              if rcpts == ["admin@wsm.example.org"]]
    assert len(alerts) == 1 and alerts[0]["Subject"].startswith("veille : 2 sources à surveiller")
    body = alerts[0].get_body(("plain",)).get_content()
    assert "- broken: failing for 3 runs" in body and "- water: silent" in body


def test_digest_links_to_the_reports_site_when_its_address_is_set(collected, veille, monkeypatch):
    """With VEILLE_SITE_URL, topics and items link to the site's filtered views; a member's digest
    carries that member's sign-in token (and the working group's none)."""
    from bs4 import BeautifulSoup

    from veille.collect import options_model
    from veille.config import load
    from veille.tokens import token_member

    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    assert "site de la veille" not in (collected / "reports/2026-W46/digest.html").read_text(encoding="utf-8")
    monkeypatch.setenv("VEILLE_SITE_URL", "https://veille.wsm.example.org/")
    monkeypatch.setenv("VEILLE_SITE_SECRET", "s3cret")
    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    full = BeautifulSoup((collected / "reports/2026-W46/digest.html").read_text(encoding="utf-8"), "html.parser")
    links = [a["href"] for a in full.select("a")]
    assert "https://veille.wsm.example.org/?topic=membranes" in links
    assert "https://veille.wsm.example.org/?since=2026-11-09&until=2026-11-15" in links
    assert any(h.startswith("https://veille.wsm.example.org/items/") for h in links)
    assert not any("token=" in h for h in links)
    member = BeautifulSoup((collected / "reports/2026-W46/members/polymem/digest.html").read_text(encoding="utf-8"),
                           "html.parser")
    tokens = {h.split("token=")[1].split("&")[0] for h in (a["href"] for a in member.select("a")) if "token=" in h}
    assert len(tokens) == 1
    members = {m.id: m for m in load(collected, options_model).members}
    assert token_member("s3cret", tokens.pop().replace("%2E", "."), members).id == "polymem"
    text = (collected / "reports/2026-W46/members/polymem/digest.txt").read_text(encoding="utf-8")
    assert "sur le site de la veille : https://veille.wsm.example.org/?token=polymem." in text


def test_members_see_each_other_restores_the_shared_view(collected, veille):
    """`digest.members_see_each_other: true`: a member's digest names the other members its items match."""
    member_text = collected / "reports/2026-W46/members/polymem/digest.txt"
    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    assert "Neosens" not in member_text.read_text(encoding="utf-8")
    members = (collected / "members.yaml").read_text(encoding="utf-8")
    (collected / "members.yaml").write_text(members.replace("digest:\n", "digest:\n  members_see_each_other: true\n",
                                                            1), encoding="utf-8")
    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    assert "pour Neosens, Polymem" in member_text.read_text(encoding="utf-8")


def test_a_member_lang_overrides_the_digest_lang(collected, veille):
    """Polymem reads English while the working group reads French."""
    members = (collected / "members.yaml").read_text(encoding="utf-8")
    (collected / "members.yaml").write_text(members.replace("  name: Polymem\n", "  name: Polymem\n  lang: en\n", 1),
                                            encoding="utf-8")
    assert veille("--config", collected, "digest", "--week", "2026-W46").code == 0
    group = (collected / "reports/2026-W46/digest.txt").read_text(encoding="utf-8")
    member = (collected / "reports/2026-W46/members/polymem/digest.txt").read_text(encoding="utf-8")
    assert group.startswith("Veille eau — semaine 46") and "ACTUALITÉS" in group
    assert member.startswith("Water market watch — week 46 — Polymem") and "NEWS" in member
    assert "for you: Membranes & filtration: " in member and "topic membranes" not in member
