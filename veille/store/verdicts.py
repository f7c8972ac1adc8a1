"""Readers' verdicts on items (SQL only here): recorded from the links of the digest and the site, read back
by `veille feedback`, `veille eval --feedback`, `veille suggest` and the digest's line of feedback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from veille.models import Verdict
from veille.store import schema as T


class Verdicts:
    """Mixed into `Store`: one verdict per item and reader, the last one given."""

    engine: sa.Engine
    clock: Callable[[], datetime]

    def record_verdict(self, item_id: str, reader: str, verdict: str) -> bool:
        """Store `reader`'s verdict on the item (replacing an earlier one); False when the item is unknown.
        Recording the same verdict again changes nothing, its time included."""
        from sqlalchemy.dialects import postgresql, sqlite

        with self.engine.begin() as conn:
            if conn.execute(sa.select(T.items.c.id).where(T.items.c.id == item_id)).first() is None:
                return False
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            insert = dialect.insert(T.verdicts).values(item_id=item_id, reader=reader, verdict=verdict,
                                                       at=self.clock())
            # one statement: two clicks at once cannot both insert; the same verdict again keeps its time
            conn.execute(insert.on_conflict_do_update(
                index_elements=[T.verdicts.c.item_id, T.verdicts.c.reader],
                set_={"verdict": insert.excluded.verdict, "at": insert.excluded.at},
                where=T.verdicts.c.verdict != insert.excluded.verdict))
        return True

    def verdicts(self, reader: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> list[Verdict]:
        """The verdicts (of `reader` when given, given in [since, until) when given), oldest first."""
        v = T.verdicts.c
        where = [v.reader == reader] if reader else []
        if since is not None:
            where.append(v.at >= since)
        if until is not None:
            where.append(v.at < until)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(v.item_id, v.reader, v.verdict, v.at).where(*where)
                                .order_by(v.at, v.reader, v.item_id)).all()
        return [Verdict(item_id, who, verdict, at) for item_id, who, verdict, at in rows]

    def verdict(self, item_id: str, reader: str) -> str | None:
        """`reader`'s current verdict on the item, or None."""
        v = T.verdicts.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(v.verdict).where(v.item_id == item_id, v.reader == reader)).first()
        return None if row is None else str(row[0])
