"""The list page follows writes made by another process (a collect) without a restart."""

from __future__ import annotations

from datetime import UTC, datetime

from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD
from veille import pipeline
from veille.models import Item
from veille.web.app import create_app
from veille.web.site import REFRESH_SECONDS


def _total(client: TestClient) -> str:
    soup = BeautifulSoup(client.get("/", headers={"Accept": "text/html"}).text, "html.parser")
    return soup.select_one("#results-title .count").text


def test_new_items_appear_once_the_store_has_changed(site):
    """A write by another process shows once the check interval has passed (the clock is the test's)."""
    clock = [1000.0]
    app = create_app(site.ctx, monotonic=lambda: clock[0])
    with TestClient(app) as client:
        client.auth = ("x", PASSWORD)
        assert _total(client) == "8 éléments"  # two items with no topic nor member match are hidden
        writer = pipeline.open_context(site.directory, site.env)  # another process: a collect
        item = Item(id="late1", source="eau", kind="news", title="Nouvelle usine de dessalement à Agde",
                    summary="osmose inverse", collected_at=datetime(2026, 11, 12, 9, tzinfo=UTC), country="FR")
        writer.tagger.tag(item)
        writer.store.upsert_items([item])
        writer.store.save_tags([item])
        writer.close()
        assert _total(client) == "8 éléments"  # not checked again before the interval
        clock[0] += REFRESH_SECONDS
        _total(client)  # this request notices the write and starts the reload
        app.state.site.archive.settled()
        assert _total(client) == "9 éléments"
        assert "Nouvelle usine de dessalement" in client.get("/?q=dessalement", headers={"Accept": "text/html"}).text
