"""`veille check` as an admin meets it: every mistake at once in plain words, entries named, near misses
suggested, YAML syntax explained, missing files, `veille init`, warnings, `--json`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import feed_source, write_config
from veille.store import Store

ROOT = Path(__file__).resolve().parents[1]

# ten mistakes an admin typically makes in members.yaml (twelve problems: some entries hold two)
TEN_MISTAKES = """\
digest:
  recipients: [veille-wsm@example.org]
  send_at: monday 7:30
  lang: francais

members:
  - id: polymem
    name: Polymem
    emails: [veille@polymem]
    topics: [membranse, drinking_water]
    regions: [FR, Gulf]
    kinds: [tenders, news]
    digest: true

  - id: Aquasource
    name: Aquasource
    emails: [veille@aquasource.example.org]
    topic: [membranes]
    min_score: high

  - id: neosens
    name: Neosens
    cpv: [3841*]
    digest: oui

  - id: neosens
    name: Neosens bis
"""
LINE = re.compile(r"^(members|sources)\.yaml:(\d+): ([\w.-]+(?:\[\d+\])*(?:\.[\w]+(?:\[\d+\])*)*): (.+)$")


def _config(tmp_path: Path, members: str | None = None, sources: list[dict] | None = None) -> Path:
    directory = write_config(tmp_path / "cfg", sources or [feed_source("eau", "https://example.org/eau.rss")])
    if members is not None:
        (directory / "members.yaml").write_text(members, encoding="utf-8")
    return directory


def test_ten_typical_mistakes_are_all_told_at_once_in_plain_words(veille, tmp_path):
    result = veille("--config", _config(tmp_path, TEN_MISTAKES), "check")
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[-1] == "12 problems in the configuration; nothing was run."
    problems = [LINE.match(line) for line in lines[:-1]]
    assert all(problems), lines
    said = {(m.group(2), m.group(3)): m.group(4) for m in problems if m}
    assert said[("10", "polymem.topics[0]")].startswith("unknown topic 'membranse' (did you mean 'membranes'?)")
    assert said[("11", "polymem.regions[1]")].startswith("'Gulf' is not accepted (did you mean 'GULF'?)")
    assert said[("12", "polymem.kinds[0]")].startswith("'tenders' is not accepted (did you mean 'tender'?)")
    assert said[("15", "Aquasource.id")].startswith("'Aquasource' is not valid (did you mean 'aquasource'?)")
    assert said[("18", "Aquasource.topic")].startswith("unknown key 'topic' (did you mean 'topics'?)")
    assert said[("19", "Aquasource.min_score")] == "min_score must be a number such as 1.5, not 'high'"
    assert said[("24", "neosens.digest")] == "digest must be true or false, not 'oui'"
    assert said[("26", "neosens.id")] == "duplicate member id 'neosens' (first at line 21)"  # the first one invalid
    assert "write 3841 without the *" in said[("23", "neosens.cpv")]
    assert "accepted: fr, en" in said[("4", "digest.lang")]
    assert "members[" not in result.err and "Input should be" not in result.err and "String should" not in result.err


def test_a_source_with_a_bad_kind_and_a_bad_type_gets_both(veille, tmp_path):
    bad = {"name": "eau-actu", "kind": "newz", "type": "rss", "url": "https://example.org/eau.rss"}
    result = veille("--config", _config(tmp_path, sources=[bad]), "check")
    assert result.code == 2
    assert "eau-actu.kind: 'newz' is not accepted (did you mean 'news'?)" in result.err
    assert "eau-actu.type: unknown connector type 'rss'" in result.err and "known types: boamp," in result.err


@pytest.mark.parametrize(("entry", "says"), [
    ({"evry": "6h"}, "eau.evry: unknown key 'evry' (did you mean 'every'?)"),
    ({"every": 6}, "eau.every: every must be a duration such as 30m, 6h or 1d, not 6"),
    ({"every": "twice a day"}, "eau.every: 'twice a day' is not a duration: write a number and a unit, such as 30m, "
                               "6h or 1d"),
    ({"enabled": "sometimes"}, "eau.enabled: enabled must be true or false, not 'sometimes'"),
])
def test_source_fields_in_plain_words(veille, tmp_path, entry, says):
    result = veille("--config", _config(tmp_path, sources=[feed_source("eau", "https://example.org/e.rss", **entry)]),
                    "check")
    assert result.code == 2 and says in result.err, result.err


@pytest.mark.parametrize(("text", "line", "says"), [
    ("members:\n  - id: a\n    name: A\n   topics: [x]\n", 4, "the indentation does not line up"),
    ("members:\n\t- id: a\n", 2, "a tab character: YAML indents with spaces only"),
    ("members:\n  - id: a\n    name: Eau: station\n", 3, "a second ':' on this line: put the value in quotes"),
    ("members:\n  - id: a\n    topics: [membranes, sensors\n  - id: b\n", 3, "a list opened with '[' is not closed"),
    ("members:\n  - id: a\n    name: \"Polymem\n", 3, "a quote opened here is never closed"),
    ("members:\n  - id: a\n    name\n    topics: [membranes]\n", 4, "a line without ':' inside a mapping"),
    ("members:\n  - id: @polymem\n", 2, "a value cannot start with '@': put the whole value in quotes"),
])
def test_yaml_syntax_errors_in_plain_words(veille, tmp_path, text, line, says):
    result = veille("--config", _config(tmp_path, text), "check")
    assert result.code == 2
    first = result.err.splitlines()[0]
    assert first.startswith(f"members.yaml:{line}: {says}"), first
    assert "expected <block end>" not in result.err and "while parsing" not in result.err


@pytest.mark.parametrize("missing", ["members.yaml", "sources.yaml"])
def test_a_missing_file_names_the_folder_and_the_fix(veille, tmp_path, missing):
    directory = _config(tmp_path, TEN_MISTAKES)
    (directory / missing).unlink()
    result = veille("--config", directory, "check")
    assert result.code == 2
    assert f"no {missing} in {directory}: use --config DIR or VEILLE_CONFIG" in result.err
    assert f"`veille init {directory}`" in result.err and "ok" not in result.out
    assert len(result.err.splitlines()) == 2  # the one problem, then the count


def test_init_writes_the_shipped_files_and_keeps_existing_ones(veille, tmp_path):
    directory = tmp_path / "nouveau"
    result = veille("init", directory)
    assert result.code == 0 and f"wrote {directory / 'sources.yaml'}" in result.out
    for name in ("sources.yaml", "members.yaml"):
        assert (directory / name).read_text(encoding="utf-8") == (ROOT / name).read_text(encoding="utf-8")
        assert "#" in (directory / name).read_text(encoding="utf-8")  # commented
    (directory / "members.yaml").write_text("members: []\n", encoding="utf-8")
    again = veille("init", directory)
    assert f"kept the existing {directory / 'members.yaml'}" in again.out
    assert (directory / "members.yaml").read_text(encoding="utf-8") == "members: []\n"
    assert veille("--config", directory, "check").code == 0


def test_the_packaged_starter_files_are_the_shipped_ones():
    for name in ("sources.yaml", "members.yaml"):
        assert (ROOT / "veille" / "examples" / name).read_bytes() == (ROOT / name).read_bytes(), name


def _valid_members(digest: bool) -> str:
    return ("digest:\n  recipients: [veille-wsm@example.org]\nmembers:\n  - id: polymem\n    name: Polymem\n"
            f"    emails: [veille@polymem.example.org]\n    digest: {'true' if digest else 'false'}\n")


def test_warnings_are_printed_and_exit_0(veille, tmp_path, monkeypatch):
    sources = [feed_source("eau", "https://example.org/eau.rss"),
               feed_source("eau-bis", "https://example.org/eau.rss/"),  # the same address, a slash apart
               feed_source("ancienne", "https://example.org/old.rss", enabled=False),
               feed_source("api-a", "https://api.example.org/search", options={}),
               {**feed_source("api-b", "https://api.example.org/search"), "type": "json",
                "options": {"fields": {"title": "t"}}}]
    directory = _config(tmp_path, _valid_members(digest=True), sources)
    database = directory / "veille.db"
    old = Store.open(f"sqlite:///{database}", clock=lambda: datetime(2020, 1, 6, 8, tzinfo=UTC))
    old.record_fetch("ancienne", ok=True, status="ok")
    old.close()
    monkeypatch.delenv("VEILLE_SITE_URL", raising=False)
    monkeypatch.delenv("VEILLE_SITE_SECRET", raising=False)
    result = veille("--config", directory, "check")
    assert result.code == 0 and result.out.startswith("ok: 5 sources (4 enabled)") and "3 warnings" in result.out
    assert "warning: members.yaml: polymem: digest: true but VEILLE_SITE_URL is not set" in result.err
    assert "warning: sources.yaml: eau-bis: same URL and options as 'eau'" in result.err
    assert re.search(r"warning: sources.yaml: ancienne: disabled and not collected for \d+ days", result.err)
    assert "api-b" not in result.err  # one API address, other options: another query
    monkeypatch.setenv("VEILLE_SITE_URL", "https://veille.example.org")
    site = veille("--config", directory, "check")
    assert "VEILLE_SITE_URL is set but VEILLE_SITE_SECRET is not" in site.err and "digest: true" not in site.err


def test_check_json(veille, tmp_path, monkeypatch):
    monkeypatch.delenv("VEILLE_SITE_URL", raising=False)
    good = veille("--config", _config(tmp_path, _valid_members(digest=False)), "check", "--json")
    body = json.loads(good.out)
    assert good.code == 0 and body["ok"] and body["problems"] == [] and body["counts"]["members"] == 1
    bad = veille("--config", _config(tmp_path / "b", TEN_MISTAKES), "check", "--json")
    body = json.loads(bad.out)
    assert bad.code == 2 and not body["ok"] and len(body["problems"]) == 12
    assert {"file": "members.yaml", "line": 26, "field": "neosens.id",
            "message": "duplicate member id 'neosens' (first at line 21)"} in body["problems"]


def test_check_creates_no_database(veille, tmp_path):
    directory = _config(tmp_path, _valid_members(digest=False))
    assert veille("--config", directory, "check").code == 0
    assert not (directory / "veille.db").exists()
