"""Writing many rows at once below the ORM: the ledger import's inserts, per database.

The ORM builds an object per row and SQLAlchemy Core compiles and processes
every parameter of every row; for an import of a million rows that is most of
the time. Here rows go to the driver as tuples: ``executemany`` of one
prepared INSERT on SQLite, ``COPY … FROM STDIN`` on PostgreSQL (psycopg 3's
``cursor.copy``), several times faster than an INSERT per row. Values are
converted by the column types' own bind processors, so they are stored
exactly as SQLAlchemy would store them and read back the same.

New rows get their ids here, before they are written (:func:`next_ids`), so
the provenance and tag rows can name them without reading them back; on
SQLite that needs the write lock from the start of the transaction
(:func:`lock_for_writing`), which also keeps the batch's reads and writes in
one snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Connection, Table, bindparam, func, literal_column, select


def lock_for_writing(connection: Connection) -> None:
    """Start the transaction as a writer on SQLite (``BEGIN IMMEDIATE``); PostgreSQL needs nothing.

    Python's sqlite3 begins a transaction only at the first INSERT, so the
    reads before it would see the database outside the transaction, and the
    largest id read there could be taken by another writer before ours
    inserts. Waiting for the lock up front (``busy_timeout`` applies) closes
    both gaps. Call it first thing in a transaction begun on ``connection``.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def any_of(connection: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` as one bound parameter, however many values: a JSON array on SQLite, an array on PostgreSQL.

    An ``IN`` list binds every value as a parameter of its own, and
    SQLAlchemy processes each; for the thousands of ID numbers of an import
    batch that costs more than the query.
    """
    if connection.dialect.name == "postgresql":
        return column == func.any(bindparam("values", list(values), type_=ARRAY(column.type)))
    listed = select(literal_column("value")).select_from(func.json_each(bindparam("values", json.dumps(list(values)))))
    return column.in_(listed.scalar_subquery())


def next_ids(connection: Connection, table: Table, count: int) -> range | list[int]:
    """``count`` unused ids for ``table``, in order, taken in the caller's transaction.

    PostgreSQL draws them from the id column's sequence in one query, safe
    with concurrent writers; SQLite counts on from the largest id, which is
    safe under :func:`lock_for_writing` (records are soft-deleted, so no id
    is ever freed and reused).
    """
    if not count:
        return []
    if connection.dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        drawn = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return list(connection.execute(drawn).scalars().all())  # fetched at once, not a fetchone per id
    largest = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return range(largest + 1, largest + 1 + count)


class Writer:
    """Rows of one table written in bulk; build once per import, call :meth:`write` per batch.

    ``columns`` differ from row to row; ``shared`` are the same for every row
    of a batch (timestamps, version), given once per :meth:`write` and
    converted once.
    """

    def __init__(
        self, connection: Connection, table: Table, columns: Sequence[str], shared: Sequence[str] = ()
    ) -> None:
        dialect = connection.dialect
        self.table = table
        self.columns, self.shared = tuple(columns), tuple(shared)
        names = (*self.columns, *self.shared)
        quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
        target = dialect.identifier_preparer.format_table(table)
        self.copy = dialect.name == "postgresql"
        if self.copy:
            self.sql = f"COPY {target} ({quoted}) FROM STDIN"
        else:  # SQLite, jiceng's other database: sqlite3's qmark parameters
            self.sql = f"INSERT INTO {target} ({quoted}) VALUES ({', '.join('?' for _ in names)})"
        self.processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names}
        # (position, processor) of the per-row columns whose values need converting, e.g. dates on SQLite
        self.row_processors: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (i, _remembered(p)) for i, name in enumerate(self.columns) if (p := self.processors[name]) is not None
        )

    def write(self, connection: Connection, rows: Iterable[Sequence[Any]], shared: Sequence[Any] = ()) -> None:
        """Write ``rows`` (values in :attr:`columns` order, as Python has them) and ``shared`` in the open transaction."""
        tail = tuple(self._convert(name, value) for name, value in zip(self.shared, shared, strict=True))
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if self.copy:
            tail = _copy_text(cursor, tail)
        if self.row_processors or tail:
            rows = [self._converted(row, tail) for row in rows]
        try:
            if self.copy:
                with cursor.copy(self.sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, rows)
        finally:
            cursor.close()

    def _convert(self, name: str, value: Any) -> Any:
        processor = self.processors[name]
        return processor(value) if processor is not None and value is not None else value

    def _converted(self, row: Sequence[Any], tail: tuple[Any, ...]) -> Sequence[Any]:
        if not self.row_processors:
            return (*row, *tail)
        values = [*row, *tail]  # both drivers take a list as well as a tuple
        for position, processor in self.row_processors:
            value = values[position]
            if value is not None:
                values[position] = processor(value)
        return values


def _copy_text(cursor: Any, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """``values`` as the text COPY sends for them, made once for a batch's rows rather than once per row.

    A JSON value (``extra``) would otherwise be serialised again for every row.
    """
    from psycopg.adapt import PyFormat, Transformer  # the PostgreSQL driver; SQLite never comes here

    transformer = Transformer(cursor)
    return tuple(
        None if value is None else bytes(transformer.get_dumper(value, PyFormat.TEXT).dump(value)).decode()
        for value in values
    )


def _remembered(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``processor`` with its answers kept: a million birth dates are some thirty thousand days."""
    answers: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        try:
            return answers[value]
        except KeyError:
            if len(answers) >= 100_000:
                answers.clear()
            answer = answers[value] = processor(value)
            return answer
        except TypeError:  # unhashable, e.g. a JSON value
            return processor(value)

    return convert
