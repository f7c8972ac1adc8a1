"""The only module that knows the stage order: config → collect → store → tag → digest.

The CLI, the scheduler, the demo and the tests all call these functions; each returns a report object
and prints nothing.
"""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from veille import config as config_module
from veille.collect import REGISTRY, HttpSettings, SourceOutcome, Validators, collect, options_model, parse_payload
from veille.digest.deliver import Refusal, SmtpSettings, build_message, send, write_outbox
from veille.digest.render import SiteLinks, render_alert, render_digest
from veille.digest.summarize import frame, summarize
from veille.digest.weeks import Week
from veille.errors import DeliveryError, InputError
from veille.export import formats
from veille.export.atom import to_atom
from veille.export.health import health_rows, unhealthy
from veille.export.ics import to_ics
from veille.export.xlsx import to_xlsx
from veille.models import Config, Item, ItemQuery, Kind, Source
from veille.store import Store
from veille.store.index import FacetIndex
from veille.tag import Tagger
from veille.tag.duplicates import band_keys, link_keys, near, simhash, story_text
from veille.web.access import member_token

CLOSING_SOON = timedelta(days=14)
log = logging.getLogger("veille.pipeline")


@dataclass
class Context:
    """A validated configuration, its settings, an open store and a compiled tagger."""

    config: Config
    settings: config_module.Settings
    store: Store
    tagger: Tagger
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def close(self) -> None:
        self.store.close()


def load_config(directory: Path) -> Config:
    """Validate the configuration folder (raises ConfigError listing every problem)."""
    return config_module.load(directory, options_model)


def open_context(directory: Path, env: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] | None = None) -> Context:
    """Validate the configuration, read the VEILLE_* settings (from `env` or the environment), open the store;
    `clock` gives "now" (the wall clock by default)."""
    config = load_config(directory)
    settings = config_module.read_settings(directory, env)
    store = Store.open(settings.db_url)
    ctx = Context(config, settings, store, Tagger.build(config.topics, config.members))
    if clock is not None:
        ctx.clock = clock
    return ctx


# --- collect ---------------------------------------------------------------------------------------


@dataclass
class SourceReport:
    name: str
    status: str
    items: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None
    seconds: float = 0.0
    http_status: int | None = None
    bytes: int = 0


@dataclass
class CollectReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(s.status in ("ok", "not-modified") for s in self.sources)

    @property
    def failed(self) -> int:
        return sum(s.status == "failed" for s in self.sources)

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.sources)

    def line(self) -> str:
        not_modified = sum(s.status == "not-modified" for s in self.sources)
        waiting = sum(s.status == "waiting" for s in self.sources)
        wait_note = f", {waiting} waiting (backoff)" if waiting else ""
        return (f"{len(self.sources)} sources: {self.ok} ok ({not_modified} not modified), {self.failed} failed"
                f"{wait_note}; items: {self.new} new, {self.updated} updated")


def http_settings(ctx: Context) -> HttpSettings:
    return HttpSettings(timeout=ctx.settings.http_timeout, host_delay=ctx.settings.host_delay,
                        concurrency=ctx.settings.concurrency)


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
    sources = select_sources(ctx.config, names)
    states = ctx.store.fetch_states()
    validators = {n: Validators(s.etag, s.last_modified) for n, s in states.items()}
    run_id = ctx.store.start_run("collect")
    log.info("collect started: %d sources", len(sources), extra={"run": run_id})
    collected_at = now or ctx.clock()
    report = CollectReport()
    if not names:  # sources named by an admin are tried at once; the others wait out their backoff
        waiting = {s.name for s in sources if (states.get(s.name) and states[s.name].next_attempt_at
                                               and states[s.name].next_attempt_at > collected_at)}  # type: ignore
        for name in sorted(waiting):
            state = states[name]
            report.sources.append(SourceReport(name, "waiting", error=(
                f"waiting until {state.next_attempt_at:%Y-%m-%d %H:%M} UTC after {state.failures} failure"
                f"{'s' if state.failures != 1 else ''}: {state.last_error}")))
        sources = [s for s in sources if s.name not in waiting]
    def done(outcome: SourceOutcome) -> None:
        # stored as soon as a source is done: a run killed half-way keeps what it had fetched
        stored = _store_outcome(ctx, outcome, collected_at)
        report.sources.append(stored)
        log.log(logging.WARNING if stored.status == "failed" else logging.INFO, "source %s: %s", stored.name,
                stored.status, extra={"run": run_id, **{k: v for k, v in vars(stored).items() if k != "name"},
                                      "source": stored.name})
        if on_done:
            on_done(outcome)

    collect(sources, validators, http or http_settings(ctx), done)
    order = {s.name: i for i, s in enumerate(ctx.config.sources)}
    report.sources.sort(key=lambda s: order.get(s.name, len(order)))
    status = "failed" if report.failed and report.ok == 0 else "ok"
    ctx.store.finish_run(run_id, status, {"line": report.line(), "sources": [vars(s) for s in report.sources]})
    log.info("collect finished: %s", report.line(), extra={"run": run_id, "status": status})
    return report


def _store_outcome(ctx: Context, outcome: SourceOutcome, collected_at: datetime) -> SourceReport:
    source = outcome.source
    if not outcome.ok:
        ctx.store.record_fetch(source.name, ok=False, status="failed", error=outcome.error,
                               retry_after=outcome.retry_after)
        return SourceReport(source.name, "failed", error=outcome.error, seconds=round(outcome.seconds, 3))
    for item in outcome.items:
        item.collected_at = collected_at
    new, updated = ctx.store.upsert_items(outcome.items)
    changed = new + updated
    ctx.tagger.tag_many(changed, [source.topics] * len(changed))
    _link(ctx, changed)
    ctx.store.save_tags(changed)
    ctx.store.record_fetch(source.name, ok=True, status=outcome.status,
                           etag=outcome.validators.etag, last_modified=outcome.validators.last_modified)
    return SourceReport(source.name, outcome.status, len(outcome.items), len(new), len(updated),
                        seconds=round(outcome.seconds, 3), http_status=outcome.http_status, bytes=outcome.bytes)


def _link(ctx: Context, items: Sequence[Item]) -> None:
    """Cluster each item with the other notices of its tender, or the other copies of its story (one
    transaction for a source's items).

    Exact keys (identifiers, URL, buyer + title) link directly; SimHash bands only propose candidates,
    kept when their signatures are within 3 bits (near-identical text)."""
    entries = []
    for item in items:
        signature = simhash(story_text(item))
        entries.append((item, link_keys(item), band_keys(signature), signature))
    ctx.store.link_all(entries, near)


def try_source(ctx: Context, name: str, http: HttpSettings | None = None) -> tuple[SourceOutcome, list[Item]]:
    """Fetch one source and tag its items without storing anything (an admin's dry run)."""
    source = select_sources(ctx.config, [name])[0]
    outcome = collect([source], {}, http or http_settings(ctx))[0]
    ctx.tagger.tag_many(outcome.items, [source.topics] * len(outcome.items))
    return outcome, outcome.items


def inspect_file(type_name: str, path: Path, options: dict[str, Any] | None = None,
                 kind: Kind = "news", country: str | None = None) -> list[Item]:
    """Parse a saved payload with connector `type_name`; raises InputError on unreadable input."""
    if type_name not in REGISTRY:
        raise InputError(f"unknown type {type_name!r}; known types: {', '.join(sorted(REGISTRY))}")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        source = Source(name=path.name, kind=kind, type=type_name, url=f"https://inspect.invalid/{path.name}",
                        country=country, options=options or {})
        REGISTRY[type_name].options(**(options or {}))
    except ValueError as exc:
        raise InputError(f"bad options for type {type_name!r}: {exc}") from exc
    try:
        return parse_payload(source, content)
    except Exception as exc:
        raise InputError(f"{path}: {exc}") from exc


# --- digest ----------------------------------------------------------------------------------------


@dataclass
class Email:
    recipient: str
    digest: str  # "full" or a member id
    subject: str
    status: str  # sent | outbox | already-sent | would-send | failed
    path: str | None = None


@dataclass
class DigestReport:
    week: str
    items: int
    files: list[Path] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    error: str | None = None


def smtp_settings(ctx: Context) -> SmtpSettings | None:
    s = ctx.settings
    if not s.smtp_host:
        return None
    return SmtpSettings(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_tls)


def build_digest(ctx: Context, *, week: Week | None = None, member_ids: Sequence[str] = (),
                 mode: str = "build", reports_dir: Path = Path("reports"), resend: bool = False,
                 now: datetime | None = None) -> DigestReport:
    """Build a week's digest files and, in `send` mode, email them; `dry-run` sends nothing.

    Without `member_ids`: the full digest for the working group plus one for each member whose
    profile says `digest: true`. With them: only those members' filtered digests.
    """
    now = now or ctx.clock()
    zone = ctx.settings.zone
    week = week or Week.last_complete(now, zone)
    for member_id in member_ids:
        if ctx.config.member(member_id) is None:
            known = ", ".join(m.id for m in ctx.config.members)
            raise InputError(f"unknown member {member_id!r}; members: {known}")
    start, end = week.bounds(zone)
    prev_start, prev_end = week.previous().bounds(zone)
    histories = _Histories(ctx.store)
    items = histories.one_per_tender(ctx.store.items(ItemQuery(since=start, until=end)))
    previous = histories.one_per_tender(ctx.store.items(ItemQuery(since=prev_start, until=prev_end)))
    closing = histories.closing(ctx.store.items(ItemQuery(kinds=("tender",), deadline_from=now)), now, zone)
    out_dir = reports_dir / str(week)
    report = DigestReport(str(week), len(items))
    digests: list[tuple[str, list[str], Path]] = []  # (digest id, recipients, folder)
    if not member_ids:
        digests.append(("full", list(ctx.config.digest.recipients), out_dir))
        member_ids = [m.id for m in ctx.config.members if m.digest]
    digests += [(m, list(ctx.config.member(m).emails), out_dir / "members" / m)  # type: ignore[union-attr]
                for m in member_ids]
    topic_labels = {t.id: t.label for t in ctx.config.topics}
    member_names = {m.id: m.name for m in ctx.config.members}
    health = unhealthy(ctx.config.sources, ctx.store.fetch_states())
    messages: list[tuple[str, EmailMessage]] = []
    for digest_id, recipients, folder in digests:
        member = None if digest_id == "full" else digest_id

        def keep(i: Item, member: str | None = member) -> bool:
            return member is None or member in i.members

        chosen, before = [i for i in items if keep(i)], [i for i in previous if keep(i)]
        rendered = render_digest(
            chosen, summarize(chosen, before, ctx.config.topic_ids), week, zone, topic_labels=topic_labels,
            member_names=member_names, closing=[i for i in closing if keep(i)], member_id=member, now=now,
            histories=histories.of(chosen), source_health=health if member is None else (),
            site=_site_links(ctx, member))
        report.files += _write_files(folder, rendered.html, rendered.text, chosen)
        subject = ctx.config.digest.subject.format(week=week) + (f" — {member_names[member]}" if member else "")
        for recipient in recipients:
            messages.append((digest_id, build_message(sender=ctx.settings.mail_from, recipient=recipient,
                                                      subject=subject, text=rendered.text, html=rendered.html,
                                                      now=now)))
    if health and ctx.config.digest.admins and digests and digests[0][0] == "full":
        lines = [f"{name}: {problem}" for name, problem in health]
        text = (f"{len(health)} source{'s' if len(health) != 1 else ''} need attention (week {week}):\n\n"
                + "\n".join(f"- {line}" for line in lines)
                + "\n\nSee `veille sources` for the whole table; try one with `veille try NAME`.\n")
        html = render_alert(text)
        for admin in ctx.config.digest.admins:
            messages.append(("admin", build_message(
                sender=ctx.settings.mail_from, recipient=admin, now=now, text=text, html=html,
                subject=f"veille: {len(health)} source{'s' if len(health) != 1 else ''} need attention — {week}")))
    if mode == "send":
        _deliver(ctx, report, messages, out_dir / "outbox", resend)
    else:
        report.emails = [Email(str(m["To"]), d, str(m["Subject"]), "would-send") for d, m in messages]
    return report


def _site_links(ctx: Context, member_id: str | None) -> SiteLinks | None:
    """Links to the reports site when VEILLE_SITE_URL is set; a member's carry its sign-in token."""
    if not ctx.settings.site_url:
        return None
    member = ctx.config.member(member_id) if member_id else None
    token = member_token(ctx.settings.site_secret or "", member) if member else None
    return SiteLinks(ctx.settings.site_url, token)


class _Histories:
    """The notices of each tender (cluster), fetched once per digest."""

    def __init__(self, store: Store):
        self.store = store
        self.cache: dict[str, list[Item]] = {}

    def _load(self, items: Sequence[Item]) -> None:
        missing = {i.cluster_id for i in items if i.cluster_id and i.cluster_id not in self.cache}
        self.cache |= {c: [] for c in missing} | self.store.clusters(missing)

    def one_per_tender(self, items: Sequence[Item]) -> list[Item]:
        """Keep the newest notice of each tender: a call and its award count once."""
        newest: dict[str, Item] = {}
        for item in items:  # the store gives newest first
            newest.setdefault(item.cluster_id or item.id, item)
        return list(newest.values())

    def current(self, item: Item) -> Item:
        """The tender's latest notice that states a deadline (a corrigendum moves the deadline)."""
        notices = [n for n in self.cache.get(item.cluster_id or "", []) if n.deadline_at] or [item]
        return max(notices, key=lambda n: (n.published_at or n.collected_at or datetime.min.replace(tzinfo=UTC)))

    def closing(self, items: Sequence[Item], now: datetime, zone: ZoneInfo) -> list[Item]:
        """Tenders whose current deadline is still ahead of `now` and at most CLOSING_SOON days away (calendar
        days in `zone`: a deadline "in 14 days" is closing soon whatever its hour), soonest first."""
        self._load(items)
        current = {c.id: c for c in (self.current(i) for i in self.one_per_tender(items))}
        last_day = (now.astimezone(zone) + CLOSING_SOON).date()
        due = [c for c in current.values()
               if c.deadline_at and now <= c.deadline_at and c.deadline_at.astimezone(zone).date() <= last_day]
        return sorted(due, key=lambda c: c.deadline_at or now)

    def of(self, items: Sequence[Item]) -> dict[str, list[Item]]:
        """Return {item id: all notices of its tender, oldest first} where a tender has several."""
        self._load(items)
        return {i.id: self.cache[i.cluster_id] for i in items
                if i.cluster_id and len(self.cache.get(i.cluster_id, [])) > 1}


def _write_files(folder: Path, html: str, text: str, items: list[Item]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "digest.html", folder / "digest.txt", folder / "items.csv", folder / "deadlines.ics"]
    relevant = [i for i in items if i.kind == "tender" and (i.topics or i.members)]
    paths[3].write_text(to_ics(relevant), encoding="utf-8", newline="")
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(text, encoding="utf-8")
    frame(items).assign(
        topics=lambda d: d["topics"].str.join(";"), members=lambda d: d["members"].str.join(";"),
        cpv=lambda d: d["cpv"].str.join(";"),
    ).to_csv(paths[2], index=False)
    return paths


def _deliver(ctx: Context, report: DigestReport, messages: list[tuple[str, EmailMessage]], outbox: Path,
             resend: bool) -> None:
    """Send what is left to send: each accepted message is recorded at once, so a run killed half-way
    sends the rest next time, and nobody twice."""
    week = report.week
    smtp = smtp_settings(ctx)
    pending: list[tuple[str, EmailMessage]] = []
    for digest_id, message in messages:
        to, subject = str(message["To"]), str(message["Subject"])
        done = {} if resend or smtp is None else ctx.store.delivered(week, digest_id)
        if smtp is None:
            path = write_outbox(outbox if digest_id == "full" else outbox / digest_id, message)
            report.emails.append(Email(to, digest_id, subject, "outbox", str(path)))
        elif done.get(to) in ("sent", "refused"):
            report.emails.append(Email(to, digest_id, subject, "already-sent" if done[to] == "sent" else
                                       "refused-earlier"))
        else:
            # the outbox: a message queued by an interrupted run goes out exactly as it was built
            queued = ctx.store.queued_message(week, to, digest_id) if done.get(to) == "queued" else None
            if queued is not None:
                message = cast(EmailMessage, email.message_from_bytes(queued, policy=email.policy.default))
            else:
                ctx.store.queue_delivery(week, to, digest_id, bytes(message), str(message["Message-ID"]))
            pending.append((digest_id, message))
    if not pending or smtp is None:
        return
    by_message = {id(m): d for d, m in pending}
    refused: list[str] = []

    def sent(message: EmailMessage) -> None:
        digest_id = by_message[id(message)]
        log.info("sent %s to %s", digest_id, message["To"], extra={"week": week, "recipient": str(message["To"]),
                                                                    "status": "sent"})
        ctx.store.record_delivery(week, str(message["To"]), digest_id, "smtp", str(message["Message-ID"]))
        report.emails.append(Email(str(message["To"]), digest_id, str(message["Subject"]), "sent"))

    def not_sent(message: EmailMessage, refusal: Refusal) -> None:
        digest_id, to = by_message[id(message)], str(message["To"])
        if refusal.permanent:  # recorded, reported, not tried again unless --resend
            ctx.store.record_delivery(week, to, digest_id, "smtp", str(message["Message-ID"]), "refused",
                                      str(refusal))
        status = "refused" if refusal.permanent else "deferred"
        log.warning("%s %s to %s: %s", status, digest_id, to, refusal,
                    extra={"week": week, "recipient": to, "status": status, "error": str(refusal)})
        report.emails.append(Email(to, digest_id, str(message["Subject"]), status))
        refused.append(f"{to}: {refusal}")

    try:
        send([m for _, m in pending], smtp, sent, not_sent)
    except DeliveryError as exc:
        report.error = str(exc)
        answered = {(e.recipient, e.digest) for e in report.emails}
        report.emails += [Email(str(m["To"]), d, str(m["Subject"]), "failed") for d, m in pending
                          if (str(m["To"]), d) not in answered]
    if refused and not report.error:
        report.error = (f"SMTP server {smtp.host}:{smtp.port} did not accept {len(refused)} "
                        f"message{'s' if len(refused) != 1 else ''}: {'; '.join(refused)}")


# --- reports, retag, health ---------------------------------------------------------------------------


def report_items(ctx: Context, query: ItemQuery, fmt: str, sort: str = "relevance") -> tuple[list[Item], str]:
    """Return the items matching `query`, most relevant first (or newest with `sort="date"`), and their
    rendering in `fmt`."""
    if query.member and ctx.config.member(query.member) is None:
        raise InputError(f"unknown member {query.member!r}; members: {', '.join(m.id for m in ctx.config.members)}")
    unknown = [t for t in query.topics if t not in ctx.config.topic_ids]
    if unknown:
        raise InputError(f"unknown topic {unknown[0]!r}; topics: {', '.join(ctx.config.topic_ids)}")
    if sort == "relevance":
        items = ctx.store.items(replace(query, limit=None))
        items.sort(key=lambda i: -i.relevance(query.member))  # stable: newest first among equals
        items = items[:query.limit] if query.limit else items
    else:
        items = ctx.store.items(query)
    filters = {"topics": ", ".join(query.topics), "kind": ", ".join(query.kinds), "member": query.member,
               "region": ", ".join(query.regions), "since": query.since, "until": query.until}
    return items, formats.render(items, fmt, filters)


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


# --- the reports site ---------------------------------------------------------------------------------

EXPORTS = {"json": "application/json", "csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "atom": "application/atom+xml; charset=utf-8", "ics": "text/calendar; charset=utf-8"}


def export_items(items: Sequence[Item], fmt: str, *, title: str = "veille", feed_url: str = "",
                 page_url: str = "", item_url: str = "{id}") -> tuple[bytes, str]:
    """Return `items` in export format `fmt` (a key of EXPORTS) and its media type."""
    if fmt == "xlsx":
        return to_xlsx(items), EXPORTS[fmt]
    if fmt == "atom":
        return to_atom(items, title=title, feed_url=feed_url, page_url=page_url, item_url=item_url), EXPORTS[fmt]
    return formats.render(items, fmt, {}).encode("utf-8"), EXPORTS[fmt]


def source_health(ctx: Context) -> list[dict[str, str]]:
    """The health table of the configured sources, as rows."""
    return health_rows(ctx.config.sources, ctx.store.fetch_states(), ctx.settings.zone)


def digest_weeks(ctx: Context, now: datetime | None = None, recent: int = 8) -> list[Week]:
    """Weeks whose digest can be shown: those built under the reports folder, and the last `recent` weeks."""
    last = Week.last_complete(now or ctx.clock(), ctx.settings.zone)
    weeks = {last}
    for _ in range(recent - 1):
        last = last.previous()
        weeks.add(last)
    folder = ctx.settings.reports_dir
    if folder.is_dir():
        for path in folder.glob("*/digest.html"):
            try:
                weeks.add(Week.parse(path.parent.name))
            except ValueError:
                continue
    return sorted(weeks, key=str, reverse=True)


def digest_page(ctx: Context, week: Week) -> str:
    """The HTML of a week's digest for the working group: the file built for that week, else built now."""
    path = ctx.settings.reports_dir / str(week) / "digest.html"
    if not path.is_file():  # as it would have been built when the week ended, not as of today
        end = min(week.bounds(ctx.settings.zone)[1], ctx.clock())
        build_digest(ctx, week=week, mode="build", reports_dir=ctx.settings.reports_dir, now=end)
    return path.read_text(encoding="utf-8")


def member_links(ctx: Context) -> list[tuple[str, str | None]]:
    """(member id, sign-in link to the reports site, None without site access) for every member."""
    base = ctx.settings.site_url or "http://127.0.0.1:8000"
    out = []
    for member in ctx.config.members:
        token = member_token(ctx.settings.site_secret or "", member)
        out.append((member.id, SiteLinks(base, token).url("/") if token else None))
    return out


def facet_index(ctx: Context) -> FacetIndex | None:
    """An in-memory index of the archive's filters and facets (None when it cannot hold them)."""
    return FacetIndex.load(ctx.store)
