"""A phone is a first-class reader: the digest and every site page fit 390 px without horizontal scrolling, in
headless Chromium; screenshots at 390 and 1200 px go to test-output/phone/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.web.test_browser import browser, server, sign_in  # noqa: F401 - fixtures
from veille import pipeline
from veille.digest.weeks import Week

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "phone"
WIDTHS = (390, 1200)


def _fits(page, width: int, name: str) -> int:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=False)
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_digest_fits_a_phone(browser, site, tmp_path, lang):  # noqa: F811
    ctx = site.reopen()
    try:
        if lang == "en":  # digest.lang: en for this digest only
            from dataclasses import replace

            ctx.config = replace(ctx.config, digest=ctx.config.digest.model_copy(update={"lang": "en"}))
        pipeline.build_digest(ctx, week=Week(2026, 46), reports_dir=tmp_path, now=datetime(2026, 11, 16, 6, 30,
                                                                                             tzinfo=UTC))
    finally:
        ctx.close()
    digest = (tmp_path / "2026-W46" / "digest.html").as_uri()
    for width in WIDTHS:
        page = browser.new_page(locale="fr-FR", viewport={"width": width, "height": 900})
        page.goto(digest)
        assert _fits(page, width, f"digest-{lang}") <= width
        page.close()


PAGES = ["/", "/?topic=membranes&kind=tender", "/items/hostile1", "/digests", "/digests/2026-W46", "/sources",
         "/no-such-page"]


def test_every_site_page_fits_a_phone(browser, server, site):  # noqa: F811
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(server + "/signin")
    sign_in(page, server)
    widths = {}
    for path in PAGES:
        page.goto(server + path)
        assert page.locator("form.signout").count() == 1, path  # signed in: the page itself, not the sign-in form
        name = path.strip("/").replace("/", "-").split("?")[0] or "list"
        widths[path] = _fits(page, 390, f"site-{name}")
    context.close()
    assert all(w <= 390 for w in widths.values()), widths
