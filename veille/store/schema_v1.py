"""The schema as version 1 released it, frozen: migration 1 creates exactly this, later migrations bring it to
`schema.py`'s tables, so every migration runs on every new database (never edit this file)."""

from __future__ import annotations

import sqlalchemy as sa

from veille.store.schema import UTCDateTime

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
    sa.Column("source", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("url", sa.Text),
    sa.Column("lang", sa.String(8)),
    sa.Column("country", sa.String(2)),
    sa.Column("region", sa.String(8), index=True),
    sa.Column("published_at", UTCDateTime),
    sa.Column("collected_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime),
    sa.Column("seen_at", UTCDateTime, nullable=False, index=True),  # published_at, else collected_at
    sa.Column("notice_id", sa.String(200)),
    sa.Column("notice_type", sa.String(40)),
    sa.Column("buyer", sa.Text),
    sa.Column("deadline_at", UTCDateTime),
    sa.Column("cpv", sa.JSON, nullable=False, default=list),
    sa.Column("value_amount", sa.Float),
    sa.Column("value_currency", sa.String(3)),
    sa.Column("procedure", sa.String(100)),
    sa.Column("cluster_id", sa.String(64)),
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

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("week", sa.String(10), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("digest", sa.String(100), primary_key=True),  # "full" or a member id
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("method", sa.String(10), nullable=False),  # smtp | outbox
    sa.Column("message_id", sa.Text),
)
