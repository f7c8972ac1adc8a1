"""A reports site over a store filled by a real collect from the loopback fixture server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette

from tests.conftest import MEMBERS, SITE, WATCH_SOURCES, feed_source, store_items, watch_items, write_config
from veille import pipeline
from veille.demo.server import FixtureServer
from veille.models import Item

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-not-for-production"
HOSTILE = "<script>alert('x')</script> Membranes <img src=x onerror=alert(1)>"


@dataclass
class Site:
    directory: Path
    env: dict[str, str]
    ctx: pipeline.Context

    def reopen(self, **env: str) -> pipeline.Context:
        """Another context on the same store, with changed settings (a restarted server)."""
        return pipeline.open_context(self.directory, {**self.env, **env})


def _env(directory: Path) -> dict[str, str]:
    return {"VEILLE_DB": f"sqlite:///{directory / 'veille.db'}", "VEILLE_SITE_PASSWORD": PASSWORD,
            "VEILLE_SITE_SECRET": SECRET, "VEILLE_TZ": "Europe/Paris", "VEILLE_HTTP_HOST_DELAY": "0",
            "VEILLE_REPORTS": str(directory / "reports")}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("site")
    with FixtureServer(SITE) as http:
        page = {"name": "board", "kind": "tender", "type": "page", "url": http.url("tenders.html"), "country": "FR",
                "allow_private_network": True,
                "options": {"item": "div.row", "title": "h3", "link": "h3 a", "date": "span.date",
                            "deadline": "span.fin", "buyer": "em.buyer"}}
        write_config(directory, [feed_source("eau", http.url("eau.rss"), country="FR"),
                                 feed_source("water", http.url("water.atom"), topics=["wastewater"]), page],
                     MEMBERS)
        env = _env(directory)
        ctx = pipeline.open_context(directory, env)
        report = pipeline.collect_sources(ctx)
        assert report.new == 9, report.line()
    # one hostile title, stored as any source could send it
    hostile = Item(id="hostile1", source="eau", kind="news", title=HOSTILE, summary="ultrafiltration",
                   url="javascript:alert(1)", collected_at=datetime(2026, 11, 12, tzinfo=UTC), country="FR")
    ctx.tagger.tag(hostile)
    ctx.store.upsert_items([hostile])
    ctx.store.save_tags([hostile])
    try:
        yield Site(directory, env, ctx)
    finally:
        ctx.close()


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port, in a thread; gives its base URL."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)  # connections wait in the backlog until uvicorn serves: nothing to poll for
    port = listening.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(5)
        listening.close()


NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the `watch` site's clock: never the wall clock


@pytest.fixture(scope="module")
def watch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site over `watch_items()`, its clock at NOW (a deadline before NOW is closed)."""
    directory = tmp_path_factory.mktemp("watch")
    write_config(directory, WATCH_SOURCES, MEMBERS)
    env = _env(directory)
    ctx = pipeline.open_context(directory, env, clock=lambda: NOW)
    store_items(ctx, watch_items())
    try:
        yield Site(directory, env, ctx)
    finally:
        ctx.close()
