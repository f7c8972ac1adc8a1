"""The only module that knows the stage order: config → collect → store → tag → digest / export.

The CLI, the scheduler, the demo, the reports site and the tests all call these functions; each moves data
between the stages and the store, returns a report object and prints nothing.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from veille import periods
from veille.collect.report import CollectReport, SourceReport, busy_report, waiting
from veille.context import Context, load_config, open_context
from veille.digest.outbox import Email, by_smtp, to_outbox
from veille.digest.weeks import Week
from veille.errors import InputError
from veille.export.health import health_rows, unhealthy
from veille.models import Config, Fetched, Item, ItemQuery, Lang, Source, Suggestion
from veille.tokens import GROUP, member_token, verdict_code

if TYPE_CHECKING:  # the collect's, the digest's and the exports' modules (the HTTP client, the parsers, pandas,
    # Jinja2, icalendar) load when first used
    from veille.collect import HttpSettings, SourceOutcome
    from veille.digest import assemble
    from veille.digest.render import Feedback, SiteLinks
    from veille.store import links

__all__ = ["CollectReport", "Context", "DigestReport", "Email", "SourceReport", "Week",
           "load_config", "open_context"]
log = logging.getLogger("veille.pipeline")
# the writer's batches that keep coming while it stores share a transaction for this many seconds at most (each
# commit rewrites the pages it touched; it commits at once when nothing waits); a killed run loses at most that
COMMIT_EVERY = 0.5
PROCESS = f"{socket.gethostname()}:{os.getpid()}"  # who fetched a source, as `veille sources` shows it


# --- collect ---------------------------------------------------------------------------------------


def select_sources(config: Config, names: Sequence[str]) -> list[Source]:
    """Return the named sources (even disabled ones), or every enabled source when none is named."""
    if not names:
        return [s for s in config.sources if s.enabled]
    unknown = [n for n in names if config.source(n) is None]
    if unknown:
        known = ", ".join(s.name for s in config.sources)
        raise InputError(f"unknown source {', '.join(map(repr, unknown))}; configured sources: {known}")
    return [s for s in config.sources if s.name in names]


def collect_sources(ctx: Context, names: Sequence[str] = (), *,
                    on_done: Callable[[SourceOutcome], None] | None = None,
                    http: HttpSettings | None = None, now: datetime | None = None) -> CollectReport:
    """Fetch the sources, store new and changed items, tag them; return what happened per source."""
    from veille.collect import Validators, collect
    from veille.collect.parsing import Parsers, default_processes
    from veille.writer import Writer

    sources = select_sources(ctx.config, names)
    states = ctx.store.fetch_states(counts=False)
    run_id = ctx.store.start_run("collect")
    log.info("collect started: %d sources", len(sources), extra={"run": run_id})
    collected_at = now or ctx.clock()
    report = CollectReport()
    # sources named by an admin are tried at once; the others wait out their backoff
    report.sources = [] if names else waiting(sources, states, collected_at)
    claimed, busy = ctx.store.claim_sources([s.name for s in sources if s.name not in
                                             {w.name for w in report.sources}], collected_at)
    report.sources += [busy_report(name, owner) for name, owner in busy.items()]

    def store(outcomes: list[SourceOutcome]) -> Callable[[], None]:
        # in the writer thread, off the event loop; the batches of a moment are one transaction (their sources
        # released with it), stored as they come: a run killed half-way keeps what it had fetched before the
        # last commit, and a source is said stored (logged, shown) once its transaction has committed
        with ctx.store.batch():
            stored = _store_outcomes(ctx, outcomes, collected_at, PROCESS)
            ctx.store.release_sources([outcome.source.name for outcome in outcomes])

        def say() -> None:
            for outcome, source in zip(outcomes, stored, strict=True):
                report.sources.append(source)
                details = {k: v for k, v in vars(source).items() if k != "name"}
                log.log(logging.WARNING if source.status == "failed" else logging.INFO, "source %s: %s",
                        source.name, source.status, extra={"run": run_id, **details, "source": source.name})
                if on_done:
                    on_done(outcome)

        return say

    validators = {n: Validators(s.etag, s.last_modified) for n, s in states.items()}
    chosen = [s for s in sources if s.name in claimed]
    # forked before the writer's thread starts; the tagger is compiled where the items are parsed (see Parsers)
    processes = ctx.settings.collect_processes
    parsers = Parsers(_prepare(ctx), default_processes() if processes is None else processes, len(chosen),
                      load=lambda: ctx.tagger)
    writer: Writer[SourceOutcome] = Writer(store, transaction=ctx.store.batch, group=COMMIT_EVERY)
    try:
        collect(chosen, validators, http or ctx.http(), writer.put, parsers=parsers)
        writer.close()
    except BaseException:  # Ctrl-C, SIGTERM: recorded as interrupted, what was fetched is stored first
        with contextlib.suppress(Exception):
            writer.close()
        ctx.store.finish_run(run_id, "interrupted", {"line": report.line(),
                                                     "sources": [vars(s) for s in report.sources]})
        raise
    finally:
        parsers.close()
        ctx.store.release_sources(claimed)
    return _finish(ctx, run_id, report)


def _prepare(ctx: Context) -> Callable[[Source, list[Item]], Sequence[links.Entry]]:
    """What the parsers do next to a source's items: tag them (the tagger compiled when first needed, in the
    process that parses), and compute their link keys (what most of one source's items share is its
    boilerplate: keys are found source by source)."""
    from veille.tag.duplicates import link_entries

    def prepare(source: Source, items: list[Item]) -> Sequence[links.Entry]:
        ctx.tagger.tag_many(items, [source.topics] * len(items))
        return link_entries(items)

    return prepare


def _finish(ctx: Context, run_id: int, report: CollectReport) -> CollectReport:
    """Sort the report as sources.yaml lists the sources, record the run's end; return the report."""
    order = {s.name: i for i, s in enumerate(ctx.config.sources)}
    report.sources.sort(key=lambda s: order.get(s.name, len(order)))
    status = "failed" if report.failed and report.ok == 0 else "ok"
    ctx.store.finish_run(run_id, status, {"line": report.line(), "sources": [vars(s) for s in report.sources]})
    log.info("collect finished: %s", report.line(), extra={"run": run_id, "status": status})
    return report


def collect_queued(ctx: Context, name: str, worker: str, http: HttpSettings | None = None) -> SourceReport:
    """Collect one source for a queue job (`veille worker`): fetched, parsed and tagged in this thread, stored in
    one transaction with its fetch state (recorded as collected by `worker`). A source no longer configured, or
    disabled since the job was deferred, is skipped; so is one that a `veille collect` is collecting now."""
    from veille.collect import Validators, collect
    from veille.collect.parsing import Parsers
    from veille.store.claims import QUEUE_OWNER

    source = ctx.config.source(name)
    if source is None or not source.enabled:
        return SourceReport(name, "skipped", error="no longer in sources.yaml" if source is None else "disabled")
    collected_at = ctx.clock()
    states = ctx.store.fetch_states(counts=False, names=[name])
    claimed, busy = ctx.store.claim_sources([name], collected_at, owner=QUEUE_OWNER)
    if busy:
        return busy_report(name, busy[name])
    try:
        state = states.get(name)
        validators = Validators(state.etag, state.last_modified) if state else Validators()
        outcome = collect([source], {name: validators}, http or ctx.http(),
                          parsers=Parsers(_prepare(ctx), 0, 1))[0]
        with ctx.store.batch(serial=True):  # fetched and parsed at once with other jobs, stored one at a time
            return _store_outcomes(ctx, [outcome], collected_at, worker)[0]
    finally:
        ctx.store.release_sources(claimed, owner=QUEUE_OWNER)


def _store_outcomes(ctx: Context, outcomes: Sequence[SourceOutcome], collected_at: datetime,
                    by: str | None = None) -> list[SourceReport]:
    """Store fetched sources' items together, tag and link the new and changed ones, record every fetch state (as
    fetched `by` that process); return one report per outcome. One call is one batch: each statement runs once
    for all the sources."""
    from veille.tag.duplicates import same_story

    fetched = [o for o in outcomes if o.ok]
    for outcome in fetched:
        for item in outcome.items:
            item.collected_at = collected_at
    prepared = [e for o in fetched if o.items  # the parsers tagged the items, found their link keys (`_prepare`)
                for e in (o.prepared if o.prepared is not None else _prepare(ctx)(o.source, o.items))]
    # a new item is stored with its signature, as its own cluster: only those that join others are updated
    new, updated = ctx.store.upsert_items([item for o in fetched for item in o.items],
                                          signatures={e[0].id: e[3] for e in prepared})
    changed = {item.id for item in [*new, *updated]}
    fresh = [item.id for item in new]
    ctx.store.link_all([e for e in prepared if e[0].id in changed], same_story, fresh=fresh)
    ctx.store.save_tags([*new, *updated], fresh=fresh)
    ctx.store.record_fetches([
        Fetched(o.source.name, ok=True, status=o.status, etag=o.validators.etag,
                last_modified=o.validators.last_modified, by=by) if o.ok else
        Fetched(o.source.name, ok=False, status="failed", error=o.error, retry_after=o.retry_after, by=by)
        for o in outcomes])
    added = Counter(i.source for i in new)
    changed_count = Counter(i.source for i in updated)
    return [SourceReport(o.source.name, o.status, len(o.items), added[o.source.name], changed_count[o.source.name],
                         seconds=round(o.seconds, 3), http_status=o.http_status, bytes=o.bytes, skipped=o.skipped)
            if o.ok else SourceReport(o.source.name, "failed", error=o.error, seconds=round(o.seconds, 3))
            for o in outcomes]


def try_source(ctx: Context, name: str, http: HttpSettings | None = None) -> tuple[SourceOutcome, list[Item]]:
    """Fetch one source and tag its items without storing anything (an admin's dry run)."""
    from veille.collect import collect

    source = select_sources(ctx.config, [name])[0]
    outcome = collect([source], {}, http or ctx.http(), keep_payloads=True)[0]
    ctx.tagger.tag_many(outcome.items, [source.topics] * len(outcome.items))
    return outcome, outcome.items


def selector_matches(outcome: SourceOutcome) -> list[tuple[str, dict[str, int]]]:
    """For a `page` source tried, (page address, {selector: nodes matched}) of each page fetched; [] otherwise."""
    from veille.collect.connectors.page import selector_counts

    if outcome.source.type != "page":
        return []
    return [(r.url, selector_counts(outcome.source.options, r.content)) for r in outcome.payloads]


# --- digest ----------------------------------------------------------------------------------------


@dataclass
class DigestReport:
    week: str
    items: int
    files: list[Path] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        """The report for scripts (`veille digest --json`): the week, its items, the files, the emails."""
        return {"week": self.week, "items": self.items, "files": [str(path) for path in self.files],
                "emails": [vars(email) for email in self.emails], "error": self.error}


def site_links(ctx: Context, member_id: str | None) -> SiteLinks | None:
    """Links to the reports site when VEILLE_SITE_URL is set; a member's carry its sign-in token. With
    VEILLE_SITE_SECRET, each item gets its reader's two verdict links ("relevant", "not for us")."""
    from veille.digest.render import SiteLinks

    if not ctx.settings.site_url:
        return None
    member = ctx.config.member(member_id) if member_id else None
    secret = ctx.settings.site_secret or ""
    members = {m.id: m for m in ctx.config.members}
    reader = member.id if member else GROUP
    return SiteLinks(ctx.settings.site_url, member_token(secret, member) if member else None, reader,
                     lambda item_id: verdict_code(secret, reader, item_id, members))


def week_items(ctx: Context, week: Week, now: datetime) -> assemble.WeekItems:
    """The week's items and the tenders still open at `now`, with their notices (the week before is counted
    with the trend)."""
    from veille.digest import assemble

    zone = ctx.settings.zone
    one = assemble.Tenders.one_per_tender
    items = one(ctx.store.items(ItemQuery(since=week.bounds(zone)[0], until=week.bounds(zone)[1])))
    # in the deployment's zone: a deadline given as a day is open until that day ends there. Only the notices
    # due within the closing window are read: a tender's current notice (its latest stating a deadline) is among
    # them whenever the tender closes soon, and the clusters read below give each tender its notices
    window = now.astimezone(zone) + assemble.CLOSING_SOON + timedelta(days=2)
    open_tenders = ctx.store.items(ItemQuery(kinds=("tender",), deadline_from=now.astimezone(zone),
                                             deadline_until=window))
    tenders = assemble.Tenders(ctx.store.clusters({i.cluster_id for i in [*items, *open_tenders] if i.cluster_id}))
    return assemble.WeekItems(items, tenders.closing(open_tenders, now, zone), tenders)


def _trend_counts(ctx: Context, weeks: Sequence[Week], members: Sequence[str]) -> Callable[
        [Sequence[Week], str | None, Sequence[str]], tuple[dict[str, list[int]], dict[str, list[int]]]]:
    """The digests' trend counts over `weeks` (the working group's and `members`'): counted once by the
    database for all digests, in a thread that starts now (the database counts while the week's items are read
    and rendered; an aggregate query holds no Python lock)."""
    from concurrent.futures import ThreadPoolExecutor

    from veille.digest.summarize import WeeklyCounts

    pool = ThreadPoolExecutor(1, thread_name_prefix="trend")
    counted = pool.submit(ctx.store.trend_counts, [w.bounds(ctx.settings.zone) for w in weeks], members)
    pool.shutdown(wait=False)
    read: list[WeeklyCounts] = []

    def counts(asked: Sequence[Week], member: str | None, topics: Sequence[str]) -> tuple[
            dict[str, list[int]], dict[str, list[int]]]:
        assert list(asked) == list(weeks), (asked, weeks)
        if not read:
            read.append(WeeklyCounts(counted.result(), len(weeks)))
        return read[0].counts(member, topics)

    return counts


def build_digest(ctx: Context, *, week: Week | None = None, member_ids: Sequence[str] = (),
                 mode: str = "build", reports_dir: Path = Path("reports"), resend: bool = False,
                 now: datetime | None = None) -> DigestReport:
    """Build a week's digest files and, in `send` mode, email them; `dry-run` sends nothing.

    Without `member_ids`: the full digest for the working group plus one for each member whose
    profile says `digest: true`. With them: only those members' filtered digests.
    """
    from veille.digest import assemble
    from veille.digest.files import listed_tenders, write_files
    from veille.digest.render import listed_items
    from veille.export.ics import to_ics

    now = now or ctx.clock()
    week = week or Week.last_complete(now, ctx.settings.zone)
    assemble.check_members(ctx.config, member_ids)
    plans = assemble.plan(ctx.config, member_ids, reports_dir / str(week))
    counts = _trend_counts(ctx, assemble.trend_weeks(week), [p.member for p in plans if p.member])
    found = week_items(ctx, week, now)
    zone = ctx.settings.zone
    # the verdict links need the site and its secret; without them there is no feedback to report (and only the
    # working group's digest reports it)
    links = bool(ctx.settings.site_url and ctx.settings.site_secret)
    feedback = week_feedback(ctx, week) if links and any(p.member is None for p in plans) else None
    settings = assemble.Settings(ctx.config, zone, now, ctx.settings.mail_from,
                                 lambda member: site_links(ctx, member),
                                 unhealthy(ctx.config.sources, ctx.store.fetch_states()),
                                 counts, feedback)
    report = DigestReport(str(week), len(found.items))
    messages = []
    built = []
    events: dict[tuple[str, str], bytes] = {}  # each tender's calendar event, made once for every calendar
    for digest in plans:
        chosen, rendered = assemble.render(digest, week, found, settings)
        calendar = to_ics(listed_tenders(chosen), now, ctx.settings.zone, ctx.config.lang_of(digest.member), events)
        report.files += write_files(digest.folder, rendered, chosen, calendar,
                                    lang=ctx.config.lang_of(digest.member), zone=ctx.settings.zone)
        messages += assemble.messages(digest, rendered, week, settings)
        built.append((digest.id, rendered, len(listed_items(chosen))))
    if plans[0].member is None:
        messages += assemble.admin_alert(week, settings)
    if mode != "send":
        report.emails = [Email(str(m["To"]), d, str(m["Subject"]), "would-send") for d, m in messages]
        return report
    smtp = ctx.smtp()
    delivery = (to_outbox(messages, reports_dir / str(week) / "outbox") if smtp is None
                else by_smtp(messages, str(week), ctx.store, smtp, resend))
    report.emails, report.error = delivery.emails, delivery.error
    for digest_id, rendered, count in built:  # the site's archive shows each digest as it was sent
        sent = sum(e.digest == digest_id and e.status == "sent" for e in delivery.emails)
        if sent:
            ctx.store.save_sent_digest(str(week), digest_id, rendered.html, count, sent, now)
    return report


# --- reports, retag, the reports site -------------------------------------------------------------------


def report_items(ctx: Context, query: ItemQuery, fmt: str, sort: str = "relevance",
                 lang: Lang | None = None) -> tuple[int, str]:
    """Return how many items match `query` and their rendering in `fmt`, most relevant first (or newest with
    `sort="date"`, the soonest deadline first with `sort="deadline"`), for readers of `lang` (default: the language
    of the query's member, else the digest's), times in the deployment's zone; an iCalendar gives each tender the
    deadline of its latest notice stating one, whichever of its notices `query` keeps. A CSV is written from the
    store's rows (`export.frame`), the other formats from items."""
    if query.member and ctx.config.member(query.member) is None:
        raise InputError(f"unknown member {query.member!r}; members: {', '.join(m.id for m in ctx.config.members)}")
    unknown = [t for t in query.topics if t not in ctx.config.topic_ids]
    if unknown:
        raise InputError(f"unknown topic {unknown[0]!r}; topics: {', '.join(ctx.config.topic_ids)}")
    unknown = [s for s in query.sources if ctx.config.source(s) is None]
    if unknown:
        raise InputError(f"unknown source {unknown[0]!r}; sources: {', '.join(s.name for s in ctx.config.sources)}")
    lang = lang or ctx.config.lang_of(query.member)
    if fmt == "csv":  # from the store's rows through a frame: no object per item
        from veille.export.frame import CELLS, COLUMNS, report_csv

        with _collector_paused():
            rows = ctx.store.report_rows(replace(query, limit=None if sort == "relevance" else query.limit,
                                                 order="deadline" if sort == "deadline" else "newest"), COLUMNS, CELLS)
            return report_csv(*rows, member=query.member, by_relevance=sort == "relevance", limit=query.limit,
                              lang=lang, zone=ctx.settings.zone)
    if sort == "relevance":
        items = ctx.store.items(replace(query, limit=None))
        items.sort(key=lambda i: -i.relevance(query.member))  # stable: newest first among equals
        items = items[:query.limit] if query.limit else items
    else:
        items = ctx.store.items(replace(query, order="deadline" if sort == "deadline" else "newest"))
    filters = {"topics": ", ".join(query.topics), "kind": ", ".join(query.kinds), "member": query.member,
               "region": ", ".join(query.regions), "since": query.since, "until": query.until}
    from veille.export import formats

    rendered = tender_notices(ctx, items) if fmt == "ics" else items
    return len(items), formats.render(rendered, fmt, filters, ctx.clock(), lang=lang, zone=ctx.settings.zone)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a report's rows are read and written: millions of tuples and strings,
    no cycle among them, that it would otherwise walk again and again (a twentieth of a large report's time)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def tender_notices(ctx: Context, items: Sequence[Item]) -> list[Item]:
    """Every stored notice of the tenders among `items` (a tender being a cluster): what a calendar of their current
    deadlines is made from, whichever notice stands for each tender."""
    tenders = [i for i in items if i.kind == "tender"]
    clusters = ctx.store.clusters({i.cluster_id for i in tenders if i.cluster_id})
    return [notice for i in tenders for notice in (clusters.get(i.cluster_id or "") or [i])]


def retag(ctx: Context, since: datetime | None = None,
          on_batch: Callable[[int], None] | None = None) -> int:
    """Re-apply the taxonomy and member profiles to stored items, batch by batch (the archive is streamed,
    never loaded whole); return how many were retagged. `on_batch(n)` is called after each batch."""
    sources = {s.name: s.topics for s in ctx.config.sources}
    count = 0
    for batch in ctx.store.iter_items(since):
        ctx.tagger.tag_many(batch, [sources.get(item.source, ()) for item in batch])
        ctx.store.save_tags(batch)
        count += len(batch)
        if on_batch:
            on_batch(len(batch))
    return count


def source_health(ctx: Context) -> list[dict[str, str]]:
    """The health table of the configured sources, as rows (with the next collect `veille run` scheduled, or on
    PostgreSQL the one its queue's scheduler defers, and the worker that collected each source last)."""
    states = ctx.store.fetch_states()
    if not ctx.store.queue_ready():
        return health_rows(ctx.config.sources, states, ctx.settings.zone, ctx.store.scheduled_runs())
    now = ctx.clock()
    scheduled = {f"collect:{s.name}": periods.next_collect(s, states.get(s.name), now)[0] for s in ctx.config.sources}
    return health_rows(ctx.config.sources, states, ctx.settings.zone, scheduled,
                       ctx.store.queued_sources(periods.COLLECT))


def digest_path(ctx: Context, week: Week, member_id: str | None = None) -> Path:
    """Where a week's digest is built: the working group's, or a member's (under `members/<id>/`)."""
    folder = ctx.settings.reports_dir / str(week)
    return (folder / "members" / member_id if member_id else folder) / "digest.html"


def digest_page(ctx: Context, week: Week, member_id: str | None = None) -> str:
    """The HTML of a week's digest for the working group (or for one member): the file built for that week, else
    built now as it would have been when the week ended (never as of a later day)."""
    path = digest_path(ctx, week, member_id)
    if not path.is_file():
        end = min(week.bounds(ctx.settings.zone)[1], ctx.clock())
        build_digest(ctx, week=week, member_ids=[member_id] if member_id else (), mode="build",
                     reports_dir=ctx.settings.reports_dir, now=end)
    return path.read_text(encoding="utf-8")


def member_links(ctx: Context) -> list[tuple[str, str | None]]:
    """(member id, sign-in link to the reports site, None without site access) for every member."""
    from veille.digest.render import SiteLinks

    base = ctx.settings.site_url or "http://127.0.0.1:8000"
    tokens = [(m.id, member_token(ctx.settings.site_secret or "", m)) for m in ctx.config.members]
    return [(member_id, SiteLinks(base, token).url("/") if token else None) for member_id, token in tokens]


# --- readers' verdicts: the export, today's rules scored against them, the changes they call for ----------

FEEDBACK_SAMPLE = 2_000  # the newest stored items, against which a proposed change is weighed


def feedback_rows(ctx: Context, reader: str | None = None) -> list[dict[str, object]]:
    """Every verdict (of `reader` when given), oldest first, with its item: what `veille feedback` exports."""
    verdicts = ctx.store.verdicts(reader)
    items = {i.id: i for i in ctx.store.items_by_ids([v.item_id for v in verdicts])}
    zone = ctx.settings.zone
    rows = []
    for v in verdicts:
        item = items.get(v.item_id)
        rows.append({"at": v.at.astimezone(zone).replace(tzinfo=None), "reader": v.reader, "verdict": v.verdict,
                     "id": v.item_id, "kind": item.kind if item else "", "title": item.title if item else "",
                     "url": item.url or "" if item else "", "source": item.source if item else "",
                     "topics": ";".join(sorted(item.topics)) if item else "",
                     "members": ";".join(sorted(item.members)) if item else ""})
    return rows


def _readers(ctx: Context, member: str | None) -> list[str]:
    """The readers whose verdicts are looked at: `member`, else every reader who gave one (the group first)."""
    if member is not None:
        if member != GROUP and ctx.config.member(member) is None:
            raise InputError(f"unknown member {member!r}; members: {', '.join(m.id for m in ctx.config.members)}")
        return [member]
    known = {m.id for m in ctx.config.members} | {GROUP}  # a member removed since: its verdicts aside
    given = {v.reader for v in ctx.store.verdicts()} & known
    return sorted(given, key=lambda r: (r != GROUP, r))


def _judged(ctx: Context, reader: str) -> list[tuple[Item, str]]:
    """The items `reader` gave a verdict on, still stored, with the verdict."""
    verdicts = ctx.store.verdicts(reader)
    items = {i.id: i for i in ctx.store.items_by_ids([v.item_id for v in verdicts])}
    return [(items[v.item_id], v.verdict) for v in verdicts if v.item_id in items]


def feedback_scores(ctx: Context, member: str | None = None) -> list[dict[str, object]]:
    """Today's rules against the verdicts, per reader: of the judged items the rules send it now (a member: its
    profile matches; the group: a topic or a match, as its digest lists them), how many it found relevant; and
    the relevant items they do not send (missed)."""
    from veille.tag.suggest import Retagger

    retag = Retagger(ctx.config.topics, {s.name: s.topics for s in ctx.config.sources})
    out: list[dict[str, object]] = []
    for reader in _readers(ctx, member):
        judged = _judged(ctx, reader)
        items = [i for i, _ in judged]
        profile = ctx.config.member(reader)
        # a member: what its profile matches; the working group: what its digest lists
        sent = retag.members(profile, items) if profile else retag.listed(ctx.config.members, items)
        relevant = [v == "relevant" for _, v in judged]
        hits = sum(s and r for s, r in zip(sent, relevant, strict=True))
        out.append({"reader": reader, "verdicts": len(judged), "relevant": sum(relevant),
                    "not_relevant": len(judged) - sum(relevant), "sent": sum(sent), "sent_relevant": hits,
                    "precision": round(hits / sum(sent), 3) if sum(sent) else None,
                    "missed": [{"id": i.id, "title": i.title} for (i, v), s in zip(judged, sent, strict=True)
                               if v == "relevant" and not s]})
    return out


def suggestions(ctx: Context, member: str | None = None) -> list[Suggestion]:
    """The changes the verdicts call for: each member's exclusions and keywords, the group's topic exclusions."""
    from veille.tag.suggest import Retagger, suggest_group, suggest_member

    retag = Retagger(ctx.config.topics, {s.name: s.topics for s in ctx.config.sources})
    sample = ctx.store.items(ItemQuery(limit=FEEDBACK_SAMPLE))
    out: list[Suggestion] = []
    for reader in _readers(ctx, member):
        judged = _judged(ctx, reader)
        profile = ctx.config.member(reader)
        if profile is not None:
            out += suggest_member(profile, judged, sample, retag)
        elif reader == GROUP:
            out += suggest_group(ctx.config.topics, judged, sample, retag)
    return out


def week_feedback(ctx: Context, week: Week) -> Feedback:
    """The working group's line of feedback: the verdicts given during `week`, the suggestions pending."""
    from veille.digest.render import Feedback

    start, end = week.bounds(ctx.settings.zone)
    given = ctx.store.verdicts(since=start, until=end)
    relevant = sum(v.verdict == "relevant" for v in given)
    pending = len(suggestions(ctx)) if ctx.store.verdicts() else 0
    return Feedback(relevant, len(given) - relevant, pending)
