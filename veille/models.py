"""The shared vocabulary of every stage: sources, members, topics, items."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from veille import keywords
from veille.ids import EU_EEA, GULF, KIND_LABELS, KIND_ORDER, KINDS, REGION_LABELS, REGIONS, region_of
from veille.zones import zone_named

__all__ = ["EU_EEA", "GULF", "KINDS", "KIND_LABELS", "KIND_ORDER", "REGIONS", "REGION_LABELS", "region_of"]

Kind = Literal["tender", "news", "regulation", "funding", "event"]
Region = Literal["FR", "EU", "CA", "BR", "GULF", "OTHER"]
Lang = Literal["fr", "en"]  # the languages readers get: the digest, the site, the exports

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    """Return the number of seconds in a duration such as `30m`, `6h` or `1d`."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit, such as 30m, 6h or 1d")
    seconds = int(match.group(1)) * _SECONDS[match.group(2)]
    if seconds < 60:
        raise ValueError(f"{text!r} is shorter than one minute")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """One entry of sources.yaml."""

    name: str = Field(min_length=1)
    kind: Kind
    type: str
    url: str
    lang: str | None = None
    country: str | None = None
    topics: tuple[str, ...] = ()
    every: str = "6h"
    enabled: bool = True
    allow_private_network: bool = False
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+[^\s]*$", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2}", value):
            raise ValueError(f"{value!r} is not an ISO 639-1 code such as fr, en, pt")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code such as FR, CA, BR")
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def every_seconds(self) -> int:
        return parse_duration(self.every)


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _check_cpv(values: Any, pattern: str, what: str) -> Any:
    """CPV codes as strings (YAML reads 45252127 as a number), each matching `pattern`."""
    values = [str(v) for v in values] if isinstance(values, list | tuple) else values
    for value in values or ():
        if not re.fullmatch(pattern, value):
            raise ValueError(f"{value!r} is not {what}")
    return values


def _check_emails(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
    return values


def _expression(text: str) -> str:
    keywords.parse(text)  # a malformed expression would never match: refused, saying what is wrong
    return text


Expression = Annotated[str, AfterValidator(_expression)]  # a keyword expression, checked entry by entry


class Member(_Strict):
    """One entry of members.yaml: what a member of the cluster wants to see."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(pattern=r"^[^\r\n]+$")  # it goes into email subjects: no header injection
    emails: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    keywords: tuple[Expression, ...] = ()
    cpv: tuple[str, ...] = ()
    regions: tuple[Region, ...] = ()
    kinds: tuple[Kind, ...] = ()
    exclude: tuple[Expression, ...] = ()
    min_score: float = 1.0
    digest: bool = False
    lang: Lang | None = None  # this member's digest and exports; default: digest.lang
    site_token: int = Field(default=1, ge=0)  # version of the member's sign-in link; 0: no site access

    _emails = field_validator("emails")(classmethod(lambda cls, v: _check_emails(v)))

    @field_validator("id")
    @classmethod
    def _not_the_group(cls, value: str) -> str:
        if value == "group":  # the working group's name as a reader of verdicts and reports
            raise ValueError("'group' is reserved for the working group; choose another id")
        return value

    @field_validator("cpv", mode="before")
    @classmethod
    def _cpv(cls, values: Any) -> Any:
        for value in values if isinstance(values, list | tuple) else ():
            text = str(value)
            if text.endswith("*") and text[:-1].isdigit():
                raise ValueError(f"{text!r}: a member's CPV codes are prefixes already; "
                                 f"write {text[:-1]} without the *")
        return _check_cpv(values, r"\d{2,8}", "a CPV code prefix (2 to 8 digits)")

    @model_validator(mode="after")
    def _digest_needs_emails(self) -> Member:
        if self.digest and not self.emails:
            raise ValueError("digest: true needs at least one address in emails (nobody would get the digest)")
        return self


class DigestSettings(_Strict):
    """The `digest:` block of members.yaml."""

    recipients: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()  # who gets the source-health alert
    send_at: str = "mon 07:30"
    subject: str | None = Field(default=None, pattern=r"^[^\r\n]+$")  # default: the language's own subject
    lang: Lang = "fr"
    members_see_each_other: bool = False  # a member's digest and site view show other members' matches too
    # entries printed per section (and in "closing soon"), most relevant first; the others are counted, with a link
    # to them on the reports site. 0: every entry
    per_section: int = Field(default=15, ge=0)

    _recipients = field_validator("recipients", "admins")(classmethod(lambda cls, v: _check_emails(v)))

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value: str) -> str:
        if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun) ([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a weekly time such as 'mon 07:30'")
        return value


class Topic(_Strict):
    """One topic of the taxonomy with its multilingual keyword rules."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    labels: dict[Lang, str] = Field(default_factory=dict)  # the label per reader language (default: `label`)
    # phrases per language (ISO 639-1, or "any"); a plain list means "any"
    terms: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    weak_terms: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    abbreviations: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    exclude: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    cpv: tuple[str, ...] = ()

    def label_in(self, lang: str) -> str:
        """The topic's label in a reader language (its `label` when that language has none)."""
        return self.labels.get(lang, self.label)  # type: ignore[call-overload]

    @field_validator("terms", "weak_terms", "abbreviations", "exclude", mode="before")
    @classmethod
    def _by_language(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {"any": [str(v) for v in value]}
        if isinstance(value, dict):
            for lang in value:
                if lang != "any" and not re.fullmatch(r"[a-z]{2}", str(lang)):
                    raise ValueError(f"{lang!r} is not a language code such as fr, en, pt, es (or any)")
            return {str(k): [str(x) for x in (v or [])] for k, v in value.items()}
        return value

    @field_validator("cpv", mode="before")
    @classmethod
    def _cpv(cls, values: Any) -> Any:
        return _check_cpv(values, r"\d{8}|\d{2,7}\*", "a CPV code (8 digits) or prefix (digits then *)")


@dataclass(frozen=True)
class Config:
    """Everything read from the configuration folder, validated."""

    directory: str
    sources: tuple[Source, ...]
    members: tuple[Member, ...]
    digest: DigestSettings
    topics: tuple[Topic, ...]

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def member(self, member_id: str) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)

    def lang_of(self, member_id: str | None) -> Lang:
        """The language a reader gets: the member's `lang`, else `digest.lang` (the working group's)."""
        member = self.member(member_id) if member_id else None
        return (member.lang if member else None) or self.digest.lang

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)


@dataclass(frozen=True)
class Verdict:
    """What a reader (a member id, or "group": the working group) said of an item, and when."""

    item_id: str
    reader: str
    verdict: str  # "relevant" | "not_relevant"
    at: datetime


@dataclass(frozen=True)
class Suggestion:
    """One change for `reader` (a member id, or "group"): `kind` "exclude" or "keyword" in the member's profile,
    or "topic_exclude" of `topic`; the judged items it would change and the other sample items it would change."""

    reader: str
    kind: str
    term: str
    topic: str | None = None
    fixes: list[str] = field(default_factory=list)  # ids of judged items it puts right
    others: int = 0  # items of the archive sample it would change besides


@dataclass(slots=True)  # millions are made when an archive is retagged
class TopicTag:
    score: float
    evidence: list[str]

    def __reduce__(self) -> tuple[type[TopicTag], tuple[float, list[str]]]:
        # rebuilt by the constructor: quicker than the slots' generic state (a collect sends millions back from
        # its parsing process)
        return TopicTag, (self.score, self.evidence)


@dataclass(slots=True)
class MemberMatch:
    score: float
    reasons: list[str]

    def __reduce__(self) -> tuple[type[MemberMatch], tuple[float, list[str]]]:
        return MemberMatch, (self.score, self.reasons)


@dataclass(frozen=True)
class Due:
    """One deadline of a notice: what is due (`kind`: "tender" for offers, "participation" for requests to
    participate, "comments", "application"…) and when, in UTC. A deadline given as a day is the end of that day
    in the buyer's zone (`zone`, an IANA name or a fixed offset such as '+01:00'), with `date_only` set."""

    kind: str
    at: datetime
    date_only: bool = False
    zone: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": self.at.isoformat(), "date_only": self.date_only, "zone": self.zone}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Due:
        at = datetime.fromisoformat(data["at"])
        return cls(str(data["kind"]), at if at.tzinfo else at.replace(tzinfo=UTC), bool(data.get("date_only")),
                   data.get("zone"))


@dataclass
class Item:
    """One row of the watch: a tender, a news article, a regulatory text…"""

    id: str
    source: str
    kind: str
    title: str
    url: str | None = None
    summary: str = ""
    lang: str | None = None
    country: str | None = None
    published_at: datetime | None = None
    collected_at: datetime | None = None
    updated_at: datetime | None = None
    notice_id: str | None = None
    notice_type: str | None = None
    buyer: str | None = None
    # the next deadline the cluster must meet, in UTC (`deadline_kind`: "tender", "participation"…); one given
    # as a day without a time is the end of that day (23:59:59) in the buyer's zone `deadline_zone`, with
    # `deadline_date_only` set; `deadlines`: every deadline of the notice, that one included
    deadline_at: datetime | None = None
    deadline_date_only: bool = False
    deadline_zone: str | None = None
    deadline_kind: str | None = None
    deadlines: list[Due] = field(default_factory=list)
    cpv: list[str] = field(default_factory=list)
    # the tender's value: `value_amount` (a total, else the lots summed), or only a range `value_min`–`value_max`;
    # `value_kind`: "estimated" (before the award) or "awarded" (the notice's result)
    value_amount: float | None = None
    value_currency: str | None = None
    value_kind: str | None = None
    value_min: float | None = None
    value_max: float | None = None
    procedure: str | None = None
    topics: dict[str, TopicTag] = field(default_factory=dict)
    members: dict[str, MemberMatch] = field(default_factory=dict)
    cluster_id: str | None = None
    # identifiers of this notice and of its procedure ("ted:619320-2026", "boamp:16-138580",
    # "procedure:<eForms folder id>"), its related and earlier notices included: notices sharing one
    # are the same tender (a call, its corrigenda, its award, on TED and BOAMP)
    related: list[str] = field(default_factory=list)

    @property
    def region(self) -> str | None:
        return region_of(self.country)

    def relevance(self, member: str | None = None) -> float:
        """How much the item matters: its member score for a member, else the sum of its topic scores
        (title hits weigh double, distinct terms add up, CPV codes count)."""
        if member is not None:
            match = self.members.get(member)
            return match.score if match else 0.0
        return round(sum(tag.score for tag in self.topics.values()), 2)

    def closes_at(self, zone: tzinfo | None = None) -> datetime | None:
        """When the tender closes, in UTC: its deadline (a deadline given as a day is already the end of that day
        in the buyer's zone). `zone` is not needed any more and kept for callers."""
        return self.deadline_at

    def local_deadline(self, zone: tzinfo) -> datetime | date | None:
        """The deadline as readers see it: the day the source wrote (a `date`) when it gave no time, else the
        time in `zone`."""
        if self.deadline_at is None:
            return None
        if self.deadline_date_only:
            return self.deadline_at.astimezone(zone_named(self.deadline_zone)).date()
        return self.deadline_at.astimezone(zone)

    def content_key(self) -> tuple[Any, ...]:
        """The fields whose change makes a stored item 'updated'."""
        return (
            self.title, self.summary, self.url, self.published_at, self.deadline_at, self.deadline_date_only,
            self.deadline_kind, tuple(self.deadlines), self.notice_type, self.buyer, tuple(self.cpv),
            self.value_amount, self.value_kind, self.value_min, self.value_max, self.country,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the item as the JSON object of the `veille inspect` contract."""

        def ts(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "source": self.source, "kind": self.kind, "title": self.title,
            "summary": self.summary, "url": self.url, "lang": self.lang, "country": self.country,
            "region": self.region, "published_at": ts(self.published_at),
            "collected_at": ts(self.collected_at), "updated_at": ts(self.updated_at),
            "notice_id": self.notice_id, "notice_type": self.notice_type, "buyer": self.buyer,
            "deadline_at": ts(self.deadline_at), "deadline_date_only": self.deadline_date_only,
            "deadline_zone": self.deadline_zone, "deadline_kind": self.deadline_kind,
            "deadlines": [d.to_json() for d in self.deadlines],
            "cpv": list(self.cpv),
            "value_amount": self.value_amount, "value_currency": self.value_currency,
            "value_kind": self.value_kind, "value_min": self.value_min, "value_max": self.value_max,
            "procedure": self.procedure,
            "topics": {k: {"score": v.score, "evidence": v.evidence} for k, v in self.topics.items()},
            "members": {k: {"score": v.score, "reasons": v.reasons} for k, v in self.members.items()},
            "cluster_id": self.cluster_id,
        }


_EPOCH = datetime.min.replace(tzinfo=UTC)
LAST_SECOND = time(23, 59, 59)


def day_end(day: date, zone: tzinfo) -> datetime:
    """The last second of `day` in `zone` (23:59:59 local), in UTC: when a deadline given as a day passes."""
    return datetime.combine(day, LAST_SECOND, tzinfo=zone).astimezone(UTC)


def notice_time(item: Item) -> datetime:
    """When a notice was published (else collected): the order of a tender's notices."""
    return item.published_at or item.collected_at or _EPOCH


def current_notices(items: Iterable[Item]) -> dict[str, Item]:
    """{tender: its latest notice that states a deadline} (a corrigendum moves the deadline), a tender being a
    cluster, or one item when it has none; notices without a deadline are left out."""
    chosen: dict[str, Item] = {}
    for item in items:
        if item.deadline_at is None:
            continue
        key = item.cluster_id or item.id
        if key not in chosen or notice_time(item) > notice_time(chosen[key]):
            chosen[key] = item
    return chosen


@dataclass(frozen=True)
class Fetched:
    """The outcome of fetching one source, as its fetch state records it."""

    source: str
    ok: bool
    status: str  # ok | not-modified | failed
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    retry_after: float | None = None
    by: str | None = None  # who fetched it: `host:pid` of a collect, or a queue worker


@dataclass(frozen=True)
class FetchState:
    """What the store remembers of a source between runs."""

    source: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetch_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    failures: int = 0
    items_total: int = 0
    next_attempt_at: datetime | None = None
    items_recent: int = 0  # items collected in the last 7 days
    collected_by: str | None = None  # the process of the last fetch (a `veille worker`'s number and host:pid)


ORDERS = ("newest", "deadline")  # newest first; or the soonest deadline first, items without one last


@dataclass(frozen=True)
class ItemQuery:
    """A filtered view of stored items: every field is optional and they combine with AND.

    With `one_per_cluster`, the copies of one story and the notices of one tender count once, as the weekly
    digest lists them: the items matching the other filters are grouped by cluster and the newest of each
    group stands for it; `topics`, `member` and `tagged` are then judged on that item (the digest keeps the
    newest of a week's copies, then lists it if it has a topic or a member match, in a member's digest if it
    matches the member).
    """

    topics: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    member: str | None = None
    regions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    # deadlines at or after `deadline_from`, before `deadline_until`; a deadline given as a day counts as the end
    # of that day in the zone these times are given in (pass them in the deployment's zone)
    deadline_from: datetime | None = None
    deadline_until: datetime | None = None
    text: str | None = None  # full-text search: every word, accents and case ignored
    limit: int | None = None
    offset: int = 0
    one_per_cluster: bool = False
    tagged: bool = False  # only items with a topic or a member match
    tagged_by: tuple[str, ...] | None = None  # with `tagged`: the members whose matches count (None: every member)
    order: str = "newest"  # one of ORDERS
