"""The `feed` connector over a loopback server: legacy encodings, `xml:lang`, headers, entries it cannot use."""

from __future__ import annotations

import pytest

from tests.conftest import feed_source, write_config
from veille.collect import collect
from veille.demo.server import FixtureServer
from veille.models import Source

# one headline per legacy encoding, in a script that encoding can write
HEADLINES = {
    "koi8-r": "Очистка сточных вод в Москве: новая станция",
    "windows-1251": "Водоканал Бузулука строит новые очистные сооружения",
    "shift_jis": "東京都の下水処理場で新しい膜ろ過設備が稼働",
    "euc-kr": "서울시 하수처리장에 새로운 막여과 설비 가동",
    "gb2312": "北京市污水处理厂启用新的膜过滤设备",
    "tis-620": "โรงบำบัดน้ำเสียแห่งใหม่ในกรุงเทพมหานคร",
    "windows-1255": "מתקן חדש לטיהור שפכים בתל אביב",
    "iso-8859-2": "Oczyszczalnia ścieków w Łodzi: nowa inwestycja",
    "iso-8859-7": "Νέα μονάδα επεξεργασίας λυμάτων στην Αθήνα",
    "iso-8859-15": "Station d'épuration : 5 000 € pour l'œuvre",
}


def rss(encoding: str, headline: str, declared: bool = True) -> bytes:
    """An RSS 2.0 feed of five items in `encoding`, with or without an XML declaration naming it."""
    head = f'<?xml version="1.0" encoding="{encoding}"?>' if declared else ""
    items = "".join(f"<item><title>{headline} {n}</title><link>https://news.example.org/{n}</link>"
                    f"<description>{headline}. {headline}.</description></item>" for n in range(5))
    return (f'{head}<rss version="2.0"><channel><title>{headline}</title><link>https://news.example.org/</link>'
            f"{items}</channel></rss>").encode(encoding)


def serve(http: FixtureServer, path: str, body: bytes, content_type: str | None) -> Source:
    http.routes[path] = lambda request: (200, body, content_type)
    return Source(name="news", kind="news", type="feed", url=http.url(path), allow_private_network=True)


def run(source: Source):
    [outcome] = collect([source], {})
    assert outcome.ok, outcome.error
    return outcome


@pytest.mark.parametrize("encoding", sorted(HEADLINES))
@pytest.mark.parametrize(("declared", "content_type"), [
    (True, "application/rss+xml"), (True, None), (True, "text/xml"), (False, None), (False, "application/xml")])
def test_legacy_encodings_decode(http, encoding, declared, content_type):
    """A feed in a legacy encoding comes out as the right Unicode, declared or not (then detected), with a
    Content-Type without charset or none at all."""
    headline = HEADLINES[encoding]
    outcome = run(serve(http, "/legacy.rss", rss(encoding, headline, declared), content_type))
    assert [i.title for i in outcome.items] == [f"{headline} {n}" for n in range(5)]


def test_charset_of_the_content_type_wins(http):
    """The server's charset is followed over a wrong XML declaration (RFC 3023)."""
    body = rss("koi8-r", HEADLINES["koi8-r"]).replace(b'encoding="koi8-r"', b'encoding="utf-8"')
    outcome = run(serve(http, "/koi8.rss", body, "application/rss+xml; charset=koi8-r"))
    assert outcome.items[0].title == f"{HEADLINES['koi8-r']} 0"


def test_undeclared_utf8_without_content_type_is_utf8(http):
    """No declaration and no Content-Type: UTF-8 is read as UTF-8 (no header of ours makes it ISO-8859-1),
    and a relative link is made absolute against the feed's URL."""
    body = ('<rss version="2.0"><channel><title>t</title><item><title>Usine d’eau potable à Mâcon</title>'
            "<link>/eau/macon</link></item></channel></rss>").encode()
    outcome = run(serve(http, "/utf8.rss", body, None))
    [item] = outcome.items
    assert item.title == "Usine d’eau potable à Mâcon" and item.url == http.url("/eau/macon")


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed}">
<title>t</title><id>urn:f</id><updated>2026-11-10T08:00:00Z</updated>
<entry><id>urn:1</id><title>Feed language</title><link href="https://news.example.org/1"/></entry>
<entry xml:lang="de"><id>urn:2</id><title>Entry language</title><link href="https://news.example.org/2"/></entry>
<entry><id>urn:3</id><title xml:lang="es">Title language</title><link href="https://news.example.org/3"/></entry>
<entry xml:lang=""><id>urn:4</id><title>No language</title><link href="https://news.example.org/4"/>
  <content type="text" xml:lang="pt">Content language</content></entry>
</feed>"""


def test_xml_lang_sets_the_item_language(http):
    """`xml:lang` on the title, else the entry or its content, else the feed, is the item's language."""
    outcome = run(serve(http, "/lang.atom", ATOM.format(feed="fr-CA").encode(), "application/atom+xml"))
    assert {i.title: i.lang for i in outcome.items} == {
        "Feed language": "fr", "Entry language": "de", "Title language": "es", "No language": "pt"}


def test_the_source_language_overrides_xml_lang(http):
    """A source's configured `lang` wins over what the feed says."""
    source = serve(http, "/lang.atom", ATOM.format(feed="fr").encode(), "application/atom+xml")
    outcome = run(source.model_copy(update={"lang": "en"}))
    assert {i.lang for i in outcome.items} == {"en"}


UNUSABLE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>Station d'épuration de Nantes</title><link>https://news.example.org/nantes</link></item>
<item><description></description></item>
<item><guid isPermaLink="false">x-1</guid></item>
</channel></rss>"""


def test_entries_without_title_or_link_are_counted_as_skipped(http):
    """An entry with neither title nor link gives no item but is counted in the outcome."""
    outcome = run(serve(http, "/unusable.rss", UNUSABLE.encode(), "application/rss+xml"))
    assert [i.title for i in outcome.items] == ["Station d'épuration de Nantes"] and outcome.skipped == 2


def test_collect_reports_skipped_entries(veille, tmp_path, http):
    """`veille collect` says how many entries a source skipped, and the run's stored report keeps the count."""
    http.routes["/unusable.rss"] = lambda request: (200, UNUSABLE.encode(), "application/rss+xml")
    directory = write_config(tmp_path, [feed_source("odd", http.url("/unusable.rss"))])
    result = veille("--config", directory, "collect")
    assert result.code == 0, result.err
    assert result.out.strip() == ("1 sources: 1 ok (0 not modified), 0 failed; items: 1 new, 0 updated, "
                                  "2 entries skipped (no title or link)")
    assert "skipped: odd: 2 entries with neither title nor link" in result.err
    from veille.store import Store

    [run_row] = Store.open(f"sqlite:///{directory / 'veille.db'}").runs()
    [report] = run_row["summary"]["sources"]
    assert report["skipped"] == 2 and report["items"] == 1
