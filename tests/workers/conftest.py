"""The queue's tests: a fresh PostgreSQL database per test, and a loopback server of many small feeds."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("VEILLE_TEST_PG_URL")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set VEILLE_TEST_PG_URL (the CI script installs and starts one)")
    name = f"veille_queue_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Feeds:
    """`/feed/N.xml` for any N: an RSS feed of `items` items; each request waits `delay` seconds and is counted."""

    def __init__(self, items: int = 5, delay: float = 0.0):
        self.items, self.delay = items, delay
        self.hits: Counter[str] = Counter()
        self.failing: set[int] = set()  # feeds that answer 503 for now
        self._lock = threading.Lock()
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with feeds._lock:
                    feeds.hits[self.path] += 1
                if feeds.delay:
                    time.sleep(feeds.delay)
                n = self.path.rsplit("/", 1)[-1].split(".")[0]
                if n.isdigit() and int(n) in feeds.failing:
                    self.send_error(503)
                    return
                body = feeds.body(n)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a worker killed in the middle
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def body(self, n: str) -> bytes:
        entries = "".join(
            f"<item><title>Station d'épuration {n}, lot {i}</title><link>http://feeds.example/{n}/{i}</link>"
            f"<guid>{n}-{i}</guid><description>Traitement des eaux usées, marché {n}-{i}</description></item>"
            for i in range(self.items))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {n}</title>'
                f"<language>fr</language>{entries}</channel></rss>").encode()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{n}.xml"

    def __enter__(self) -> Feeds:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def feed_sources(feeds: Feeds, count: int, every: str = "1h") -> list[dict]:
    return [{"name": f"feed-{n:04d}", "kind": "news", "type": "feed", "url": feeds.url(n), "every": every,
             "allow_private_network": True} for n in range(count)]


def wait_for(condition, seconds: float, what: str, step: float = 0.1):
    """Poll `condition` until it returns something true (returned), or fail after `seconds` naming `what`."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what}")
        time.sleep(step)


def veille_process_env(pg: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    env.update({"VEILLE_DB": pg, "VEILLE_TZ": "Europe/Paris", "VEILLE_HTTP_HOST_DELAY": "0"})
    env.update({f"VEILLE_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                      env.get("PYTHONPATH")]))
    return env
