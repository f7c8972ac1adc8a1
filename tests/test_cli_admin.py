"""The command line an admin expects: global options anywhere, read-only commands that write nothing, help with
examples, --json beside every table, report's filters checked, `try` showing what an admin checks, `run` saying
what it scheduled, times in the configured zone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import MEMBERS, feed_source, store_items, write_config
from veille import pipeline
from veille.cli import build_parser
from veille.models import Item

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _files(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*")}


def _page_source(http) -> dict:
    return {"name": "board", "kind": "tender", "type": "page", "url": http.url("tenders.html"), "country": "FR",
            "allow_private_network": True,
            "options": {"item": "div.row", "title": "h3", "link": "h3 a", "date": "span.date",
                        "deadline": "span.fin", "buyer": "em.buyer"}}


@pytest.fixture
def config(tmp_path: Path, http) -> Path:
    return write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), country="FR", every="1h"),
                                           _page_source(http)], MEMBERS)


# --- global options anywhere, VEILLE_CONFIG, a folder without configuration ------------------------------------


def test_global_options_are_accepted_after_the_command(veille, config):
    """`veille check --config DIR` works as `veille --config DIR check`, and so do --debug, -v and -q."""
    before = veille("--config", config, "check")
    after = veille("check", "--config", config)
    assert before.code == after.code == 0 and before.out == after.out
    for flags in (["--debug"], ["-q"], ["-v"], ["-vv"], ["--verbose"], ["--quiet"]):
        assert veille("sources", "--config", config, *flags, "--json").code == 0, flags


def test_an_option_after_the_command_wins_over_the_same_before(veille, config, tmp_path):
    """`veille --config A sources --config B` reads B (the last one given, as for any option)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert veille("--config", empty, "sources", "--config", config).code == 0
    assert veille("--config", config, "sources", "--config", empty).code == 2


def test_veille_config_sets_the_folder_when_config_is_not_given(veille, config, monkeypatch, tmp_path):
    monkeypatch.setenv("VEILLE_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    assert veille("check").code == 0
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    assert veille("check", "--config", empty).code == 2  # --config wins over VEILLE_CONFIG


@pytest.mark.parametrize("position", ["before", "after"])
def test_a_folder_without_configuration_says_how_to_name_one(veille, tmp_path, position):
    folder = tmp_path / "nothing"
    folder.mkdir()
    args = ["--config", folder, "sources"] if position == "before" else ["sources", "--config", folder]
    result = veille(*args)
    assert result.code == 2
    assert result.err.startswith(f"no sources.yaml in {folder}: use --config DIR or VEILLE_CONFIG")
    assert f"`veille init {folder}`" in result.err and "members.yaml" not in result.err
    assert _files(folder) == set()


def test_without_config_nor_veille_config_the_current_folder_is_read(veille, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = veille("check")
    assert result.code == 2 and f"no sources.yaml in {tmp_path}: use --config DIR or VEILLE_CONFIG" in result.err


# --- read-only commands write nothing -------------------------------------------------------------------------


def test_read_only_commands_create_no_database_nor_reports(veille, config, monkeypatch):
    """sources, report, tokens, try and check in a folder with no database leave the folder as it was."""
    monkeypatch.setenv("VEILLE_SITE_SECRET", "s")
    before = _files(config)
    for args in (["sources"], ["sources", "--json"], ["report"], ["report", "--format", "csv"], ["tokens"],
                 ["try", "eau"], ["try", "board", "--json"], ["check"]):
        result = veille(*args, "--config", config)
        assert result.code == 0, (args, result.err)
        assert _files(config) == before, args
    assert "not yet fetched" in veille("sources", "--config", config).out  # an empty store: never collected


def test_read_only_commands_read_an_existing_database(veille, config):
    """Once collected, `sources` and `report` read what the collect stored (and still write nothing)."""
    assert veille("collect", "--config", config).code == 0
    before = {p: (config / p).stat().st_size for p in _files(config) if p.endswith("veille.db")}
    rows = json.loads(veille("sources", "--json", "--config", config).out)
    assert [r["items"] for r in rows] == ["4", "3"]
    assert "Lavaur" in veille("report", "--config", config).out
    assert {p: (config / p).stat().st_size for p in _files(config) if p.endswith("veille.db")} == before


def test_a_read_only_command_refuses_a_database_that_needs_migrating(veille, config):
    """Reading never migrates: an older database is named, with the command that upgrades it."""
    engine = sa.create_engine(f"sqlite:///{config / 'veille.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_version (version INTEGER, name TEXT, applied_at TIMESTAMP)"))
        conn.execute(sa.text("INSERT INTO schema_version VALUES (3, 'old', '2020-01-01')"))
    engine.dispose()
    result = veille("sources", "--config", config)
    assert result.code == 1 and "schema version 3" in result.err and "veille collect" in result.err
    with sa.create_engine(f"sqlite:///{config / 'veille.db'}").connect() as conn:
        assert conn.execute(sa.text("SELECT max(version) FROM schema_version")).scalar() == 3


# --- help: a description and examples ---------------------------------------------------------------------------


def test_every_command_help_has_a_description_and_an_example():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in action.choices.items():  # type: ignore[union-attr]
        text = sub.format_help()
        assert sub.description and "\n" not in sub.description, name
        assert sub.description in text, name
        examples = text.split("examples:\n", 1)[1]
        assert f"veille {name}" in examples, name
        for flag in ("--config DIR", "--debug", "-v", "-q"):
            assert flag in text, (name, flag)


def test_help_of_a_command_is_printed(veille):
    result = veille("report", "--help")
    assert result.code == 0
    assert "Print or write the stored items matching filters." in result.out
    assert "examples:\n  veille report --topic membranes" in result.out


# --- --json beside every table ---------------------------------------------------------------------------------


def test_collect_json_is_its_report(veille, config):
    result = veille("collect", "--json", "--config", config)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["line"].startswith("2 sources: 2 ok")
    assert report["new"] == 7 and report["failed"] == 0
    assert {s["name"]: s["status"] for s in report["sources"]} == {"eau": "ok", "board": "ok"}


def test_sources_json_gives_the_table_rows(veille, config):
    rows = json.loads(veille("sources", "--json", "--config", config).out)
    assert [r["source"] for r in rows] == ["eau", "board"]
    assert {"next collect", "last fetch", "health"} <= set(rows[0])


def test_tokens_json_gives_each_members_link(veille, config, monkeypatch):
    monkeypatch.setenv("VEILLE_SITE_SECRET", "s")
    links = json.loads(veille("tokens", "--json", "--config", config).out)
    assert [link["member"] for link in links] == ["polymem", "neosens"]
    assert all(link["link"].startswith("http://127.0.0.1:8000/?token=") for link in links)


def test_digest_dry_run_json_lists_the_emails_and_files(veille, config):
    result = veille("digest", "--week", "2026-W46", "--dry-run", "--json", "--config", config)
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["week"] == "2026-W46"
    assert any(f.endswith("2026-W46/digest.html") for f in report["files"])
    assert {(e["recipient"], e["status"]) for e in report["emails"]} >= {("group@wsm.example.org", "would-send"),
                                                                         ("veille@polymem.example.org", "would-send")}


# --- report: filters checked, --until included, days in the zone -------------------------------------------------


def test_report_unknown_source_lists_the_known_ones(veille, config):
    result = veille("report", "--source", "nope", "--config", config)
    assert result.code == 2
    assert "unknown source 'nope'" in result.err and "eau, board" in result.err


@pytest.mark.parametrize("limit", ["0", "-3", "many"])
def test_report_limit_must_be_at_least_one(veille, config, limit):
    result = veille("report", "--limit", limit, "--config", config)
    assert result.code == 2 and "--limit" in result.err


def _late_item(ctx: pipeline.Context) -> None:
    # 02:00 UTC on the 23rd is still the 22nd in Montreal
    store_items(ctx, [Item(id="late", source="eau", kind="news", title="Forage de Montréal", url="https://e.org/1",
                           published_at=datetime(2026, 11, 23, 2, tzinfo=UTC), collected_at=NOW)])


def test_report_until_includes_the_day_and_dates_in_the_zone(veille, config, monkeypatch):
    """`--until D` keeps the items of day D (as the site's `until`), local days and dates in VEILLE_TZ."""
    monkeypatch.setenv("VEILLE_TZ", "America/Montreal")
    ctx = pipeline.open_context(config)
    _late_item(ctx)
    ctx.close()
    included = veille("report", "--until", "2026-11-22", "--since", "2026-11-22", "--config", config)
    assert "Forage de Montréal" in included.out and "2026-11-22" in included.out and "2026-11-23" not in included.out
    assert "Forage" not in veille("report", "--until", "2026-11-21", "--config", config).out
    assert "Forage" not in veille("report", "--since", "2026-11-23", "--config", config).out
    bad = veille("report", "--since", "2026-11-23", "--until", "2026-11-22", "--config", config)
    assert bad.code == 2 and "--until 2026-11-22 is before --since 2026-11-23" in bad.err


# --- try: the admin's table, the selectors' matches -------------------------------------------------------------


def test_try_shows_date_title_link_deadline_buyer_value_in_the_zone(veille, config, monkeypatch):
    monkeypatch.setenv("VEILLE_TZ", "America/Montreal")
    result = veille("try", "board", "--config", config)
    assert result.code == 0, result.err
    header = result.out.splitlines()[1]
    assert [c.strip() for c in header.strip("┃").split("┃")] == ["date", "title", "link", "deadline", "buyer",
                                                                 "value", "topics", "members"]
    lavaur = next(line for line in result.out.splitlines() if "Lavaur :" in line)
    # 9 Nov, midnight in Paris (the page's country) is 18:00 on the 8th in Montreal; the deadline 12:00 → 06:00
    assert "2026-11-08 18:00" in lavaur and "2026-11-30 06:00" in lavaur
    assert "/avis/101" in lavaur and "Ville de Lavaur" in lavaur


def test_try_page_source_says_how_many_nodes_each_selector_matched(veille, config):
    result = veille("try", "board", "--config", config)
    line = next(line for line in result.err.splitlines() if line.startswith("selectors on "))
    assert "item 4, title 4, link 3, date 4, deadline 2, buyer 1" in line


def test_try_page_source_whose_item_selector_matches_nothing_says_so(veille, config):
    sources = yaml.safe_load((config / "sources.yaml").read_text())
    sources["sources"][1]["options"]["item"] = "li.gone"
    (config / "sources.yaml").write_text(yaml.safe_dump(sources))
    result = veille("try", "board", "--config", config)
    assert result.code == 1 and "item 0, title 0" in result.err and "failed: board" in result.err


def test_try_feed_source_prints_no_selector_counts(veille, config):
    result = veille("try", "eau", "--config", config)
    assert result.code == 0 and "selectors on" not in result.err


# --- run says what it scheduled; sources shows the next collect --------------------------------------------------


def test_sources_shows_the_next_collect_the_scheduler_keeps(veille, config):
    from veille.schedule import build_scheduler, configure

    ctx = pipeline.open_context(config, clock=lambda: NOW)
    scheduler = build_scheduler(ctx)
    scheduler.start(paused=True)
    configure(scheduler, ctx, config, now=NOW)
    scheduler.shutdown(wait=False)
    ctx.close()
    rows = {r["source"]: r["next collect"] for r in json.loads(veille("sources", "--json", "--config", config).out)}
    assert rows == {"eau": "2026-11-23 10:00", "board": "2026-11-23 10:00"}  # 09:00 UTC in Paris


def test_sources_next_collect_before_any_run(veille, config):
    rows = json.loads(veille("sources", "--json", "--config", config).out)
    assert all(r["next collect"].startswith("not scheduled") for r in rows)


def _read_schedule(stream, count: int) -> list[str]:
    lines = []
    for line in stream:  # read as it comes: no polling
        if line.startswith("scheduled: "):
            lines.append(line.rstrip("\n"))
            if len(lines) == count:
                return lines
    raise AssertionError(f"veille run printed only {lines}")


def test_run_prints_its_schedule_at_start_and_again_on_sighup(tmp_path, http):
    """At start: each source's next collect and the next digest send; SIGHUP reloads sources.yaml and prints
    the new schedule."""
    directory = write_config(tmp_path / "cfg", [feed_source("eau", http.url("eau.rss"), every="1h")], MEMBERS,
                             {"recipients": ["group@wsm.example.org"], "send_at": "mon 07:30"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")} | {"VEILLE_TZ": "Europe/Paris"}
    process = subprocess.Popen([sys.executable, "-m", "veille", "run", "--config", str(directory), "-v"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        start = _read_schedule(process.stdout, 2)
        assert start[0].startswith("scheduled: collect eau every 1h: next 20")
        assert start[1].startswith("scheduled: digest (mon 07:30): next send 20") and start[1].endswith("07:30 CET")
        write_config(directory, [feed_source("eau", http.url("eau.rss"), every="1h"),
                                 feed_source("water", http.url("water.atom"), every="2h")], MEMBERS)
        process.send_signal(signal.SIGHUP)
        again = _read_schedule(process.stdout, 3)
        assert [line.split(":")[1].strip() for line in again] == ["collect eau every 1h", "collect water every 2h",
                                                                 "digest (mon 07"]
        process.send_signal(signal.SIGTERM)
        try:  # a collect under way is finished first: on a loaded machine (the shifted-date CI pass) that takes time
            _, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
            raise AssertionError(f"veille run did not stop on SIGTERM within 120 s; its log: {err[-2000:]}") from None
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
