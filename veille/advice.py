"""`veille check`'s warnings: a configuration that runs but will not do what its admin expects (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from veille.models import Config, FetchState

IDLE = timedelta(days=90)  # a disabled source not collected for this long is probably forgotten


@dataclass(frozen=True)
class Warning_:
    """Something to look at; the configuration is valid."""

    file: str
    subject: str  # the source name, member id or setting it is about
    message: str

    def __str__(self) -> str:
        return f"warning: {self.file}: {self.subject}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "subject": self.subject, "message": self.message}


def warnings(config: Config, site_url: str | None, site_secret: str | None,
             states: Mapping[str, FetchState], now: datetime) -> list[Warning_]:
    """What `veille check` warns of: member digests without the site's address, a site address without the secret
    of sign-in links, a source disabled for months, two sources fetching one address."""
    found = []
    with_digest = [m.id for m in config.members if m.digest]
    if with_digest and not site_url:
        found.append(Warning_("members.yaml", ", ".join(with_digest), "digest: true but VEILLE_SITE_URL is not set: "
                              "their digests will have no link to the reports site"))
    if site_url and not site_secret:
        found.append(Warning_("environment", "VEILLE_SITE_SECRET", "VEILLE_SITE_URL is set but VEILLE_SITE_SECRET is "
                              "not: digests link to the site without a sign-in, and members cannot open it"))
    for source in config.sources:
        state = states.get(source.name)
        last = state.last_fetch_at if state else None
        if not source.enabled and last is not None and now - last >= IDLE:
            found.append(Warning_("sources.yaml", source.name, f"disabled and not collected for {(now - last).days} "
                                  "days: enable it again or remove it"))
    first: dict[tuple[str, str, str], str] = {}
    for source in config.sources:  # one API address serves many queries: the same only with the same options
        key = (source.type, source.url.rstrip("/"), json.dumps(source.options, sort_keys=True, default=str))
        if key in first:
            found.append(Warning_("sources.yaml", source.name, f"same URL and options as {first[key]!r}: "
                                  f"{source.url} is collected twice (its items are stored twice)"))
        first.setdefault(key, source.name)
    return found
