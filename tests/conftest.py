"""Shared fixtures: loopback HTTP and SMTP servers, configuration folders, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from veille.cli import main
from veille.demo.server import FixtureServer
from veille.demo.smtp import SavingHandler, start_smtp

FIXTURES = Path(__file__).parent / "fixtures"
SITE = FIXTURES / "site"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


def need_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real payloads not available: {CORPUS} is absent (the shared corpus sits beside the checkout)")
    return CORPUS


@pytest.fixture
def http() -> Iterator[FixtureServer]:
    """An HTTP server on 127.0.0.1 serving tests/fixtures/site."""
    with FixtureServer(SITE) as server:
        yield server


@dataclass
class Smtp:
    host: str
    port: int
    handler: SavingHandler


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it receives."""
    controller, handler = start_smtp(tmp_path / "received")
    try:
        yield Smtp("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's VEILLE_* settings; the database lives in the test's folder."""
    for key in list(os.environ):
        if key.startswith("VEILLE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("VEILLE_TZ", "Europe/Paris")
    monkeypatch.setenv("VEILLE_HTTP_HOST_DELAY", "0")  # every fixture is on 127.0.0.1


def write_config(directory: Path, sources: list[dict], members: list[dict] | None = None,
                 digest: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False))
    body: dict = {"digest": digest or {"recipients": ["group@wsm.example.org"]}, "members": members or []}
    (directory / "members.yaml").write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False))
    return directory


def feed_source(name: str, url: str, **extra: object) -> dict:
    return {"name": name, "kind": "news", "type": "feed", "url": url, "allow_private_network": True, **extra}


MEMBERS = [
    {"id": "polymem", "name": "Polymem", "emails": ["veille@polymem.example.org"],
     "topics": ["membranes", "drinking_water"], "keywords": ["ultrafiltration"], "digest": True},
    {"id": "neosens", "name": "Neosens", "emails": ["veille@neosens.example.org"],
     "topics": ["sensors", "networks"], "keywords": ["biofilm"]},
]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def veille(capsys: pytest.CaptureFixture[str]):
    """Run the `veille` command line in-process and return its exit code and output."""

    def run(*args: str | Path) -> Result:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
