"""Tables of the store (SQLAlchemy Core): the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: identical behaviour on every database."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

items = sa.Table(
    "items", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(200), nullable=False),  # indexed with collected_at (below)
    sa.Column("kind", sa.String(20), nullable=False),  # indexed with deadline_at (below)
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("url", sa.Text),
    sa.Column("lang", sa.String(8)),
    sa.Column("country", sa.String(2)),
    sa.Column("region", sa.String(8), index=True),
    sa.Column("published_at", UTCDateTime),
    sa.Column("collected_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("seen_at", UTCDateTime, nullable=False),  # published_at, else collected_at; indexed below
    sa.Column("notice_id", sa.String(200)),
    sa.Column("notice_type", sa.String(40)),
    sa.Column("buyer", sa.Text),
    sa.Column("deadline_at", UTCDateTime),
    # the source gave a day without a time: deadline_at is the end of that day in deadline_zone, the buyer's
    sa.Column("deadline_date_only", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("deadline_zone", sa.String(64)),
    sa.Column("deadline_kind", sa.String(20)),  # what is due at deadline_at: tender, participation…
    sa.Column("deadlines", sa.JSON, nullable=False, default=list),  # every deadline of the notice (Due.to_json)
    sa.Column("cpv", sa.JSON, nullable=False, default=list),
    sa.Column("value_amount", sa.Float),
    sa.Column("value_currency", sa.String(3)),
    sa.Column("value_kind", sa.String(20)),  # estimated, awarded
    sa.Column("value_min", sa.Float),  # a value given only as a range
    sa.Column("value_max", sa.Float),
    sa.Column("procedure", sa.String(100)),
    sa.Column("cluster_id", sa.String(64), index=True),  # migration 2
    sa.Column("simhash", sa.BigInteger),  # SimHash of the story's text (signed 64-bit), for near-duplicates
    # title, summary and buyer folded (lower case, no accents), for PostgreSQL's full-text index; SQLite's
    # FTS5 table folds by itself and leaves it empty
    sa.Column("search_text", sa.Text),
    # the sources' item counts (in all, and collected lately) are read from this index alone (migration 17)
    sa.Index("ix_items_source_collected", "source", "collected_at"),
    # the weeks' counts of the digests' trends (kind, cluster) read from the index alone (migration 19)
    sa.Index("ix_items_seen_cover", "seen_at", "kind", "cluster_id", "id"),
    # the tenders still open, by deadline: the digest's "closing soon" and the site's open view (migration 21)
    sa.Index("ix_items_kind_deadline", "kind", "deadline_at"),
)

item_topics = sa.Table(
    "item_topics", metadata,
    sa.Column("item_id", sa.String(64), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("topic", sa.String(50), primary_key=True, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
)

item_members = sa.Table(
    "item_members", metadata,
    sa.Column("item_id", sa.String(64), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member", sa.String(100), primary_key=True, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
)

fetch_state = sa.Table(
    "fetch_state", metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_fetch_at", UTCDateTime),
    sa.Column("last_ok_at", UTCDateTime),
    sa.Column("last_status", sa.String(20)),
    sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime),  # backoff after failures, or the server's Retry-After
    sa.Column("claimed_by", sa.String(200)),  # the process collecting it now (host:pid:nonce), and since when
    sa.Column("claimed_at", UTCDateTime),
    sa.Column("collected_by", sa.String(200)),  # the process of the last fetch: which worker, on which host
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(20), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(20), nullable=False, default="running"),
    sa.Column("summary", sa.JSON, nullable=False, default=dict),
)

item_links = sa.Table(
    "item_links", metadata,
    sa.Column("item_id", sa.String(64), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(400), primary_key=True, index=True),
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("digest", sa.String(100), primary_key=True),  # "full" or a member id
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("method", sa.String(10), nullable=False),  # smtp | outbox
    sa.Column("message_id", sa.Text),
    sa.Column("status", sa.String(10), nullable=False, server_default="sent"),  # queued | sent | refused (5xx)
    sa.Column("detail", sa.Text),  # the server's reply when refused
    sa.Column("message", sa.LargeBinary),  # the message as queued: a rerun sends exactly this
    # who is sending it (host:pid:nonce) and since when, while status is "sending": one sender per message
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_at", UTCDateTime),
)

ended_sessions = sa.Table(
    "ended_sessions", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),  # a signed-out session of the reports site
    sa.Column("until", UTCDateTime, nullable=False),  # when its cookie would have expired anyway
)

sent_digests = sa.Table(
    "sent_digests", metadata,
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("digest", sa.String(100), primary_key=True),  # "full" or a member id
    sa.Column("html", sa.Text, nullable=False),  # the digest as it was sent
    sa.Column("items", sa.Integer, nullable=False),  # the items it listed
    sa.Column("recipients", sa.Integer, nullable=False),  # the addresses it reached
    sa.Column("sent_at", UTCDateTime, nullable=False),  # its first sending
)

verdicts = sa.Table(
    "verdicts", metadata,  # what readers said of an item: "relevant" or "not_relevant" (the last word counts)
    sa.Column("item_id", sa.String(64), sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("reader", sa.String(100), primary_key=True),  # a member id, or "group" (the working group)
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
)

store_state = sa.Table(
    "store_state", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),  # "generation": bumped by every write of items or tags
)
