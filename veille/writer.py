"""One thread that does a run's slow work (storing, tagging, linking) in batches, fed by a queue.

The collect's event loop only hands outcomes over (`put`): its sockets never wait for the database. The
thread takes what has queued up, at most `most` at a time, and gives it to `handle` in one call (one
transaction): the slower the store, the larger the batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class Writer(Generic[T]):
    """Call `handle(batch)` in a thread of its own for everything `put`; `close` waits for the last one."""

    def __init__(self, handle: Callable[[list[T]], None], most: int = 50, name: str = "veille-writer"):
        self._handle = handle
        self._most = most
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
        while True:
            batch: list[T] = []
            first = self._queue.get()
            ending = first is _END
            if not ending:
                batch.append(first)  # type: ignore[arg-type]
            while not ending and len(batch) < self._most:
                try:
                    thing = self._queue.get_nowait()
                except queue.Empty:
                    break
                ending = thing is _END
                if not ending:
                    batch.append(thing)  # type: ignore[arg-type]
            if batch:
                try:
                    self._handle(batch)
                except BaseException as exc:  # handed to the caller by put/close; later batches are dropped
                    self._error = exc
                    return
            if ending:
                return
