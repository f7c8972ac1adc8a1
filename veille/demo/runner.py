"""`veille demo`: the real pipeline on bundled data, over a loopback HTTP server and a loopback SMTP server."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from veille import pipeline
from veille.demo.server import FixtureServer
from veille.demo.smtp import start_smtp
from veille.digest.weeks import Week

DEMO_WEEK = Week(2026, 46)
# The digest is built as the scheduler would: on the Monday morning after the sample week.
DEMO_NOW = datetime(2026, 11, 16, 7, 30, tzinfo=ZoneInfo("Europe/Paris"))


def prepare(workspace: Path, base_url: str, lang: str = "fr") -> None:
    """Write the demo configuration into `workspace`, pointing the sources at `base_url`, its digests in `lang`."""
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    package = resources.files("veille.demo")
    text = package.joinpath("sources.yaml").read_text(encoding="utf-8")
    (workspace / "sources.yaml").write_text(text.replace("{base}", base_url), encoding="utf-8")
    members = package.joinpath("members.yaml").read_text(encoding="utf-8")
    (workspace / "members.yaml").write_text(members.replace("\n  lang: fr ", f"\n  lang: {lang} ", 1), encoding="utf-8")


def run_demo(reports: Path, lang: str = "fr") -> int:
    """Collect, tag, build and email the sample week's digest; print where everything is."""
    workspace = reports / "demo"
    received = reports / str(DEMO_WEEK) / "received"
    if received.exists():
        shutil.rmtree(received)
    with resources.as_file(resources.files("veille.demo").joinpath("data")) as data, FixtureServer(data) as http:
        prepare(workspace, http.base_url, lang)
        smtp, _ = start_smtp(received)
        try:
            env = {"VEILLE_DB": f"sqlite:///{(workspace / 'veille.db').resolve()}",
                   "VEILLE_SMTP_HOST": "127.0.0.1", "VEILLE_SMTP_PORT": str(smtp.port),
                   "VEILLE_SMTP_TLS": "none", "VEILLE_MAIL_FROM": "veille@wsm.example.org",
                   "VEILLE_TZ": "Europe/Paris", "VEILLE_HTTP_HOST_DELAY": "0"}  # all on one loopback host
            ctx = pipeline.open_context(workspace, env)
            try:
                print(f"demo: serving sample payloads at {http.base_url}, SMTP on 127.0.0.1:{smtp.port}")
                first = pipeline.collect_sources(ctx)
                _print_collect("collect (first run)", first)
                second = pipeline.collect_sources(ctx)
                _print_collect("collect (second run: conditional GET, nothing stored twice)", second)
                digest = pipeline.build_digest(ctx, week=DEMO_WEEK, mode="send", reports_dir=reports, now=DEMO_NOW)
            finally:
                ctx.close()
        finally:
            smtp.stop()
    print(f"\ndigest {digest.week}: {digest.items} items")
    for path in digest.files:
        print(f"  report   {path}")
    for email in digest.emails:
        print(f"  email    {email.status}: {email.recipient} [{email.digest}]")
    for path in sorted(received.glob("*.eml")):
        print(f"  received {path}")
    if digest.error:
        print(f"error: {digest.error}")
        return 1
    print(f"\nOpen {reports / str(DEMO_WEEK) / 'digest.html'} in a browser, or query the demo database:\n"
          f"  {_command()} --config {workspace} report --topic membranes")
    return 0


def _command() -> str:
    """Return how the user can call veille again from here (`.venv/bin/veille` after `make demo`)."""
    program = Path(sys.argv[0])
    if program.name == "veille" and program.is_file():
        return os.path.relpath(program) if program.is_absolute() else str(program)
    return "veille"


def _print_collect(title: str, report: pipeline.CollectReport) -> None:
    print(f"\n{title}: {report.line()}")
    for source in report.sources:
        detail = f"{source.items} items, {source.new} new" if source.status != "failed" else source.error
        print(f"  {source.status:<12} {source.name}: {detail}")
