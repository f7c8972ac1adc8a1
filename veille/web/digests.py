"""The weekly digests (`/digests`, `/digests/<YYYY-Www>`) and the sources' health (`/sources`)."""

from __future__ import annotations

from datetime import datetime

from bs4 import BeautifulSoup
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from veille import pipeline
from veille.digest.weeks import Week
from veille.errors import InputError
from veille.web.site import Site, bad_request, not_found, page, site_of, who_of

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
    site = site_of(request)
    weeks = digest_weeks(site, site.now())
    own = site.own(who_of(request))
    built = {w for w in weeks if pipeline.digest_path(site.ctx, w, own).is_file()}
    return page(request, "digests.html.j2", weeks=[(str(w), w in built) for w in weeks], title="Weekly digests")


def digest(request: Request) -> Response:
    """A week's digest: the working group's, or its own for a member who may not see the other members (without
    the names of the members each item matters to)."""
    site = site_of(request)
    own = site.own(who_of(request))
    try:
        week = Week.parse(request.path_params["week"])
    except ValueError as exc:
        return bad_request(request, InputError(str(exc)))
    start, end = week.bounds(site.zone)
    if start > site.now():
        return not_found(request, f"Week {week} has not begun.")
    built = pipeline.digest_path(site.ctx, week, own).is_file()
    seen = site.ctx.store.seen_range()
    if not built and (seen is None or end <= seen[0] or start > seen[1]):  # nothing to build: no file written
        return not_found(request, f"No digest for week {week}: the archive holds no item of that week.")
    soup = BeautifulSoup(pipeline.digest_page(site.ctx, week, own), "html.parser")
    if own:
        for names in soup.select(".for"):  # "for <members>": the others' names
            names.decompose()
    body = soup.body.decode_contents() if soup.body else ""
    return page(request, "digest.html.j2", week=str(week), body=Markup(body), title=f"Digest {week}")


def sources_page(request: Request) -> Response:
    return page(request, "sources.html.j2", rows=pipeline.source_health(site_of(request).ctx), title="Sources")
