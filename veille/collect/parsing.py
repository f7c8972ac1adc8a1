"""Where fetched payloads become items: worker processes beside the one fetching, or its own threads.

Parsing, guessing languages and whatever the caller does next to a source's items (`prepare`: the pipeline tags
them and computes their link keys) hold the interpreter's lock; in worker processes they run on the other cores
while the fetching process keeps its sockets and the store busy. The workers are forked before any thread
starts. Several workers are forked once the language model and what `prepare` needs (`load`: the tagger) are
loaded: they inherit them instead of loading them each. A single worker loads them itself, while this process
starts fetching. A worker that dies leaves the rest of the run to this process's threads.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from typing import Any

from veille.collect.connectors import REGISTRY, Connector, Skipped
from veille.collect.language import detect_many, identifier
from veille.errors import SourceError
from veille.models import Item, Source

log = logging.getLogger("veille.collect")
Prepare = Callable[[Source, list[Item]], Any]  # what to do next to one source's items, in the same process
MIN_SOURCES = 8  # fewer sources than this are parsed in this process: forking would cost more than it saves

# a value a connector gives without its kind: what the notice type makes it (an award's value is awarded)
VALUE_KIND_BY_NOTICE = {"award": "awarded", "modification": "awarded", "contract-notice": "estimated",
                        "prior-information": "estimated"}


@dataclass(frozen=True)
class Payload:
    """One fetched response, as a worker receives it."""

    url: str
    content: bytes
    content_type: str


@dataclass
class Parsed:
    """A source's items (languages guessed, merged by id), the entries that gave none, what `prepare` returned."""

    items: list[Item]
    skipped: int = 0
    prepared: Any = None


@dataclass(frozen=True)
class Failed:
    """A payload that could not be parsed, as a worker reports it (its exception may not cross processes)."""

    message: str
    transient: bool = False


class ParseError(SourceError):
    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.transient = transient


def parse_source(source: Source, payloads: Sequence[Payload], prepare: Prepare | None = None) -> Parsed:
    """Parse a source's payloads with its connector; guess the languages its items do not state; `prepare` them."""
    connector = REGISTRY[source.type]
    items: list[Item] = []
    skipped = 0
    for payload in payloads:
        found, left_out = parse_counted(connector, source, payload)
        items += found
        skipped += left_out
    items = merge_items(items)
    unsure = [i for i in items if i.lang is None]  # the source did not say: guessed from the text
    for item, lang in zip(unsure, detect_many([f"{i.title}. {i.summary}" for i in unsure]), strict=True):
        item.lang = lang
    return Parsed(items, skipped, prepare(source, items) if prepare else None)


def parse_counted(connector: Connector, source: Source, payload: Payload) -> tuple[list[Item], int]:
    """Return the items of one payload and the number of entries skipped by the connector."""
    items: list[Item] = []
    skipped = 0
    for entry in connector.parse(source, payload.content, payload.url, payload.content_type):
        if isinstance(entry, Skipped):
            skipped += 1
            continue
        if entry.value_kind is None and entry.value_amount is not None:  # the connector did not say: the notice does
            entry.value_kind = VALUE_KIND_BY_NOTICE.get(entry.notice_type or "")
        items.append(entry)
    return items, skipped


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


_inherited: Prepare | None = None  # the forking process's `prepare`: each worker has it from the fork


def _in_worker(source: Source, payloads: Sequence[Payload]) -> Parsed | Failed:
    try:
        return parse_source(source, payloads, _inherited)
    except SourceError as exc:
        return Failed(str(exc), exc.transient)
    except Exception as exc:  # a hostile or broken payload: reported, never raised across the processes
        return Failed(f"{type(exc).__name__} while parsing: {exc}")


def _ready() -> int:
    return os.getpid()


_load: Callable[[], object] | None = None  # what the forking process's `prepare` needs loaded, for `_warm`


def _said_if_failed(warming: Future[None]) -> None:
    """Log, once, a worker that could not load its models (each payload it parses then fails, saying why)."""
    if not warming.cancelled() and warming.exception() is not None:
        log.error("the parsing process could not load the language model or the tagger: %s", warming.exception())


def _warm() -> None:
    """Load the language model and what `prepare` needs: a single worker's first task, or before several are
    forked."""
    identifier()
    if _load is not None:
        _load()


def default_processes() -> int:
    """One worker per core the process may use but one (the collecting process keeps it busy), at most 8; none on
    a single core. On 2 cores, one worker collects 500 feeds in 9.2–9.8 s where two take 11.7 s (`make bench`)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, min(cores - 1, 8))


@dataclass
class Parsers:
    """Parse payloads in `processes` forked workers (0, one core, few sources or no fork: in this process's
    threads). Create it before any thread of the run starts; `close` it at the end."""

    prepare: Prepare | None = None
    processes: int = 0
    sources: int = MIN_SOURCES
    load: Callable[[], object] | None = None  # what `prepare` needs loaded (the tagger compiled), see the module
    _pool: ProcessPoolExecutor | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        global _inherited, _load
        if self.processes <= 0 or self.sources < MIN_SOURCES or "fork" not in multiprocessing.get_all_start_methods():
            return
        _inherited, _load = self.prepare, self.load
        if self.processes > 1:  # loaded once, here: every worker inherits them
            _warm()
        self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("fork"))
        if self.processes > 1:
            self._pool.submit(_ready).result()  # every worker is forked now, before the run's threads start
        else:  # forked within submit (before the run's threads start); it loads while this process fetches
            self._pool.submit(_warm).add_done_callback(_said_if_failed)

    @property
    def in_processes(self) -> bool:
        return self._pool is not None

    async def parse(self, source: Source, payloads: Sequence[Payload]) -> Parsed:
        """The source's items; raises SourceError when a payload cannot be parsed."""
        if self._pool is not None:
            try:
                result = await asyncio.get_running_loop().run_in_executor(self._pool, _in_worker, source, payloads)
            except BrokenProcessPool:
                log.warning("a parsing process died: the run's other payloads are parsed in the collecting process")
                self._pool = None
            else:
                if isinstance(result, Failed):
                    raise ParseError(result.message, result.transient)
                return result
        # a thread: a slow parse does not stall the other fetches
        return await asyncio.to_thread(parse_source, source, payloads, self.prepare)

    def close(self) -> None:
        global _inherited, _load
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        _inherited = _load = None
