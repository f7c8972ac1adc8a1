"""Collect many sources concurrently; one failing source never stops the others."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from veille.collect.connectors import REGISTRY
from veille.collect.http import Fetcher, HttpSettings, Response, Validators, request_started
from veille.collect.parsing import Parsers, Payload, parse_source
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
    prepared: Any = field(default=None, repr=False)  # what the parsers' `prepare` returned for the items

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


async def collect_one(source: Source, fetcher: Fetcher, validators: Validators, keep_payloads: bool = False,
                      parsers: Parsers | None = None) -> SourceOutcome:
    """Fetch and parse one source; errors become a failed outcome, never an exception; `keep_payloads` keeps the
    responses in the outcome; `parsers` say where parsing runs (default: a thread of this process)."""
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
        payloads = [Payload(r.url, r.content, r.content_type) for r in fresh]
        parsed = await (parsers or Parsers()).parse(source, payloads)
        return SourceOutcome(source, "ok", parsed.items, validators=fresh[-1].validators,
                             seconds=budget.elapsed(), http_status=fresh[-1].status,
                             bytes=sum(len(r.content) for r in fresh), skipped=parsed.skipped,
                             payloads=kept, prepared=parsed.prepared)
    except SourceError as exc:
        return SourceOutcome(source, "failed", error=str(exc), transient=exc.transient,
                             seconds=budget.elapsed(), retry_after=getattr(exc, "retry_after", None), payloads=kept)
    except TimeoutError:
        return SourceOutcome(source, "failed", error=f"gave up after {budget.seconds:g}s", transient=True,
                             seconds=budget.elapsed())
    except Exception as exc:  # a hostile or broken payload must not take the run down
        return SourceOutcome(source, "failed", error=f"{type(exc).__name__} while parsing: {exc}",
                             transient=False, seconds=budget.elapsed(), payloads=kept)


async def collect_async(sources: Iterable[Source], validators: Mapping[str, Validators],
                        settings: HttpSettings | None = None,
                        on_done: Callable[[SourceOutcome], None] | None = None,
                        transport: httpx.AsyncBaseTransport | None = None,
                        keep_payloads: bool = False, parsers: Parsers | None = None) -> list[SourceOutcome]:
    """Collect every source concurrently (bounded overall and per host); return one outcome each (with the
    responses it was parsed from when `keep_payloads`), parsed by `parsers` (default: threads of this process).
    With `on_done`, each outcome goes to it as soon as it is ready and none is returned: a large collect does not
    keep every item it fetched until its end."""
    async with Fetcher(settings, transport) as fetcher:
        async def run(source: Source) -> SourceOutcome | None:
            outcome = await collect_one(source, fetcher, validators.get(source.name, Validators()), keep_payloads,
                                        parsers)
            if on_done:
                on_done(outcome)
                return None
            return outcome

        return [o for o in await asyncio.gather(*(run(s) for s in sources)) if o is not None]


def collect(sources: Iterable[Source], validators: Mapping[str, Validators],
            settings: HttpSettings | None = None,
            on_done: Callable[[SourceOutcome], None] | None = None,
            keep_payloads: bool = False, parsers: Parsers | None = None) -> list[SourceOutcome]:
    """Synchronous wrapper of `collect_async` (with `on_done`, the outcomes go to it and none is returned)."""
    return asyncio.run(collect_async(list(sources), validators, settings, on_done, keep_payloads=keep_payloads,
                                     parsers=parsers))


def parse_payload(source: Source, content: bytes, url: str = "", content_type: str = "") -> list[Item]:
    """Parse a saved payload with the source's connector (for `veille inspect`)."""
    if source.type not in REGISTRY:
        raise TerminalSourceError(f"unknown connector type {source.type!r}; known: {', '.join(sorted(REGISTRY))}")
    return parse_source(source, [Payload(url or source.url, content, content_type)]).items
