"""What the queue's scheduler defers, and when (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from veille import periods
from veille.models import FetchState, Source

NOW = datetime(2026, 12, 2, 10, 17, 33, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def _source(name: str, every: str = "6h", **extra: object) -> Source:
    return Source(name=name, kind="news", type="feed", url=f"https://{name}.example.org/feed", every=every, **extra)


def test_periods_are_the_same_for_everyone_and_spread_over_the_interval():
    names = [f"source-{n}" for n in range(400)]
    starts = [periods.period_start(n, 6 * 3600, NOW) for n in names]
    assert all(s <= NOW.timestamp() < s + 6 * 3600 for s in starts)
    assert starts == [periods.period_start(n, 6 * 3600, NOW) for n in names]  # no state: any process agrees
    # the phases spread the sources: no quarter of an hour holds more than a tenth of them
    quarters = [int((NOW.timestamp() - s) // 900) for s in starts]
    assert max(quarters.count(q) for q in set(quarters)) < 40
    # one second before a period's start belongs to the previous one
    start = periods.period_start("source-7", 3600, NOW)
    assert periods.period_start("source-7", 3600, datetime.fromtimestamp(start - 1, UTC)) == start - 3600


def test_due_when_never_fetched_or_fetched_before_the_period_began():
    a, b, c = _source("a"), _source("b"), _source("c", enabled=False)
    start = datetime.fromtimestamp(periods.period_start("b", 6 * 3600, NOW), UTC)
    states = {"b": FetchState("b", last_fetch_at=start + timedelta(seconds=1))}
    assert [d.args["source"] for d in periods.due_collects([a, b, c], states, NOW)] == ["a"]
    states = {"b": FetchState("b", last_fetch_at=start - timedelta(seconds=1))}
    due = periods.due_collects([a, b, c], states, NOW)
    assert [d.args["source"] for d in due] == ["a", "b"]
    assert due[1].key == "b" and due[1].at == int(start.timestamp()) and due[1].args["timestamp"] == due[1].at
    assert due[1].lock == "source:b" and due[1].queueing_lock == "collect:b"
    assert periods.due_collects([a, b], states, NOW, queued={"a", "b"}) == []  # waiting or running already


def test_a_failed_source_waits_out_its_backoff_then_is_retried_once_per_failure():
    a = _source("a")
    later = FetchState("a", last_fetch_at=NOW - timedelta(minutes=5), failures=2,
                       next_attempt_at=NOW + timedelta(minutes=25))
    assert periods.due_collects([a], {"a": later}, NOW) == []
    assert periods.next_collect(a, later, NOW) == (NOW + timedelta(minutes=25), True)
    start = periods.period_start("a", 6 * 3600, NOW)
    ended = datetime.fromtimestamp((start + NOW.timestamp()) // 2, UTC)  # within the current period
    over = FetchState("a", last_fetch_at=NOW - timedelta(hours=1), failures=2, next_attempt_at=ended)
    (retry,) = periods.due_collects([a], {"a": over}, NOW)
    assert retry.key == "a#retry" and retry.at == int(over.next_attempt_at.timestamp()) and retry.args["retry"]
    # another failure, another time: another key
    again = FetchState("a", failures=3, next_attempt_at=NOW - timedelta(seconds=1))
    assert periods.due_collects([a], {"a": again}, NOW)[0].at != retry.at


def test_next_collect_is_now_when_due_else_the_next_period():
    a = _source("a", every="1h")
    assert periods.next_collect(a, None, NOW) == (NOW, False)
    start = periods.period_start("a", 3600, NOW)
    fetched = FetchState("a", last_fetch_at=datetime.fromtimestamp(start + 5, UTC))
    assert periods.next_collect(a, fetched, NOW) == (datetime.fromtimestamp(start + 3600, UTC), False)


def test_long_names_get_short_distinct_keys():
    long_a, long_b = "x" * 190 + "a", "x" * 190 + "b"
    keys = {periods.key(long_a), periods.key(long_b), periods.key(long_a, "#retry"), periods.key(long_b, "#retry")}
    assert len(keys) == 4 and all(len(k) <= periods.KEY_LENGTH for k in keys)
    assert periods.key("short") == "short"


def test_the_digest_is_due_after_its_send_time_for_twelve_hours():
    # Monday 7 December 2026, 07:30 in Paris is 06:30 UTC
    monday = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert periods.last_send("mon 07:30", PARIS, monday + timedelta(minutes=1)) == monday
    assert periods.last_send("mon 07:30", PARIS, monday - timedelta(minutes=1)) == monday - timedelta(days=7)
    due = periods.due_digest("mon 07:30", PARIS, monday + timedelta(hours=11))
    assert due is not None and due.key == "weekly" and due.at == int(monday.timestamp()) and due.lock == "digest"
    assert periods.due_digest("mon 07:30", PARIS, monday + timedelta(hours=13)) is None
    # across the change to summer time, the send stays at 07:30 local
    summer = periods.last_send("mon 07:30", PARIS, datetime(2027, 3, 29, 12, tzinfo=UTC))
    assert summer.astimezone(PARIS).strftime("%a %H:%M") == "Mon 07:30" and summer.hour == 5


def test_a_retry_that_changed_nothing_is_deferred_again_next_period():
    a = _source("a", every="1h")
    start = periods.period_start("a", 3600, NOW)
    # the backoff ended in an earlier period (its retry job was skipped or failed): keyed by this period's start
    stale = FetchState("a", failures=1, next_attempt_at=datetime.fromtimestamp(start - 5000, UTC))
    (retry,) = periods.due_collects([a], {"a": stale}, NOW)
    assert retry.key == "a#retry" and retry.at == start
    (later,) = periods.due_collects([a], {"a": stale}, NOW + timedelta(hours=1))
    assert later.at == start + 3600
