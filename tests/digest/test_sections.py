"""A digest prints the most relevant entries of each section (`digest.per_section`) and counts the rest, with a link
to them on the reports site: a week of thousands of items stays a readable email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup

from tests.conftest import feed_source, store_items, write_config
from veille import pipeline
from veille.digest.weeks import Week
from veille.models import Item, TopicTag

WEEK = Week(2026, 46)  # Monday 9 to Sunday 15 November 2026
NOW = datetime(2026, 11, 16, 6, 30, tzinfo=UTC)


def _items(news: int, tenders: int) -> list[Item]:
    """`news` stories of the week, scored 1 to `news` (the title says the score), and `tenders` tenders of the
    week closing within 14 days of NOW, the n-th one n days after it."""
    at = datetime(2026, 11, 12, 9, tzinfo=UTC)
    out = [Item(id=f"news-{n:02d}", source="eau", kind="news", title=f"Membranes story scored {n:02d}",
                url=f"https://eau.example.org/{n}", published_at=at, collected_at=at,
                topics={"membranes": TopicTag(float(n), ["'membranes' in title"])}) for n in range(1, news + 1)]
    out += [Item(id=f"tender-{n:02d}", source="board", kind="tender", title=f"Station d'épuration, lot {n:02d}",
                 url=f"https://board.example.org/{n}", published_at=at, collected_at=at,
                 deadline_at=NOW + timedelta(days=n % 13 + 1), topics={"wastewater": TopicTag(2.0, ["CPV 45252127"])})
            for n in range(1, tenders + 1)]
    return out


@pytest.fixture
def ctx(tmp_path):
    def open_with(per_section: int | None, site: bool = True) -> pipeline.Context:
        digest = {"recipients": ["group@wsm.example.org"], **({"per_section": per_section} if per_section is not None
                                                               else {})}
        write_config(tmp_path, [feed_source("eau", "http://127.0.0.1:9/eau.rss"),
                                {**feed_source("board", "http://127.0.0.1:9/board.rss"), "kind": "tender"}],
                     digest=digest)
        env = {"VEILLE_DB": f"sqlite:///{tmp_path / 'veille.db'}", "VEILLE_TZ": "Europe/Paris"}
        if site:
            env |= {"VEILLE_SITE_URL": "https://veille.example.org/", "VEILLE_SITE_SECRET": "s3cret"}
        context = pipeline.open_context(tmp_path, env, clock=lambda: NOW)
        if not context.store.count_items():
            store_items(context, _items(news=23, tenders=18))
        return context

    return open_with


def _built(context: pipeline.Context, tmp_path) -> tuple[BeautifulSoup, str]:
    try:
        pipeline.build_digest(context, week=WEEK, reports_dir=tmp_path / "reports", now=NOW)
    finally:
        context.close()
    folder = tmp_path / "reports" / str(WEEK)
    return (BeautifulSoup((folder / "digest.html").read_text(encoding="utf-8"), "html.parser"),
            (folder / "digest.txt").read_text(encoding="utf-8"))


def test_each_section_prints_its_most_relevant_entries_and_links_to_the_rest(ctx, tmp_path):
    html, text = _built(ctx(None), tmp_path)  # the default: 15 per section
    titles = [p.get_text(strip=True) for p in html.select(".item .title")]
    stories = [t for t in titles if t.startswith("Membranes story")]
    assert stories == [f"Membranes story scored {n:02d}" for n in range(23, 8, -1)]  # the 15 best, best first
    tenders = [t for t in titles if t.startswith("Station")]
    assert len(tenders) == 15  # "closing soon" lists 15 of the 18; the tenders' section has no other to print
    more = [p.get_text(" ", strip=True) for p in html.select("p.more")]
    assert "Et 3 autres appels d'offres se terminent bientôt : les voir sur le site de la veille" in more
    assert "Et 8 autres dans cette rubrique : les voir sur le site de la veille" in more
    links = {a.get_text(" ", strip=True): a["href"] for a in html.select("p.more a")}
    assert links["Et 8 autres dans cette rubrique : les voir sur le site de la veille"] == \
        "https://veille.example.org/?kind=news&since=2026-11-09&until=2026-11-15"
    assert links["Et 3 autres appels d'offres se terminent bientôt : les voir sur le site de la veille"] == \
        "https://veille.example.org/?kind=tender&open=1&sort=deadline"
    # every item is still counted: the headline and the sections' counts
    headings = [h.get_text(" ", strip=True) for h in html.select("h2")]
    assert {"Se terminent bientôt (18)", "Appels d'offres (18)", "Actualités (23)"} <= set(headings)
    assert "SE TERMINENT BIENTÔT (18)" in text
    assert "Et 8 autres dans cette rubrique : https://veille.example.org/?kind=news&since=2026-11-09&until=2026-11-15" \
        in text
    assert text.count("* Membranes story") == 15


def test_zero_prints_every_entry_and_without_a_site_the_rest_is_in_items_csv(ctx, tmp_path):
    html, _ = _built(ctx(0), tmp_path)
    assert len([p for p in html.select(".item .title") if p.get_text().startswith("Membranes story")]) == 23
    assert not html.select("p.more")
    html, text = _built(ctx(5, site=False), tmp_path)
    assert len([p for p in html.select(".item .title") if p.get_text().startswith("Membranes story")]) == 5
    assert "Et 18 autres dans cette rubrique (dans items.csv)" in [p.get_text(" ", strip=True)
                                                                     for p in html.select("p.more")]
    assert "Et 13 autres appels d'offres se terminent bientôt (dans items.csv)" in text
