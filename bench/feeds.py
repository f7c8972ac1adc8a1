"""Generated feed sources served over loopback with injected latency, for the collect benchmarks."""

from __future__ import annotations

import random
import socketserver
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from bench.tagging import CITIES, FILLER, OFF_TOPIC, ON_TOPIC

_VOCABULARY = {lang: sorted({w.strip(".,;:'\"") for t in [*ON_TOPIC[lang], *OFF_TOPIC[lang], FILLER[lang]]
                              for w in t.split() if "{" not in w} - {""}) for lang in FILLER}


BOILERPLATE = ("Retrouvez toute l'actualité du traitement de l'eau, des membranes et des capteurs dans notre lettre "
               "hebdomadaire : appels d'offres, réglementation, innovations et rendez-vous de la filière, choisis "
               "chaque semaine par la rédaction pour les professionnels du secteur. Lire la suite…")


def feed_body(index: int, count: int, seed: int, boilerplate: str | None = None, distinct: bool = False) -> bytes:
    """An RSS 2.0 feed of `count` items in one of four languages (the same bytes for the same index); with
    `boilerplate`, every item's description is that one text; with `distinct`, no two titles are alike.

    Texts vary as real feeds do: one feed in three states no language (the collect guesses it), one in four
    writes its descriptions as HTML (paragraphs, links, entities), dates come as RFC 822 with a zone name or an
    offset."""
    rng = random.Random(seed * 100_003 + index)
    lang = rng.choice(["fr", "en", "pt", "es"])
    stated = index % 3 != 2
    html = index % 4 == 1
    base = datetime(2026, 11, 9, tzinfo=UTC)
    items = []
    for n in range(count):
        pool = ON_TOPIC if rng.random() < 0.35 else OFF_TOPIC
        title = rng.choice(pool[lang]).format(city=rng.choice(CITIES))
        details = " ".join(rng.choice(_VOCABULARY[lang]) for _ in range(12))  # each story its own words
        if distinct:
            title = f"{title} (n° {index}-{n})"
        summary = f"{rng.choice(pool[lang]).format(city=rng.choice(CITIES))} {details}. {FILLER[lang].format(n=n)}"
        if boilerplate is not None:
            summary = boilerplate
        elif html:
            summary = f"<p>{escape(summary)}</p><p><a href='https://feed{index}.example.org/{n}'>Lire &amp; partager" \
                      "</a>&nbsp;&#8230;</p>"
        when = format_datetime(base + timedelta(minutes=rng.randint(0, 20_000)), usegmt=n % 2 == 0)
        items.append(f"<item><title>{escape(title)}</title><link>https://feed{index}.example.org/{n}</link>"
                     f"<guid isPermaLink='false'>f{index}-{n}</guid><pubDate>{when}</pubDate>"
                     f"<description>{escape(summary)}</description></item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed {index}</title>'
            f"<link>https://feed{index}.example.org/</link><description>bench</description>"
            f"{f'<language>{lang}</language>' if stated else ''}{''.join(items)}</channel></rss>").encode()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 32 concurrent clients must not find the listen backlog full
    daemon_threads = True

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse lookup of the address (`getfqdn`): no name is resolved, and a farm of
        500 addresses starts at once instead of waiting on a resolver for each."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class FeedFarm:
    """`sources` feeds spread over `hosts` loopback addresses (127.0.0.2, 127.0.0.3, …, 127.0.1.2, …), each answer
    delayed 100–300 ms;
    each feed has 50–200 items, or `items`, described by `boilerplate` when it is given, with distinct titles
    when `distinct`.

    Feeds carry an ETag and answer 304 to a matching If-None-Match; any other path (robots.txt) is answered 404 at
    once, on the same connection. Body bytes sent are counted.
    """

    def __init__(self, sources: int, hosts: int, seed: int = 7, latency: tuple[float, float] = (0.1, 0.3),
                 items: int | None = None, boilerplate: str | None = None, distinct: bool = False):
        rng = random.Random(seed)
        self.bodies = [feed_body(i, items or rng.randint(50, 200), seed, boilerplate, distinct)
                       for i in range(sources)]
        self.delays = [rng.uniform(*latency) for _ in range(sources)]
        self.bytes_sent = 0
        self._lock = threading.Lock()
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.strip("/").split(".")[0]
                if not name.isdigit():  # robots.txt and any other path: not found, at once (a static answer)
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                index = int(name)
                time.sleep(farm.delays[index])
                body = farm.bodies[index]
                etag = f'"b{index}-{len(body)}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with farm._lock:
                    farm.bytes_sent += len(body)

        self.servers = []
        for h in range(hosts):
            server = _Server((f"127.0.{h // 250}.{2 + h % 250}", 0), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)

    def url(self, index: int) -> str:
        host, port = self.servers[index % len(self.servers)].server_address[:2]
        return f"http://{host!s}:{port}/{index}.rss"

    @property
    def total_latency(self) -> float:
        return sum(self.delays)

    def stop(self) -> None:
        stopping = [threading.Thread(target=server.shutdown) for server in self.servers]  # each waits for its poll
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        for server in self.servers:
            server.server_close()
