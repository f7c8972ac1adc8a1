"""One thread that does a run's slow work (storing, tagging, linking) in batches, fed by a queue.

The collect's event loop only hands outcomes over (`put`): its sockets never wait for the database. The
thread takes what has queued up, at most `most` at a time, and gives it to `handle` in one call: the slower the
store, the larger the batches. With a `transaction`, the batches that keep coming while it stores share one,
for at most `group` seconds (a commit writes every page the transaction touched: one commit for many small
batches writes each page once, where a commit per batch wrote the same pages again and again); it commits as
soon as nothing is waiting, so that it never holds the database's write lock while idle. What `handle`
returns is called once its transaction has committed (what was stored is said only then).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

T = TypeVar("T")
Then = Callable[[], None] | None  # what `handle` asks to run once its batch is committed
_END = object()


class Writer(Generic[T]):
    """Call `handle(batch)` in a thread of its own for everything `put`; `close` waits for the last one."""

    def __init__(self, handle: Callable[[list[T]], Then], most: int = 50, name: str = "veille-writer", *,
                 transaction: Callable[[], AbstractContextManager[object]] | None = None, group: float = 0.0,
                 clock: Callable[[], float] = time.monotonic):
        self._handle = handle
        self._most = most
        self._transaction = transaction or contextlib.nullcontext
        self._group = group if transaction else 0.0
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def put(self, thing: T) -> None:
        """Queue `thing` for the thread; raise the error the thread stopped on, if it did."""
        self._raise()
        self._queue.put(thing)

    def close(self) -> None:
        """Wait until everything queued is handled; raise the error the thread stopped on, if any."""
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()
        self._raise()

    def __enter__(self) -> Writer[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _work(self) -> None:
        ending = False
        while not ending:
            first = self._queue.get()
            if first is _END:
                return
            try:
                ending = self._one_transaction(first)
            except BaseException as exc:  # handed to the caller by put/close; later batches are dropped
                self._error = exc
                return

    def _one_transaction(self, first: object) -> bool:
        """Handle `first`, what is queued and what is queued meanwhile (for `group` seconds at most) in one
        transaction, committed once nothing is waiting; then run what the batches asked for. Return whether the
        end was met."""
        done: list[Callable[[], None]] = []
        with self._transaction():
            until = self._clock() + self._group
            pending: object = first
            while True:
                batch, ending = self._take(pending)
                if batch:
                    then = self._handle(batch)
                    if then is not None:
                        done.append(then)
                if ending or self._clock() >= until:
                    break
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:  # nothing waiting: commit now, not while idle
                    break
        for then in done:
            then()
        return ending

    def _take(self, first: object) -> tuple[list[T], bool]:
        """`first` and what is queued after it, at most `most`; and whether the end came among them."""
        if first is _END:
            return [], True
        batch: list[T] = [first]  # type: ignore[list-item]
        while len(batch) < self._most:
            try:
                thing = self._queue.get_nowait()
            except queue.Empty:
                break
            if thing is _END:
                return batch, True
            batch.append(thing)  # type: ignore[arg-type]
        return batch, False
