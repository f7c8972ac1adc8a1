"""The weekly digests (`/digests`, `/digests/<YYYY-Www>`) and the sources' health (`/sources`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bs4 import BeautifulSoup
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from veille import pipeline
from veille.digest.weeks import Week
from veille.errors import InputError
from veille.i18n import N_
from veille.web.site import Site, bad_request, not_found, page, reading_of, site_of, who_of

RECENT_WEEKS = 8


def digest_weeks(site: Site, now: datetime, recent: int = RECENT_WEEKS) -> list[Week]:
    """Weeks whose digest can be shown: those built under the reports folder, and the last `recent` weeks."""
    last = Week.last_complete(now, site.zone)
    weeks = {last}
    for _ in range(recent - 1):
        last = last.previous()
        weeks.add(last)
    folder = site.settings.reports_dir
    if folder.is_dir():
        for path in folder.glob("*/digest.html"):
            try:
                weeks.add(Week.parse(path.parent.name))
            except ValueError:
                continue
    return sorted(weeks, key=str, reverse=True)


def digests(request: Request) -> Response:
    """The weeks, newest first, each with its dates and, once sent, its number of items and its sending date."""
    site = site_of(request)
    reading = reading_of(request)
    weeks = digest_weeks(site, site.now())
    own = site.own(who_of(request))
    sent = site.ctx.store.sent_digests(own or "full")
    rows = []
    for week in weeks:
        start, end = (b.astimezone(site.zone).date() for b in week.bounds(site.zone))
        done = sent.get(str(week))
        rows.append({"week": str(week), "number": week.number,
                     "period": reading.fmt.period(start, end - timedelta(days=1)),
                     "built": pipeline.digest_path(site.ctx, week, own).is_file(),
                     "sent": reading.fmt.day(done["sent_at"]) if done else None, "count": done["items"] if done else 0})
    return page(request, "digests.html.j2", weeks=rows, title=reading._(WEEKLY_DIGESTS))


WEEKLY_DIGESTS = N_("Weekly digests")
NOT_BEGUN = N_("Week {week} has not begun.")
NO_DIGEST = N_("No digest for week {week}: the archive holds no item of that week.")
DIGEST_TITLE = N_("Digest of week {week}")


def digest(request: Request) -> Response:
    """A week's digest: the working group's, or its own for a member who may not see the other members (without
    the names of the members each item matters to)."""
    site = site_of(request)
    own = site.own(who_of(request))
    try:
        week = Week.parse(request.path_params["week"])
    except ValueError as exc:
        return bad_request(request, InputError(str(exc)))
    _ = reading_of(request)._
    start, end = week.bounds(site.zone)
    if start > site.now():
        return not_found(request, _(NOT_BEGUN).format(week=week))
    built = pipeline.digest_path(site.ctx, week, own).is_file()
    stored = site.ctx.store.sent_digest(str(week), own or "full")  # as it was sent, when it was
    seen = site.ctx.store.seen_range()
    # nothing to build: no file written
    if not built and not stored and (seen is None or end <= seen[0] or start > seen[1]):
        return not_found(request, _(NO_DIGEST).format(week=week))
    html = stored["html"] if stored else pipeline.digest_page(site.ctx, week, own)
    soup = BeautifulSoup(html, "html.parser")
    if own:
        for names in soup.select(".for"):  # "for <members>": the others' names
            names.decompose()
    body = soup.body.decode_contents() if soup.body else ""
    sent = {"when": reading_of(request).fmt.moment(stored["sent_at"]), "recipients": stored["recipients"]} \
        if stored else None
    return page(request, "digest.html.j2", week=str(week), body=Markup(body), title=_(DIGEST_TITLE).format(week=week),
                sent=sent)


def sources_page(request: Request) -> Response:
    return page(request, "sources.html.j2", rows=pipeline.source_health(site_of(request).ctx),
                title=reading_of(request)._("Sources"))
