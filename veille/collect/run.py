"""Collect many sources concurrently; one failing source never stops the others."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TypeVar

import httpx

from veille.collect.connectors import REGISTRY, Connector, Skipped
from veille.collect.http import Fetcher, HttpSettings, Response, Validators, request_started
from veille.collect.language import detect
from veille.errors import SourceError, TerminalSourceError
from veille.models import Item, Source

T = TypeVar("T")


@dataclass
class SourceOutcome:
    """What collecting one source gave: items, or the reason it failed."""

    source: Source
    status: str  # ok | not-modified | failed
    items: list[Item] = field(default_factory=list)
    error: str | None = None
    transient: bool = False
    validators: Validators = field(default_factory=Validators)
    seconds: float = 0.0
    retry_after: float | None = None
    http_status: int | None = None
    bytes: int = 0
    skipped: int = 0  # entries of the payload that gave no item (neither title nor link…)
    payloads: list[Response] = field(default_factory=list, repr=False)  # kept only when asked (`veille try`)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


class Budget:
    """A source's time: its deadline starts with its first request, not while it waits behind other sources."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started: float | None = None  # monotonic time of the first request's start
        self._timeout: asyncio.Timeout | None = None

    def start(self) -> None:
        if self.started is None and self._timeout is not None:
            self.started = time.monotonic()
            self._timeout.reschedule(asyncio.get_running_loop().time() + self.seconds)

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    async def run(self, work: Awaitable[T]) -> T:
        """Await `work` within the budget (TimeoutError when it runs out)."""
        async with asyncio.timeout(None) as self._timeout:
            token = request_started.set(self.start)
            try:
                return await work
            finally:
                request_started.reset(token)


async def collect_one(source: Source, fetcher: Fetcher, validators: Validators,
                      keep_payloads: bool = False) -> SourceOutcome:
    """Fetch and parse one source; errors become a failed outcome, never an exception; `keep_payloads` keeps the
    responses in the outcome."""
    budget = Budget(fetcher.settings.source_deadline)
    connector = REGISTRY[source.type]
    kept: list[Response] = []  # a payload that fails to parse is kept too: `veille try` shows what it matched
    try:
        responses = await budget.run(connector.fetch(source, fetcher, validators))
        fresh = [r for r in responses if not r.not_modified]
        kept = fresh if keep_payloads else []
        if not fresh:
            return SourceOutcome(source, "not-modified", validators=validators, seconds=budget.elapsed(),
                                 http_status=304)
        items: list[Item] = []
        skipped = 0
        for response in fresh:  # parsing runs in a thread: a slow parse does not stall other fetches
            parsed, left_out = await asyncio.to_thread(_parse_counted, connector, source, response)
            items += parsed
            skipped += left_out
        return SourceOutcome(source, "ok", merge_items(items), validators=fresh[-1].validators,
                             seconds=budget.elapsed(), http_status=fresh[-1].status,
                             bytes=sum(len(r.content) for r in fresh), skipped=skipped,
                             payloads=kept)
    except SourceError as exc:
        return SourceOutcome(source, "failed", error=str(exc), transient=exc.transient,
                             seconds=budget.elapsed(), retry_after=getattr(exc, "retry_after", None), payloads=kept)
    except TimeoutError:
        return SourceOutcome(source, "failed", error=f"gave up after {budget.seconds:g}s", transient=True,
                             seconds=budget.elapsed())
    except Exception as exc:  # a hostile or broken payload must not take the run down
        return SourceOutcome(source, "failed", error=f"{type(exc).__name__} while parsing: {exc}",
                             transient=False, seconds=budget.elapsed(), payloads=kept)


def merge_items(items: list[Item]) -> list[Item]:
    """Merge items with the same id (a search result and its detailed notice): the first wins, the
    later ones fill its empty fields."""
    merged: dict[str, Item] = {}
    for item in items:
        first = merged.setdefault(item.id, item)
        if first is item:
            continue
        for spec in fields(Item):
            if getattr(first, spec.name) in (None, "", []) and getattr(item, spec.name) not in (None, "", []):
                setattr(first, spec.name, getattr(item, spec.name))
        first.related = list(dict.fromkeys([*first.related, *item.related]))
    return list(merged.values())


def _parse_counted(connector: Connector, source: Source, response: Response) -> tuple[list[Item], int]:
    """Return the items of one response and the number of entries skipped by the connector."""
    items: list[Item] = []
    skipped = 0
    for entry in connector.parse(source, response.content, response.url, response.content_type):
        if isinstance(entry, Skipped):
            skipped += 1
            continue
        if entry.lang is None:  # the source did not say: guess from the text, to pick the right rules
            entry.lang = detect(f"{entry.title}. {entry.summary}")
        if entry.value_kind is None and entry.value_amount is not None:  # the connector did not say: the notice does
            entry.value_kind = VALUE_KIND_BY_NOTICE.get(entry.notice_type or "")
        items.append(entry)
    return items, skipped


# a value a connector gives without its kind: what the notice type makes it (an award's value is awarded)
VALUE_KIND_BY_NOTICE = {"award": "awarded", "modification": "awarded", "contract-notice": "estimated",
                        "prior-information": "estimated"}


def _parse_all(connector: Connector, source: Source, response: Response) -> list[Item]:
    return _parse_counted(connector, source, response)[0]


async def collect_async(sources: Iterable[Source], validators: Mapping[str, Validators],
                        settings: HttpSettings | None = None,
                        on_done: Callable[[SourceOutcome], None] | None = None,
                        transport: httpx.AsyncBaseTransport | None = None,
                        keep_payloads: bool = False) -> list[SourceOutcome]:
    """Collect every source concurrently (bounded overall and per host); return one outcome each (with the
    responses it was parsed from when `keep_payloads`)."""
    async with Fetcher(settings, transport) as fetcher:
        async def run(source: Source) -> SourceOutcome:
            outcome = await collect_one(source, fetcher, validators.get(source.name, Validators()), keep_payloads)
            if on_done:
                on_done(outcome)
            return outcome

        return list(await asyncio.gather(*(run(s) for s in sources)))


def collect(sources: Iterable[Source], validators: Mapping[str, Validators],
            settings: HttpSettings | None = None,
            on_done: Callable[[SourceOutcome], None] | None = None,
            keep_payloads: bool = False) -> list[SourceOutcome]:
    """Synchronous wrapper of `collect_async`."""
    return asyncio.run(collect_async(list(sources), validators, settings, on_done, keep_payloads=keep_payloads))


def parse_payload(source: Source, content: bytes, url: str = "", content_type: str = "") -> list[Item]:
    """Parse a saved payload with the source's connector (for `veille inspect`)."""
    connector = REGISTRY.get(source.type)
    if connector is None:
        raise TerminalSourceError(f"unknown connector type {source.type!r}; known: {', '.join(sorted(REGISTRY))}")
    return _parse_all(connector, source, Response(200, url or source.url, content, httpx.Headers(
        {"content-type": content_type} if content_type else {})))
