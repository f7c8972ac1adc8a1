"""Thin command-line layer: parse options, call the pipeline, print its report. See `veille --help`."""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from veille import __version__, logs
from veille.errors import ConfigError, InputError, VeilleError
from veille.export import FORMATS
from veille.ids import KINDS, REGIONS
from veille.workers.listing import SHOWN, STATES

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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """--config, --debug, -v and -q: on the main parser with their defaults, on every command without any (so
    that given after the command they win, and not given they leave the main parser's value)."""
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--config", type=Path, default=default(None), metavar="DIR",
                        help="folder holding sources.yaml and members.yaml (default: VEILLE_CONFIG, else the current "
                             "directory)")
    parser.add_argument("--debug", action="store_true", default=default(False),
                        help="show tracebacks of unexpected errors")
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument("-v", "--verbose", action="count", default=default(0),
                        help="log more (once: each source and email; twice: debug); JSON lines when not a terminal")
    volume.add_argument("-q", "--quiet", action="store_true", default=default(False), help="log errors only")


def _command(sub: Any, common: argparse.ArgumentParser, name: str, description: str,
             *examples: str) -> argparse.ArgumentParser:
    """A command with its one-line description and examples (`veille NAME --help`)."""
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples)
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=description, description=description[0].upper() + description[1:] + ".", epilog=epilog,
        parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="veille", description="Market watch for the water-treatment industry.",
                     epilog="global options may also follow the command: veille check --config DIR")
    _global_options(parser, defaults=True)
    parser.add_argument("--version", action="version", version=f"veille {__version__}")
    common = _Parser(add_help=False)
    _global_options(common, defaults=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, description: str, *examples: str) -> argparse.ArgumentParser:
        return _command(sub, common, name, description, *examples)

    p = command("check", "validate sources.yaml, members.yaml and topics; exit 2 on errors, warnings exit 0",
                "veille check --config /etc/veille", "VEILLE_CONFIG=/etc/veille veille check", "veille check --json")
    p.add_argument("--json", action="store_true",
                   help='{"ok", "problems", "warnings", "counts"}: each problem with file, line, field, message')

    p = command("init", "write a commented sources.yaml and members.yaml into a folder",
                "veille init /etc/veille", "veille --config /etc/veille init")
    p.add_argument("directory", type=Path, nargs="?", metavar="DIR",
                   help="the folder (default: --config, else VEILLE_CONFIG, else the current directory); existing "
                        "files are kept")

    p = command("collect", "fetch sources, store and tag new items",
                "veille collect", "veille collect --source boamp-occitanie --source ted-eu", "veille collect --json")
    p.add_argument("--source", action="append", default=[], metavar="NAME", help="only this source (repeatable)")
    p.add_argument("--json", action="store_true", help="print the collect's report as JSON (the summary and each "
                                                       "source's outcome) instead of the summary line")

    p = command("try", "fetch one source and print its items, storing nothing",
                "veille try boamp-occitanie", "veille try tender-board --json")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--json", action="store_true", help="one JSON object per item instead of a table")

    p = command("inspect", "parse a saved payload with a connector; one JSON object per item",
                "veille inspect feed saved.xml", "veille inspect page saved.html --options '{item: li, title: a}'")
    p.add_argument("type", metavar="TYPE")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--options", default=None, metavar="MAPPING",
                   help="connector options as JSON or YAML, e.g. '{item: li.news, title: h3}'")
    p.add_argument("--kind", choices=KINDS, default="news", help="kind given to the items (default: news)")
    p.add_argument("--country", metavar="CC", help="the source's ISO country code (local times are read in its zone)")

    p = command("digest", "build (and send) the digest of an ISO week",
                "veille digest --dry-run", "veille digest --week 2026-W46 --send", "veille digest --member polymem",
                "veille digest --dry-run --json")
    p.add_argument("--week", type=_week_arg, metavar="YYYY-Www", help="default: the last complete week")
    p.add_argument("--member", action="append", default=[], metavar="ID", help="a member's own digest (repeatable)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--send", action="store_true", help="email it (SMTP, or .eml files in the outbox)")
    mode.add_argument("--dry-run", action="store_true", help="build the files, list the emails, send nothing")
    p.add_argument("--resend", action="store_true", help="send again to recipients who already got this week")
    p.add_argument("--reports", type=Path, metavar="DIR",
                   help="output folder (default: VEILLE_REPORTS, else <config>/reports)")
    p.add_argument("--json", action="store_true", help="print the files written and the emails (sent or that would "
                                                       "be sent) as JSON")

    p = command("report", "print or write the stored items matching filters",
                "veille report --topic membranes --kind tender --since 2026-11-01 --until 2026-11-30",
                "veille report --kind tender --format csv --lang en -o tenders.csv")
    p.add_argument("--topic", action="append", default=[], metavar="T", help="topic ID (repeatable: all must match)")
    p.add_argument("--kind", action="append", default=[], choices=KINDS, metavar="K", help="kind ID (repeatable)")
    p.add_argument("--member", metavar="ID", help="items matching this member's profile")
    p.add_argument("--region", action="append", default=[], choices=REGIONS, metavar="R", help="region group")
    p.add_argument("--source", action="append", default=[], metavar="NAME", help="source name (repeatable)")
    p.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD", help="published on or after this day")
    p.add_argument("--until", type=_date_arg, metavar="YYYY-MM-DD", help="published on or before this day (included)")
    p.add_argument("--limit", type=_positive, metavar="N", help="at most N items (N ≥ 1)")
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

    p = command("eval", "measure tagging against a labelled JSONL file, or against readers' verdicts",
                "veille eval labelled.jsonl", "veille eval labelled.jsonl --json", "veille eval --feedback",
                "veille eval --feedback --member polymem --json")
    p.add_argument("file", type=Path, metavar="FILE.jsonl", nargs="?", help="the labelled items (not with --feedback)")
    p.add_argument("--feedback", action="store_true",
                   help="score today's rules against the stored verdicts, per reader: the precision of what they "
                        "send, and the relevant items they miss")
    p.add_argument("--member", metavar="ID", help="with --feedback: only this member's verdicts")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")

    p = command("feedback", "export the readers' verdicts on items (\"pertinent\" / \"pas pour nous\")",
                "veille feedback", "veille feedback --format csv -o verdicts.csv", "veille feedback --member polymem")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="csv: for a spreadsheet in the --lang's conventions; json: a list of objects")
    p.add_argument("--member", metavar="ID", help="only this member's verdicts (group: the working group's)")
    p.add_argument("--lang", choices=("fr", "en"), help="the CSV's headers, separator and decimal mark "
                                                        "(default: digest.lang)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output")

    p = command("suggest", "propose profile and taxonomy changes from the readers' verdicts",
                "veille suggest", "veille suggest --member polymem", "veille suggest --json")
    p.add_argument("--member", metavar="ID", help="only this member's verdicts")
    p.add_argument("--json", action="store_true", help="a JSON list of the proposed changes")

    p = command("retag", "re-apply the taxonomy and member profiles to stored items",
                "veille retag", "veille retag --since 2026-01-01")
    p.add_argument("--since", type=_date_arg, metavar="YYYY-MM-DD")

    p = command("sources", "health table of the configured sources, with each one's next collect",
                "veille sources", "veille sources --json")
    p.add_argument("--json", action="store_true", help="the table's rows as a JSON list of objects")
    command("run", "run the scheduler: collect each source on its interval, send the weekly digest (on "
                   "PostgreSQL: defer those jobs to the queue, for `veille worker` processes to run)",
            "veille run", "kill -HUP <pid>   # reload the configuration and print the schedule again")

    p = command("worker", "(PostgreSQL) run the queue's jobs: collect due sources, send the weekly digest; run "
                          "any number, on any machines sharing VEILLE_DB",
                "VEILLE_DB=postgresql+psycopg://veille@db/veille veille worker", "veille worker --concurrency 8")
    p.add_argument("--concurrency", type=_positive, metavar="N",
                   help="jobs run at once (default: VEILLE_WORKER_CONCURRENCY, 4)")
    p.add_argument("--until-empty", action="store_true",
                   help="stop once no job is waiting (a catch-up run, from cron for instance)")

    p = command("jobs", "(PostgreSQL) the queue: waiting, running, stalled and failed jobs, with their source",
                "veille jobs", "veille jobs --state failed --json", "veille jobs --state done --limit 20")
    p.add_argument("--state", action="append", choices=STATES, metavar="STATE",
                   help=f"only jobs in this state (repeatable; one of {', '.join(STATES)}; default: "
                        f"{', '.join(SHOWN)})")
    p.add_argument("--limit", type=_positive, default=100, metavar="N",
                   help="at most the N newest jobs (default: 100)")
    p.add_argument("--json", action="store_true",
                   help='{"jobs": [...], "counts": {state: n}, "workers": [{"id", "heartbeat"}]}')

    p = command("serve", "the reports site: filter, search and export the archive in a browser",
                "VEILLE_SITE_PASSWORD=secret veille serve", "veille serve --host 0.0.0.0 --port 8080")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")

    p = command("tokens", "print each member's sign-in link to the reports site",
                "VEILLE_SITE_SECRET=... veille tokens", "veille tokens --json")
    p.add_argument("--json", action="store_true", help="a JSON list of {member, link} objects")

    p = command("demo", "run the whole job on bundled data over loopback HTTP and SMTP",
                "veille demo", "veille demo --reports /tmp/demo --lang en")
    p.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR",
                   help="where to write the demo's reports (default: ./reports)")
    p.add_argument("--lang", choices=("fr", "en"), default="fr",
                   help="language of the demo's digests (its digest.lang; default: fr)")
    return parser


CONFIG_VARIABLE = "VEILLE_CONFIG"
# the cyclic garbage collector's thresholds: Python's default (700 new objects) makes it scan the whole heap over
# and over while a report reads 100,000 items with their tags (half the time of `report` at a million items);
# veille makes few reference cycles, so collecting every 50,000 new objects costs no measurable memory
GC_THRESHOLDS = (50_000, 20, 20)


# numpy's BLAS with one thread (unless the environment says otherwise; read when numpy first loads, after this):
# veille's matrix products are small (language detection), and a second BLAS thread only spins between them,
# a tenth of a collect's CPU on two cores
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    os.environ.setdefault(*BLAS_THREADS)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors (2) return their code
        return int(exc.code or 0)
    if args.config is None:
        args.config = Path(os.environ.get(CONFIG_VARIABLE) or ".")
    logs.configure(-1 if args.quiet else args.verbose or (1 if args.command in ("run", "serve", "worker") else 0))
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
    from veille.advice import warnings
    from veille.context import load_config, stored_fetch_states, wall_clock
    from veille.settings import read_settings

    try:
        config = load_config(args.config)
        settings = read_settings(args.config)
    except ConfigError as exc:
        if not args.json:
            raise
        print(json.dumps({"ok": False, "problems": [p.to_json() for p in exc.problems], "warnings": []},
                         ensure_ascii=False))
        return EXIT_BAD_INPUT
    states = stored_fetch_states(settings)
    found = warnings(config, settings.site_url, settings.site_secret, states, wall_clock())
    counts = {"sources": len(config.sources), "enabled": sum(s.enabled for s in config.sources),
              "members": len(config.members), "topics": len(config.topics),
              "recipients": len(config.digest.recipients)}
    if args.json:
        print(json.dumps({"ok": True, "problems": [], "warnings": [w.to_json() for w in found], "counts": counts},
                         ensure_ascii=False))
        return EXIT_OK
    for warning in found:
        _err(str(warning))
    print(f"ok: {counts['sources']} sources ({counts['enabled']} enabled), {counts['members']} members, "
          f"{counts['topics']} topics, {counts['recipients']} digest recipients"
          + (f"; {len(found)} warning{'s' if len(found) != 1 else ''}" if found else ""))
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from veille.starter import write_starter

    for path, written in write_starter(args.directory or args.config):
        print(f"{'wrote' if written else 'kept the existing'} {path}")
    print("next: edit both files, then run `veille check`")
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
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.line())
    return EXIT_FAILED if report.failed and report.ok == 0 else EXIT_OK


def cmd_try(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.export.formats import to_try_table

    ctx = pipeline.open_context(args.config, readonly=True)
    try:
        outcome, items = pipeline.try_source(ctx, args.name)
    finally:
        ctx.close()
    for url, counts in pipeline.selector_matches(outcome):  # what each CSS selector found, on standard error
        found = ", ".join(f"{name} {count}" for name, count in counts.items())
        _err(f"selectors on {url}: {found} (item: nodes on the page; the others: items where it matched)")
    if not outcome.ok:
        _err(f"failed: {args.name}: {outcome.error}")
        return EXIT_FAILED
    if args.json:
        for item in items:
            print(json.dumps(item.to_json(), ensure_ascii=False))
    else:
        print(to_try_table(items, zone=ctx.settings.zone), end="")
    skipped = f", {outcome.skipped} entries skipped (no title or link)" if outcome.skipped else ""
    print(f"{args.name}: {outcome.status}, {len(items)} items{skipped} in {outcome.seconds:.1f}s (nothing stored)",
          file=sys.stderr)
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    import yaml

    from veille.collect.inspect import inspect_file

    options = None
    if args.options:
        try:
            options = yaml.safe_load(args.options)
        except yaml.YAMLError as exc:
            raise InputError(f"--options is not JSON or YAML: {exc}") from exc
        if not isinstance(options, dict):
            raise InputError("--options must be a mapping, e.g. '{item: li, title: a}'")
    for item in inspect_file(args.type, args.file, options, args.kind, args.country):
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
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return EXIT_FAILED if report.error else EXIT_OK
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

    if args.since and args.until and args.until < args.since:
        raise InputError(f"--until {args.until} is before --since {args.since}")
    ctx = pipeline.open_context(args.config, readonly=True)
    try:
        # --until is included, as on the site: the items before the next day's local midnight
        until = _local_midnight(ctx, args.until + timedelta(days=1) if args.until else None)
        query = ItemQuery(topics=tuple(args.topic), kinds=tuple(args.kind), member=args.member,
                          regions=tuple(args.region), sources=tuple(args.source),
                          since=_local_midnight(ctx, args.since), until=until,
                          limit=args.limit, one_per_cluster=not args.all_copies, tagged=args.tagged_only)
        count, text = pipeline.report_items(ctx, query, args.format, args.sort, args.lang)
    finally:
        ctx.close()
    return _write_or_print(text, args.output, f"wrote {count} items")


def cmd_eval(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.evaluate import evaluate_file, format_feedback_scores, format_scores

    if args.feedback == (args.file is not None):
        raise InputError("give either a labelled FILE.jsonl or --feedback (the stored verdicts)")
    if args.member and not args.feedback:
        raise InputError("--member goes with --feedback")
    if args.feedback:
        ctx = pipeline.open_context(args.config, readonly=True)
        try:
            rows = pipeline.feedback_scores(ctx, args.member)
        finally:
            ctx.close()
        print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else format_feedback_scores(rows))
        return EXIT_OK
    config = pipeline.load_config(args.config)
    scores = evaluate_file(args.file, config)
    print(json.dumps(scores, indent=2) if args.json else format_scores(scores))
    return EXIT_OK


def cmd_feedback(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.export.verdicts import render_verdicts

    ctx = pipeline.open_context(args.config, readonly=True)
    try:
        reader = _reader_arg(ctx, args.member)
        rows = pipeline.feedback_rows(ctx, reader)
        text = render_verdicts(rows, args.format, lang=args.lang or ctx.config.digest.lang, zone=ctx.settings.zone)
    finally:
        ctx.close()
    return _write_or_print(text, args.output, f"wrote {len(rows)} verdicts")


def _reader_arg(ctx: pipeline.Context, member: str | None) -> str | None:
    """`--member`: a member id, or "group" for the working group's verdicts."""
    from veille.tokens import GROUP

    if member is None or member == GROUP or ctx.config.member(member) is not None:
        return member
    raise InputError(f"unknown member {member!r}; members: {GROUP}, {', '.join(m.id for m in ctx.config.members)}")


def _write_or_print(text: str, output: Path | None, done: str) -> int:
    if output:
        try:
            output.write_text(text, encoding="utf-8", newline="")  # a CSV's CRLF as it is
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror}") from exc
        print(f"{done} to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_suggest(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.export.verdicts import suggestions_json, suggestions_text

    ctx = pipeline.open_context(args.config, readonly=True)
    try:
        found = pipeline.suggestions(ctx, args.member)
        titles = {i.id: i.title for i in ctx.store.items_by_ids(sorted({f for s in found for f in s.fixes}))}
    finally:
        ctx.close()
    print(json.dumps(suggestions_json(found, titles), indent=2, ensure_ascii=False) if args.json
          else suggestions_text(found, titles))
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

    ctx = pipeline.open_context(args.config, readonly=True)
    try:
        rows = pipeline.source_health(ctx)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(health_table(rows), end="")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from veille.settings import read_settings

    def show(lines: list[str]) -> None:
        for line in lines:
            print(f"scheduled: {line}", flush=True)

    if read_settings(args.config).db_url.startswith("postgresql"):
        from veille.workers.scheduler import run_scheduler as run_queue_scheduler

        return run_queue_scheduler(args.config, on_schedule=show)
    from veille.schedule import run_scheduler

    return run_scheduler(args.config, on_schedule=show)


def cmd_worker(args: argparse.Namespace) -> int:
    from veille.workers.worker import run_worker

    return run_worker(args.config, concurrency=args.concurrency, until_empty=args.until_empty)


def cmd_jobs(args: argparse.Namespace) -> int:
    from veille import pipeline
    from veille.store.queue import queue_statuses
    from veille.workers.app import conninfo
    from veille.workers.listing import job_rows, jobs_table

    states = args.state or list(SHOWN)
    ctx = pipeline.open_context(args.config, readonly=True)
    try:
        conninfo(ctx.settings.db_url)  # the queue lives in PostgreSQL: a clear error on SQLite
        timeout = ctx.settings.worker_timeout
        if ctx.store.queue_ready():
            rows = job_rows(ctx.store.queue_jobs(queue_statuses(states), timeout, args.limit), states,
                            ctx.settings.zone)
            counts, workers = ctx.store.queue_counts(timeout), ctx.store.live_workers(timeout)
        else:  # no worker nor scheduler has started yet
            rows, counts, workers = [], {}, []
    finally:
        ctx.close()
    if args.json:
        print(json.dumps({"jobs": rows, "counts": counts,
                          "workers": [{"id": i, "heartbeat": at.isoformat()} for i, at in workers]},
                         ensure_ascii=False, indent=2))
    else:
        print(jobs_table(rows, counts, len(workers)), end="")
    return EXIT_OK


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

    ctx = pipeline.open_context(args.config, readonly=True)
    ctx.close()
    if not ctx.settings.site_secret:
        raise InputError("VEILLE_SITE_SECRET is not set: members' sign-in links are derived from it")
    links = pipeline.member_links(ctx)
    if args.json:
        print(json.dumps([{"member": member_id, "link": link} for member_id, link in links], indent=2))
        return EXIT_OK
    for member_id, link in links:
        print(f"{member_id}\t{link or '(no site access: site_token is 0)'}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from veille.demo.runner import run_demo

    return run_demo(args.reports, args.lang)


COMMANDS = {
    "check": cmd_check, "init": cmd_init, "collect": cmd_collect, "try": cmd_try, "inspect": cmd_inspect,
    "digest": cmd_digest, "report": cmd_report, "eval": cmd_eval, "feedback": cmd_feedback,
    "suggest": cmd_suggest, "retag": cmd_retag, "sources": cmd_sources,
    "run": cmd_run, "worker": cmd_worker, "jobs": cmd_jobs, "serve": cmd_serve, "tokens": cmd_tokens, "demo": cmd_demo,
}
