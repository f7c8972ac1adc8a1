"""`/healthz` and the access log: a health check open to anyone that reveals nothing, and one log line per
request that never carries a token, a password or a cookie."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from tests.conftest import MEMBERS, write_config
from tests.test_deploy import exec_form, instruction
from tests.web.conftest import PASSWORD, SECRET, _env, serve
from veille import logs, pipeline
from veille.tokens import member_token
from veille.web.accesslog import AccessLog
from veille.web.app import create_app


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The site's log as JSON lines, as `veille serve` writes them off a terminal (at its default level)."""
    stream = io.StringIO()
    logs.configure(1, stream)
    try:
        yield stream
    finally:
        logging.getLogger("veille").handlers[:] = []


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def access(stream: io.StringIO) -> list[dict]:
    return [line for line in lines(stream) if line["logger"] == "veille.web.access"]


@pytest.fixture
def client(site):
    with TestClient(create_app(site.ctx), follow_redirects=False) as c:
        yield c


def test_healthz_answers_without_signing_in_and_says_nothing_else(client):
    """200 and `{"status": "ok"}` to anyone, no redirect to the sign-in page, no cookie, never cached."""
    for headers in ({}, {"Accept": "text/html"}):
        response = client.get("/healthz", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response.headers["cache-control"] == "no-store"
        assert "set-cookie" not in response.headers
    assert client.head("/healthz").status_code == 200
    # only that exact path is open
    assert client.get("/healthzz", headers={"Accept": "text/html"}).status_code == 303
    assert client.get("/healthz/x").status_code == 401


def test_the_site_of_a_new_deployment_starts_on_an_empty_store(tmp_path):
    """The site starts before the first collect has stored anything (compose starts it beside the scheduler):
    healthy, and its list empty."""
    write_config(tmp_path, [], MEMBERS)
    ctx = pipeline.open_context(tmp_path, _env(tmp_path))
    try:
        with TestClient(create_app(ctx)) as c:
            assert c.get("/healthz").json() == {"status": "ok"}
            assert c.get("/items.json", auth=("anyone", PASSWORD)).json() == {"count": 0, "items": []}
            assert c.get("/", auth=("anyone", PASSWORD), headers={"Accept": "text/html"}).status_code == 200
    finally:
        ctx.close()


def test_healthz_is_503_when_the_store_cannot_be_read(tmp_path, log):
    """A store that has lost its tables (or its server) makes the check fail with 503, and says no more; the
    log says why."""
    write_config(tmp_path, [], MEMBERS)
    ctx = pipeline.open_context(tmp_path, _env(tmp_path))
    try:
        with TestClient(create_app(ctx)) as c:
            assert c.get("/healthz").json() == {"status": "ok"}
            with ctx.store.engine.begin() as conn:
                conn.execute(sa.text("DROP TABLE store_state"))
            response = c.get("/healthz")
    finally:
        ctx.close()
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "store_state" not in response.text
    warning = next(line for line in lines(log) if line["logger"] == "veille.web.health")
    assert warning["level"] == "warning" and warning["error"] == "OperationalError"


def test_one_json_line_per_request_without_query_string_token_or_cookie(client, site, log):
    """Each request is one line: method, path (no query string), status, duration in ms; a member's token, the
    password, the session cookie appear nowhere in the log."""
    token = member_token(SECRET, site.ctx.config.member("polymem"))
    client.get(f"/items.json?token={token}&q=membrane")
    client.get("/items.csv", auth=("anyone", PASSWORD))
    signed_in = client.post("/signin", data={"password": PASSWORD, "next": "/"})
    cookie = signed_in.cookies.get("veille_session") or client.cookies.get("veille_session")
    assert cookie
    client.get("/?topic=membranes", headers={"Accept": "text/html"})
    client.get("/healthz")
    client.get("/no-such-page?token=forged")
    seen = access(log)
    assert [(r["method"], r["path"], r["status"]) for r in seen] == [
        ("GET", "/items.json", 200), ("GET", "/items.csv", 200), ("POST", "/signin", 303), ("GET", "/", 200),
        ("GET", "/healthz", 200), ("GET", "/no-such-page", 401)]
    for record in seen:
        assert isinstance(record["duration_ms"], float) and record["duration_ms"] >= 0
        assert record["level"] == "info" and re.fullmatch(r"\d{4}-\d\d-\d\dT.*", record["time"])
        assert set(record) == {"time", "level", "logger", "message", "method", "path", "status", "duration_ms"}
    text = log.getvalue()
    for secret in (token, PASSWORD, cookie, "membrane", "forged", "authorization", "cookie"):
        assert secret not in text, secret


def test_the_duration_is_measured_on_the_given_clock(log):
    """The duration is the clock's, in milliseconds, one decimal (no real time passes in the test)."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    ticks = iter([10.0, 10.0123])
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("hi"))])
    logged = AccessLog(app, clock=lambda: next(ticks))
    with TestClient(logged) as c:
        assert c.get("/?a=1").text == "hi"
    (record,) = access(log)
    assert record["duration_ms"] == 12.3 and record["message"] == "GET / 200 12.3 ms"


def test_a_request_that_fails_is_logged_as_500(log):
    from starlette.applications import Starlette
    from starlette.routing import Route

    def broken(request):
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/broken", broken)])
    with TestClient(AccessLog(app), raise_server_exceptions=False) as c:
        assert c.get("/broken").status_code == 500
    (record,) = access(log)
    assert (record["path"], record["status"]) == ("/broken", 500)


def test_the_image_health_check_against_a_real_server(site, log):
    """The Dockerfile's HEALTHCHECK command, run as Docker runs it (aimed at this server's port instead of 8000):
    exit 0 while /healthz answers 200, not 0 when nothing answers; the request is logged by the real server."""
    command = exec_form(instruction("HEALTHCHECK").split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    with serve(create_app(site.ctx)) as base:
        port = int(base.rsplit(":", 1)[1])
        code = command[2].replace(":8000/", f":{port}/")
        ok = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
        assert httpx.get(f"{base}/healthz?token=x").json() == {"status": "ok"}
    down = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert down.returncode != 0
    healthz = [r for r in access(log) if r["path"] == "/healthz"]
    assert len(healthz) == 2 and all(r["status"] == 200 for r in healthz)
