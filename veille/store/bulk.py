"""Many rows written by one statement: compiled once by SQLAlchemy, run by the driver's own executemany.

SQLAlchemy's executemany builds and processes each row's parameters through its general machinery: on a batch
of thousands of items that costs more than the database itself. Here the statement is compiled once for the
dialect, each bound value goes through its column type's bind processor (the same conversion SQLAlchemy would
make: aware UTC times to the stored form, JSON to text), and the driver receives plain tuples or dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


def _compiled(conn: sa.Connection, statement: sa.Insert | sa.Update, keys: Sequence[str]) -> tuple[
        SQLCompiler, list[str], list[Processor]]:
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
    processors: list[Processor] = [compiled.binds[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                                   for name in names]
    return compiled, names, processors


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process` (a JSON column's serializer) run once per distinct list of one statement's rows: the tags of a
    batch repeat the same few evidence lists thousands of times."""
    made: dict[tuple[Any, ...], Any] = {}

    def run(value: Any) -> Any:
        if type(value) is not list:
            return process(value)
        key = tuple(value)
        try:
            return made[key]
        except KeyError:
            made[key] = out = process(value)
            return out
        except TypeError:  # a list of lists or dicts: not a key
            return process(value)

    return run


def executemany(conn: sa.Connection, statement: sa.Insert | sa.Update, rows: Sequence[dict[str, Any]] | None = None,
                *, keys: Sequence[str] = (), values: Sequence[Sequence[Any]] = ()) -> None:
    """Run `statement` (an insert into a table, or an update with `bindparam`s) once per row; every row gives the
    same keys (for an insert, every column that has a Python-side default too). Rows come as dicts (`rows`), or as
    `values` in the order of `keys` (no dict made per row)."""
    if rows is not None:
        if not rows:
            return
        keys = list(rows[0])
    elif not values:
        return
    compiled, names, processors = _compiled(conn, statement, keys)
    if isinstance(statement, sa.Insert):
        missing = [c.name for c in statement.table.columns if c.default is not None and c.name not in keys]
        if missing:
            raise ValueError(f"rows for {statement.table} lack {', '.join(missing)}")
    converted = [(n, _memoized(p) if isinstance(compiled.binds[names[n]].type, sa.JSON) else p)
                 for n, p in enumerate(processors) if p is not None]  # most columns need no conversion
    # column by column: each conversion is one map over a column, the rows are put together by zip (in C)
    if rows is not None:
        columns = [[row[name] for row in rows] for name in names]
    else:
        given = list(zip(*values, strict=True))
        columns = [given[list(keys).index(name)] for name in names]  # type: ignore[misc]
    for n, process in converted:
        columns[n] = list(map(process, columns[n]))
    params: list[Any] = list(zip(*columns, strict=True)) if compiled.positional else [
        dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    conn.exec_driver_sql(str(compiled), params)
