"""The writer thread: batches of what was put, grouped into transactions, said once committed."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

from veille.writer import Writer


class Log:
    """Records the transactions (begun, committed) and the batches handled in each."""

    def __init__(self) -> None:
        self.events: list[object] = []

    @contextmanager
    def transaction(self):
        self.events.append("begin")
        yield
        self.events.append("commit")


def test_batches_put_together_share_a_transaction_and_are_said_after_its_commit():
    log = Log()
    release = threading.Event()

    def handle(batch: list[int]):
        release.wait(10)  # the first batch waits until everything is queued: the rest comes as one batch
        log.events.append(tuple(batch))
        return lambda: log.events.append(f"said {batch}")

    writer: Writer[int] = Writer(handle, most=3, transaction=log.transaction, group=3600)
    for n in range(5):
        writer.put(n)
    release.set()
    writer.close()
    # a clock that never reaches the group's end: everything up to the end is one transaction, in batches of
    # at most 3, each said once the transaction committed
    assert log.events[0] == "begin" and log.events.count("begin") == 1
    batches = [e for e in log.events if isinstance(e, tuple)]
    assert sum(batches, ()) == (0, 1, 2, 3, 4) and all(len(b) <= 3 for b in batches)
    commit = log.events.index("commit")
    assert all(log.events.index(b) < commit for b in batches)
    assert [e for e in log.events[commit + 1:]] == [f"said {list(b)}" for b in batches]


def test_a_transaction_ends_once_its_time_is_up_though_batches_keep_coming():
    log = Log()
    now = [0.0]
    release = threading.Event()

    def handle(batch: list[int]):
        release.wait(10)  # the first batch waits until all three are queued
        log.events.append(tuple(batch))
        now[0] += 1.0  # each batch takes a second on this clock
        return None

    writer: Writer[int] = Writer(handle, most=1, transaction=log.transaction, group=1.5, clock=lambda: now[0])
    for n in range(3):
        writer.put(n)
    release.set()
    writer.close()
    # 0 and 1 within 1.5 s of the transaction's start; 2 after: a second transaction
    assert log.events == ["begin", (0,), (1,), "commit", "begin", (2,), "commit"]


def test_nothing_waiting_commits_at_once():
    """An idle writer holds no transaction open (on SQLite, the write lock): what it stored is committed and
    said while the run goes on, long before its group's time is up."""
    log = Log()
    said = threading.Event()
    writer: Writer[int] = Writer(lambda batch: said.set, transaction=log.transaction, group=3600)
    writer.put(1)
    assert said.wait(10)
    assert log.events == ["begin", "commit"]  # committed before anything else came, and before close
    writer.close()


def test_without_a_transaction_each_batch_is_said_at_once():
    said: list[list[int]] = []
    writer: Writer[int] = Writer(lambda batch: lambda: said.append(batch), group=3600)
    writer.put(1)
    writer.close()
    assert said == [[1]]


def test_an_error_rolls_back_its_transaction_and_reaches_the_caller_unsaid():
    log = Log()
    said: list[list[int]] = []

    @contextmanager
    def transaction():
        log.events.append("begin")
        try:
            yield
        except BaseException:
            log.events.append("rollback")
            raise
        log.events.append("commit")

    def handle(batch: list[int]):
        if 2 in batch:
            raise RuntimeError("disk full")
        return lambda: said.append(batch)

    writer: Writer[int] = Writer(handle, most=1, transaction=transaction, group=3600)
    writer.put(1)
    writer.put(2)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.close()
    assert log.events == ["begin", "rollback"] and said == []  # what the transaction held is not said stored
