"""Email delivery: refusals per message, deferrals retried, and exactly once across a SIGKILL."""

from __future__ import annotations

import asyncio
import email
import functools
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import feed_source, write_config
from tests.store.test_database import _fresh_postgres
from veille.demo.smtp import _free_port

RECIPIENTS = [f"member{n}@wsm.example.org" for n in range(6)]


class ScriptedHandler:
    """An SMTP server whose answers per recipient are scripted; it keeps what it accepted."""

    def __init__(self, script: dict[str, list[str]] | None = None, hold_at: int | None = None):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.accepted: list[str] = []
        self.hold_at = hold_at  # the n-th message waits here (the client is killed meanwhile)
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        to = envelope.rcpt_tos[0]
        if self.hold_at is not None and len(self.accepted) + 1 == self.hold_at and not self.release.is_set():
            self.holding.set()
            while not self.release.is_set():  # the server waits (the test does not sleep)
                await asyncio.sleep(0.01)
            return "451 4.3.0 try again later"  # never accepted: the client died waiting
        answers = self.script.get(to)
        if answers:
            answer = answers.pop(0)
            if not answer.startswith("250"):
                return answer
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.accepted.append(f"{to}|{message['Message-ID']}|{message['Subject']}")
        return "250 OK"


@pytest.fixture
def config(tmp_path, http):
    members = [{"id": f"m{n}", "name": f"Member {n}", "emails": [address], "digest": True}
               for n, address in enumerate(RECIPIENTS)]
    return write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"))], members,
                        {"recipients": ["group@wsm.example.org"]})


def _serve(handler: ScriptedHandler) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    return controller


def _env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    return env | {"VEILLE_SMTP_HOST": "127.0.0.1", "VEILLE_SMTP_PORT": str(port), "VEILLE_SMTP_TLS": "none",
                  "VEILLE_TZ": "Europe/Paris"}


def _veille(config: Path, port: int, *args: str, db: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "veille", "--config", str(config), *args],
                            env=_env(port) | ({"VEILLE_DB": db} if db else {}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_refused_and_deferred_messages_do_not_block_the_others(config, veille, monkeypatch):
    """A 550 for one recipient is recorded and reported; a 451 is retried; everyone else gets the digest."""
    monkeypatch.setattr("veille.digest.deliver.RETRY_DELAYS", (0.0, 0.0))  # retried at once: no real wait
    handler = ScriptedHandler({RECIPIENTS[1]: ["550 5.1.1 no such user"],
                               RECIPIENTS[2]: ["451 4.7.1 greylisted", "250"]})
    controller = _serve(handler)
    try:
        veille("--config", config, "collect")
        for key, value in _env(controller.port).items():
            if key.startswith("VEILLE_"):
                monkeypatch.setenv(key, value)
        result = veille("--config", config, "digest", "--week", "2026-W46", "--send")
    finally:
        controller.stop()
    assert result.code == 1 and f"{RECIPIENTS[1]}: 550 5.1.1 no such user" in result.err
    received = {line.split("|")[0] for line in handler.accepted}
    assert received == {"group@wsm.example.org", *RECIPIENTS} - {RECIPIENTS[1]}
    assert f"refused: {RECIPIENTS[1]}" in result.out and f"sent: {RECIPIENTS[2]}" in result.out


@pytest.mark.parametrize(("database", "kill_at"), [("sqlite", 1), ("sqlite", 4), ("sqlite", 7), ("postgresql", 1),
                                                   ("postgresql", 5)])
def test_sigkill_during_send_neither_duplicates_nor_skips(config, http, database, kill_at):
    """Killed while the server holds message `kill_at`: the rerun sends the rest, each exactly once, exactly
    as queued before the kill (on SQLite and on PostgreSQL)."""
    db = f"sqlite:///{config / 'veille.db'}" if database == "sqlite" else _fresh_postgres()
    handler = ScriptedHandler(hold_at=kill_at)
    controller = _serve(handler)
    run = functools.partial(_veille, db=db)
    try:
        assert run(config, controller.port, "collect").wait(timeout=60) == 0
        process = run(config, controller.port, "digest", "--week", "2026-W46", "--send")
        assert handler.holding.wait(timeout=60), f"message {kill_at} never arrived"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        handler.release.set()
        assert process.returncode == -signal.SIGKILL
        assert len(handler.accepted) == kill_at - 1
        queued = _queued_ids(db)
        rerun = run(config, controller.port, "digest", "--week", "2026-W46", "--send")
        out, err = rerun.communicate(timeout=120)
    finally:
        controller.stop()
    assert rerun.returncode == 0, err
    expected = 1 + len(RECIPIENTS)
    recipients = Counter(line.split("|")[0] for line in handler.accepted)
    assert sum(recipients.values()) == expected and max(recipients.values()) == 1  # expected 7, duplicates 0
    assert out.count("already-sent:") == kill_at - 1
    resent = {line.split("|")[1] for line in handler.accepted[kill_at - 1:]}
    assert resent == queued  # the outbox's messages, not new ones


def _queued_ids(db: str) -> set[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text(
                "SELECT message_id FROM deliveries WHERE status IN ('queued', 'sending')")).scalars())
    finally:
        engine.dispose()


class SlowHandler(ScriptedHandler):
    """Accepts every message, each after a short wait, so that two senders are at work at the same time."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.15)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_senders_racing_deliver_each_message_once(config, tmp_path, database):
    """Two `veille digest --send` of the same week started together: every recipient gets one message (each is
    claimed in the database before it is sent), on SQLite and on PostgreSQL."""
    db = f"sqlite:///{config / 'veille.db'}" if database == "sqlite" else _fresh_postgres()
    handler = SlowHandler()
    controller = _serve(handler)

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "veille", "--config", str(config), *args],
                                env=_env(controller.port) | {"VEILLE_DB": db}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    try:
        assert start("collect").wait(timeout=120) == 0
        racers = [start("digest", "--week", "2026-W46", "--send") for _ in range(2)]
        outputs = [r.communicate(timeout=120) for r in racers]
    finally:
        controller.stop()
    assert [r.returncode for r in racers] == [0, 0], [err for _, err in outputs]
    received = Counter(line.split("|")[0] for line in handler.accepted)
    assert sum(received.values()) == 1 + len(RECIPIENTS) and max(received.values()) == 1, received
    said = [line.split(":")[0].strip() for out, _ in outputs for line in out.splitlines() if line.startswith("  ")
            and "@" in line]
    assert said.count("sent") == 1 + len(RECIPIENTS)  # and the other process says where each one went
    assert set(said) <= {"sent", "already-sent", "being-sent-elsewhere"}
