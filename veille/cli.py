"""Thin command-line layer: parse options, call the pipeline, print its report. See `veille --help`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from veille import __version__, logs
from veille.errors import ConfigError, InputError, VeilleError
from veille.export import FORMATS
from veille.ids import KINDS, REGIONS

if TYPE_CHECKING:
    from veille import pipeline

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse's own exit code 2 is ours too; keep one line
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"veille: error: {message}\n")


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def _week_arg(text: str) -> Any:
    from veille.digest.weeks import Week

    try:
        return Week.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="veille", description="Market watch for the water-treatment industry.")
    parser.add_argument("--config", type=Path, default=Path("."), metavar="DIR",
                        help="folder holding sources.yaml and members.yaml (default: current directory)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (once: each source and email; twice: debug); JSON lines when not a terminal")
    volume.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    parser.add_argument("--version", action="version", version=f"veille {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("check", help="validate sources.yaml, members.yaml and topics; exit 2 on errors")

    p = sub.add_parser("collect", help="fetch sources, store and tag new items")
    p.add_argument("--source", action="append", default=[], metavar="NAME", help="only this source (repeatable)")

    p = sub.add_parser("try", help="fetch one source and print its items, storing nothing")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="one JSON object per item instead of a table")

    p = sub.add_parser("inspect", help="parse a saved payload with a connector; one JSON object per item")
    p.add_argument("type", metavar="TYPE")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--options", default=None, metavar="MAPPING",
                   help="connector options as JSON or YAML, e.g. '{item: li.news, title: h3}'")
    p.add_argument("--kind", choices=KINDS, default="news", help="kind given to the items (default: news)")
    p.add_argument("--country", metavar="CC", help="the source's ISO country code (local times are read in its zone)")

    p = sub.add_parser("digest", help="build (and send) the digest of an ISO week")
    p.add_argument("--week", type=_week_arg, metavar="YYYY-Www", help="default: the last complete week")
    p.add_argument("--member", action="append", default=[], metavar="ID", help="a member's own digest (repeatable)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--send", action="store_true", help="email it (SMTP, or .eml files in the outbox)")
    mode.add_argument("--dry-run", action="store_true", help="build the files, list the emails, send nothing")
    p.add_argument("--resend", action="store_true", help="send again to recipients who already got this week")
    p.add_argument("--reports", type=Path, metavar="DIR",
                   help="output folder (default: VEILLE_REPORTS, else <config>/reports)")

    p = sub.add_parser("report", help="print or write the stored items matching filters")
    p.add_argument("--topic", action="append", default=[], metavar="T", help="topic ID (repeatable: all must match)")
    p.add_argument("--kind", action="append", default=[], choices=KINDS, metavar="K", help="kind ID (repeatable)")
    p.add_argument("--member", metavar="ID", help="items matching this member's profile")
    p.add_argument("--region", action="append", default=[], choices=REGIONS, metavar="R", help="region group")
    p.add_argument("--source", action="append", default=[], metavar="NAME", help="source name (repeatable)")
    p.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD", help="published on or after this day")
    p.add_argument("--until", type=_date_arg, metavar="YYYY-MM-DD", help="published before this day")
    p.add_argument("--limit", type=int, metavar="N", help="at most N items")
    p.add_argument("--sort", choices=("relevance", "date", "deadline"), default="relevance",
                   help="most relevant first (topic scores, or the member's score with --member), newest first, "
                        "or the soonest deadline first (none last)")
    p.add_argument("--all-copies", action="store_true",
                   help="every copy of a story and every notice of a tender (default: one item for each, its newest)")
    p.add_argument("--tagged-only", action="store_true",
                   help="leave out the items with no topic and no member match, as the digest does")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="ics: an iCalendar file of tender deadlines, one event per tender")
    p.add_argument("--lang", choices=("fr", "en"),
                   help="the readers' language: CSV headers, separator and decimal mark (default: the --member's "
                        "lang, else digest.lang)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")

    p = sub.add_parser("eval", help="measure tagging against a labelled JSONL file")
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")

    p = sub.add_parser("retag", help="re-apply the taxonomy and member profiles to stored items")
    p.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD")

    sub.add_parser("sources", help="health table of the configured sources")
    sub.add_parser("run", help="run the scheduler: collect each source on its interval, send the weekly digest")

    p = sub.add_parser("serve", help="the reports site: filter, search and export the archive in a browser")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")

    sub.add_parser("tokens", help="print each member's sign-in link to the reports site")

    p = sub.add_parser("demo", help="run the whole job on bundled data over loopback HTTP and SMTP")
    p.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR",
                   help="where to write the demo's reports (default: ./reports)")
    p.add_argument("--lang", choices=("fr", "en"), default="fr",
                   help="language of the demo's digests (its digest.lang; default: fr)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (2) return their code
        return int(exc.code or 0)
    logs.configure(-1 if args.quiet else args.verbose or (1 if args.command in ("run", "serve") else 0))
    try:
        return int(COMMANDS[args.command](args))
    except ConfigError as exc:
        for problem in exc.problems:
            _err(str(problem))
        count = len(exc.problems)
        _err(f"{count} problem{'s' if count != 1 else ''} in the configuration; nothing was run.")
        return EXIT_BAD_INPUT
    except VeilleError as exc:
        _err(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (`| head`): not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail too
        return EXIT_OK
    except Exception as exc:  # the last resort: one line, traceback on request
        if args.debug:
            traceback.print_exc()
        _err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        return EXIT_FAILED


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: the collect records its run as interrupted and keeps what it stored."""
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _local_midnight(ctx: pipeline.Context, day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=ctx.settings.zone) if day else None


def cmd_check(args: argparse.Namespace) -> int:
    from veille.context import load_config
    from veille.settings import read_settings

    config = load_config(args.config)
    read_settings(args.config)
    enabled = sum(s.enabled for s in config.sources)
    print(f"ok: {len(config.sources)} sources ({enabled} enabled), {len(config.members)} members, "
          f"{len(config.topics)} topics, {len(config.digest.recipients)} digest recipients")
    return EXIT_OK


def cmd_collect(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.progress import collect_progress

    ctx = pipeline.open_context(args.config)
    previous = signal.signal(signal.SIGTERM, _interrupt) if _main_thread() else None
    try:
        with collect_progress(len(pipeline.select_sources(ctx.config, args.source))) as on_done:
            report = pipeline.collect_sources(ctx, args.source, on_done=on_done)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        ctx.close()
    for source in report.sources:
        if source.status in ("failed", "waiting", "busy"):
            _err(f"{source.status}: {source.name}: {source.error}")
        elif source.skipped:
            _err(f"skipped: {source.name}: {source.skipped} entries with neither title nor link")
    print(report.line())
    return EXIT_FAILED if report.failed and report.ok == 0 else EXIT_OK


def cmd_try(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.export.formats import to_table

    ctx = pipeline.open_context(args.config)
    try:
        outcome, items = pipeline.try_source(ctx, args.name)
    finally:
        ctx.close()
    if not outcome.ok:
        _err(f"failed: {args.name}: {outcome.error}")
        return EXIT_FAILED
    if args.json:
        for item in items:
            print(json.dumps(item.to_json(), ensure_ascii=False))
    else:
        print(to_table(items), end="")
    skipped = f", {outcome.skipped} entries skipped (no title or link)" if outcome.skipped else ""
    print(f"{args.name}: {outcome.status}, {len(items)} items{skipped} in {outcome.seconds:.1f}s (nothing stored)",
          file=sys.stderr)
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    import yaml

    from veille import pipeline

    options = None
    if args.options:
        try:
            options = yaml.safe_load(args.options)
        except yaml.YAMLError as exc:
            raise InputError(f"--options is not JSON or YAML: {exc}") from exc
        if not isinstance(options, dict):
            raise InputError("--options must be a mapping, e.g. '{item: li, title: a}'")
    for item in pipeline.inspect_file(args.type, args.file, options, args.kind, args.country):
        print(json.dumps(item.to_json(), ensure_ascii=False))
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    from veille import pipeline

    ctx = pipeline.open_context(args.config)
    mode = "send" if args.send else "dry-run" if args.dry_run else "build"
    try:
        report = pipeline.build_digest(ctx, week=args.week, member_ids=args.member, mode=mode,
                                       reports_dir=args.reports or ctx.settings.reports_dir, resend=args.resend)
    finally:
        ctx.close()
    print(f"digest {report.week}: {report.items} items")
    for path in report.files:
        print(f"  wrote {path}")
    for email in report.emails:
        where = f" → {email.path}" if email.path else ""
        print(f"  {email.status}: {email.recipient} [{email.digest}] {email.subject}{where}")
    if report.error:
        _err(f"error: {report.error}; the digest files are kept")
        return EXIT_FAILED
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.models import ItemQuery

    ctx = pipeline.open_context(args.config)
    try:
        query = ItemQuery(topics=tuple(args.topic), kinds=tuple(args.kind), member=args.member,
                          regions=tuple(args.region), sources=tuple(args.source),
                          since=_local_midnight(ctx, args.since), until=_local_midnight(ctx, args.until),
                          limit=args.limit, one_per_cluster=not args.all_copies, tagged=args.tagged_only)
        items, text = pipeline.report_items(ctx, query, args.format, args.sort, args.lang)
    finally:
        ctx.close()
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8", newline="")  # a CSV's CRLF as it is
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror}") from exc
        print(f"wrote {len(items)} items to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.evaluate import evaluate_file, format_scores

    config = pipeline.load_config(args.config)
    scores = evaluate_file(args.file, config)
    print(json.dumps(scores, indent=2) if args.json else format_scores(scores))
    return EXIT_OK


def cmd_retag(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.progress import counted_progress

    ctx = pipeline.open_context(args.config)
    try:
        since = _local_midnight(ctx, args.since)
        with counted_progress("retagging", ctx.store.count_items(since)) as advance:
            count = pipeline.retag(ctx, since, advance)
    finally:
        ctx.close()
    print(f"retagged {count} items")
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.export.health import health_table

    ctx = pipeline.open_context(args.config)
    try:
        print(health_table(ctx.config.sources, ctx.store.fetch_states(), ctx.settings.zone), end="")
    finally:
        ctx.close()
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from veille.schedule import run_scheduler

    return run_scheduler(args.config)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from veille import pipeline
    from veille.web.app import create_app

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port} is not a port number")
    ctx = pipeline.open_context(args.config)
    try:
        app = create_app(ctx)
        print(f"reports site on http://{args.host}:{args.port}/ (Ctrl-C stops it)", file=sys.stderr)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        ctx.close()
    return EXIT_OK


def cmd_tokens(args: argparse.Namespace) -> int:
    from veille import pipeline

    ctx = pipeline.open_context(args.config)
    ctx.close()
    if not ctx.settings.site_secret:
        raise InputError("VEILLE_SITE_SECRET is not set: members' sign-in links are derived from it")
    links = pipeline.member_links(ctx)
    for member_id, link in links:
        print(f"{member_id}\t{link or '(no site access: site_token is 0)'}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from veille.demo.runner import run_demo

    return run_demo(args.reports, args.lang)


COMMANDS = {
    "check": cmd_check, "collect": cmd_collect, "try": cmd_try, "inspect": cmd_inspect, "digest": cmd_digest,
    "report": cmd_report, "eval": cmd_eval, "retag": cmd_retag, "sources": cmd_sources, "run": cmd_run,
    "serve": cmd_serve, "tokens": cmd_tokens, "demo": cmd_demo,
}
