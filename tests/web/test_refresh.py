"""The list page follows writes made by another process (a collect) without a restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.web.conftest import PASSWORD
from veille import pipeline
from veille.models import Item
from veille.web import app as web


def _total(client: TestClient) -> str:
    soup = BeautifulSoup(client.get("/", headers={"Accept": "text/html"}).text, "html.parser")
    return soup.select_one("#results-title .count").text


def test_new_items_appear_once_the_store_has_changed(site, monkeypatch):
    monkeypatch.setattr(web, "REFRESH_SECONDS", 0.0)
    with TestClient(web.create_app(site.ctx)) as client:
        client.auth = ("x", PASSWORD)
        assert _total(client) == "10 items"
        writer = pipeline.open_context(site.directory, site.env)  # another process: a collect
        item = Item(id="late1", source="eau", kind="news", title="Nouvelle usine de dessalement à Agde",
                    summary="osmose inverse", collected_at=datetime.now(UTC), country="FR")
        writer.tagger.tag(item)
        writer.store.upsert_items([item])
        writer.store.save_tags([item])
        writer.close()
        deadline = time.monotonic() + 10
        while _total(client) != "11 items" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _total(client) == "11 items"
        assert "Nouvelle usine de dessalement" in client.get("/?q=dessalement", headers={"Accept": "text/html"}).text
