"""Ledger import (台账导入): stream a file, validate every row, merge into the tables in batches.

The reading and row checks live in :mod:`ledger`; this module matches rows
to stored records by their natural key (ID number, credit code, or a house's
full address), loading the stored ones of a whole batch in one query, inserts
the new ones below the ORM (:mod:`bulk`: ``executemany`` on SQLite, ``COPY``
on PostgreSQL) with ids assigned in the batch, so that their provenance and
tag rows go in the same way without reading anything back, sends changed ones
through :func:`service.update` so authority and provenance rules are the same
as anywhere else, and commits each batch on its own. Importing the same file
twice changes nothing: every row then matches a record with equal values.

The whole import uses one database connection, with settings of its own on
SQLite (:data:`SQLITE_IMPORT_PRAGMAS`), and batches of 20,000 rows: every
commit writes out each index page the batch touched, and a ledger's rows land
all over the indexes.

Error rows are written to the report as they are found, so memory does not
grow with the file, and the summary counts what a clerk wants to know.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticUndefined
from sqlalchemy import Connection, Engine, and_, or_, tuple_
from sqlmodel import Session, col, select

from jiceng.core.areas import Area
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.errors import AppError, describe_pydantic
from jiceng.core.i18n import N_, both
from jiceng.core.records import bulk, service
from jiceng.core.records.ledger import (
    Columns,
    LedgerError,
    RowError,
    RowParser,
    open_ledger,
    write_error_report,
)
from jiceng.core.records.models import FieldChange, PersonTag
from jiceng.core.records.schemas import HousePatch, OrganisationPatch, PersonPatch
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TableSpec

BATCH = 20_000
# The import connection's settings on SQLite. Its inserts land all over the person table's indexes (ID number,
# name, area), so a batch dirties most of their pages: a page cache that holds the indexes of a million people
# (192 MB) saves reading them back, and checkpointing the WAL every 50,000 pages (200 MB) rather than every 1,000
# copies a page into the database once for several batches that changed it, not once per batch.
SQLITE_IMPORT_PRAGMAS = ("PRAGMA cache_size = -196608", "PRAGMA wal_autocheckpoint = 50000")
HOUSE_KEY = ("area_code", "address", "building", "unit", "room")
PATCHES = {PEOPLE.name: PersonPatch, HOUSES.name: HousePatch, ORGANISATIONS.name: OrganisationPatch}

NEEDS_KEY = {
    PEOPLE.name: N_("An ID number is needed to match the row with the register."),
    ORGANISATIONS.name: N_("A unified social credit code is needed to match the row with the register."),
}
NO_AREA = N_("No grid or community: fill the 所属网格 column or choose one for the whole file.")
BAD_AREA = N_("{code} is not a community or grid of the area tree (or the name belongs to several).")
MISSING_COLUMNS = N_("The file has no column for: {fields}.")
NOT_YOURS = N_("You may not change records in {code}.")


@dataclass
class Summary:
    """What one import did; ``rejected`` counts rows, ``reasons`` counts problems by their English text."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    ignored_columns: tuple[str, ...] = ()
    error_report: Path | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


def import_ledger(
    engine: Engine,
    spec: TableSpec,
    path: Path,
    *,
    actor: str,
    settings: Settings,
    error_report: Path,
    mapping: dict[str, str] | None = None,
    default_area: str | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    may_edit: Callable[[str], bool] | None = None,
) -> Summary:
    """Import ``path`` into ``spec``'s table; every batch commits on its own. Raises :class:`LedgerError` for an unreadable file."""
    started = time.perf_counter()
    ledger = open_ledger(path, table=spec.name, mapping=mapping)
    columns = ledger.columns(spec.name, mapping)
    if columns.missing:
        raise LedgerError(MISSING_COLUMNS, fields=", ".join(columns.missing))
    summary = Summary(ignored_columns=columns.ignored, error_report=error_report)
    with engine.connect() as connection, _bulk_settings(connection):
        parse = ledger.parser(columns)
        run = _Run(connection, spec, columns, parse, actor, settings, summary, default_area, path.name, may_edit)

        def rows() -> Iterator[RowError]:
            chunks = _chunks(ledger.cells(), batch)
            while True:
                with _collector_paused():  # while the batch is read too: its rows are lists the collector would walk
                    chunk = next(chunks, None)
                    if chunk is None:
                        return
                    errors = run.batch(chunk)
                yield from errors
                if progress:
                    progress(summary.read)

        write_error_report(error_report, rows())
    summary.seconds = time.perf_counter() - started
    return summary


def _chunks(rows: Iterable[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    chunk: list[tuple[int, list[Any]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while one batch is read, checked and written, as :mod:`timeit` does.

    A batch holds tens of thousands of rows until it is written, each a few
    objects, and none of them in a reference cycle: the collector, which runs
    every few hundred allocations and now and then walks every object alive,
    would walk them again and again and find nothing, a fifth of the import's
    time. Refcounting still frees everything; collection resumes between
    batches (for the whole process: the switch is global).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def _bulk_settings(connection: Connection) -> Iterator[None]:
    """On SQLite, :data:`SQLITE_IMPORT_PRAGMAS` for the import's connection; its own settings again afterwards."""
    if connection.dialect.name != "sqlite":
        yield
        return
    names = [pragma.split()[1] for pragma in SQLITE_IMPORT_PRAGMAS]
    before = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in names}
    for pragma in SQLITE_IMPORT_PRAGMAS:
        connection.exec_driver_sql(pragma)
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()  # after a failed batch, so that the pragmas run outside any transaction
        for name, value in before.items():
            connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")  # fold the import's WAL in now, not later
        connection.commit()


@dataclass
class _Run:
    connection: Connection
    spec: TableSpec
    columns: Columns
    parse: RowParser  # the ledger's rows, from their cells
    actor: str
    settings: Settings
    summary: Summary
    default_area: str | None
    file_name: str
    may_edit: Callable[[str], bool] | None = None  # the uploader's reach, from the portal; the CLI has no limit
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field → the ledger's headers, once per run
    areas: dict[str, tuple[str, str, str] | None] = field(default_factory=dict)  # code or name → (level, path, code)

    def __post_init__(self) -> None:
        self.headers = self.columns.by_field()
        # the columns a row's area and natural-key errors name
        self.area_column = self.headers.get("area_code", ("所属网格",))[0]
        key = self.spec.natural_key
        self.key_column = self.headers.get(key, (key,))[0] if key else ""
        table = self.spec.model.__table__  # type: ignore[attr-defined]
        self.blank = defaults(self.spec)  # every column a new row may set, with its default
        given = ("area_code", "area_path", *self.blank)
        self.pick = itemgetter(*given)  # a new row's values in the writer's column order
        self.records = bulk.Writer(
            self.connection, table, ("id", *given), shared=("version", "extra", "created_at", "updated_at")
        )
        self.history = bulk.Writer(
            self.connection,
            FieldChange.__table__,  # type: ignore[attr-defined]
            ("record_id", "new", "source_ref"),
            shared=("record_type", "field", "old", "source", "actor", "at"),
        )
        self.tags = bulk.Writer(self.connection, PersonTag.__table__, ("person_id", "tag"))  # type: ignore[attr-defined]

    def batch(self, raw_rows: list[tuple[int, list[Any]]]) -> list[RowError]:
        """Check, match and write one batch in one transaction; returns its error rows.

        The rows are parsed before the transaction begins, so that on SQLite
        the write lock is held only while the batch is written.
        """
        errors: list[RowError] = []
        keyed: dict[Any, tuple[int, dict[str, Any]]] = {}
        parse = self.parse
        parsed = [parse(number, cells) for number, cells in raw_rows]
        with self.connection.begin():
            bulk.lock_for_writing(self.connection)
            # joins the connection's transaction: for the area look-ups and the merges, which use the ORM
            with Session(bind=self.connection, expire_on_commit=False) as session:
                self._load_areas(session, {p.values.get("area_code") or self.default_area for p in parsed})
                self.summary.read += len(parsed)
                place, key = self._place, self._key
                for row in parsed:
                    problems = row.errors or place(row.row, row.values)
                    if problems:
                        errors += problems
                        self.summary.rejected += 1
                        self.summary.reasons.update(e.reason_en for e in problems)
                        continue
                    keyed[key(row.values)] = (row.row, row.values)  # a later row of the same record wins
                existing = self._existing(list(keyed))
                self._insert([(n, v) for k, (n, v) in keyed.items() if k not in existing])
                if existing:
                    ids = [r.id for r in existing.values()]
                    tags = service.tags_of(session, ids) if self.spec is PEOPLE else {}
                    for key, stored in existing.items():
                        number, values = keyed[key]
                        errors += self._merge(session, stored, tags.get(stored.id), number, values)
                    session.flush()
        return errors

    def _load_areas(self, session: Session, codes: set[str | None]) -> None:
        """Look up the codes (and names: ledgers often say 第1网格 rather than its code) not seen before."""
        unknown = {c for c in codes if c and c not in self.areas}
        if not unknown:
            return
        named = and_(col(Area.name).in_(unknown), col(Area.level).in_(service.RECORD_LEVELS))
        found: dict[str, list[Area]] = {}
        for area in session.exec(select(Area).where(or_(col(Area.code).in_(unknown), named))).all():
            for key in {area.code, area.name} & unknown:
                found.setdefault(key, []).append(area)
        for key in unknown:
            matches = found.get(key, [])
            self.areas[key] = (matches[0].level, matches[0].path, matches[0].code) if len(matches) == 1 else None

    def _place(self, number: int, values: dict[str, Any]) -> list[RowError]:
        """Fill ``area_code``/``area_path``, and check the natural key is there; the row's errors otherwise."""
        code = values.get("area_code") or self.default_area
        column = self.area_column
        if not code:
            return [_row_error(number, column, "area_code", "", NO_AREA)]
        known = self.areas.get(code)
        if known is None or known[0] not in service.RECORD_LEVELS:
            return [_row_error(number, column, "area_code", code, BAD_AREA, code=code)]
        if self.may_edit is not None and not self.may_edit(known[1]):
            return [_row_error(number, column, "area_code", code, NOT_YOURS, code=code)]
        values["area_code"], values["area_path"] = known[2], known[1]
        if self.spec.natural_key and not values.get(self.spec.natural_key):
            return [_row_error(number, self.key_column, self.spec.natural_key, "", NEEDS_KEY[self.spec.name])]
        return []

    def _key(self, values: dict[str, Any]) -> Any:
        if self.spec.natural_key:
            return values[self.spec.natural_key]
        return tuple(values.get(f, "") or "" for f in HOUSE_KEY)

    def _existing(self, keys: list[Any]) -> dict[Any, Any]:
        """Stored rows for these keys, as plain result rows (id, version, area, fields): no ORM objects in the hot path.

        One query per batch (per :data:`BATCH` keys): the ledger's ID numbers are looked up together.
        """
        model = self.spec.model
        wanted = [
            col(model.id),
            col(model.version),
            col(model.area_code),
            *(col(getattr(model, f)) for f in self.spec.fields),
        ]  # type: ignore[attr-defined]
        found: dict[Any, Any] = {}
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            if self.spec.natural_key:
                column = col(getattr(model, self.spec.natural_key))
                rows = self.connection.execute(select(*wanted).where(bulk.any_of(self.connection, column, chunk))).all()
                found.update({getattr(r, self.spec.natural_key): r for r in rows})
            else:
                columns = [col(getattr(model, f)) for f in HOUSE_KEY]
                live = col(model.deleted_at).is_(None)  # type: ignore[attr-defined]
                rows = self.connection.execute(select(*wanted).where(tuple_(*columns).in_(chunk), live)).all()
                found.update({tuple(getattr(r, f) or "" for f in HOUSE_KEY): r for r in rows})
        return found

    def _insert(self, new: list[tuple[int, dict[str, Any]]]) -> None:
        """The new records, their provenance rows and their tags, each in one bulk write, with ids assigned here."""
        if not new:
            return
        now = utcnow()
        ids = bulk.next_ids(self.connection, self.records.table, len(new))
        people = self.spec is PEOPLE
        blank, pick, fields = self.blank, self.pick, self.spec.fields
        file_name = self.file_name
        given: dict[tuple[str, ...], str] = {}  # the fields a row gave, as keys → as provenance lists them
        rows, history = [], []
        for rid, (number, values) in zip(ids, new, strict=True):
            row = blank | values
            if people and row["id_number"]:
                row["id_tail"] = row["id_number"][-service.TAIL :]
            rows.append((rid, *pick(row)))
            keys = tuple(values)
            listed = given.get(keys)
            if listed is None:
                listed = given[keys] = ",".join(k for k in keys if k in fields)
            history.append((rid, listed, f"{file_name}:{number}"))
        self.records.write(self.connection, rows, (1, {}, now, now))
        self.history.write(self.connection, history, (self.spec.name, "created", None, "import", self.actor, now))
        if people:
            tags = [(rid, t) for rid, (_n, v) in zip(ids, new, strict=True) for t in v.get("tags") or ()]
            if tags:
                self.tags.write(self.connection, tags)
        self.summary.inserted += len(new)

    def _merge(
        self, session: Session, stored: Any, tags_now: list[str] | None, number: int, values: dict[str, Any]
    ) -> list[RowError]:
        """Send the row's fields that differ through the ordinary update: authority, provenance, version.

        ``stored`` is a plain row; the record itself is loaded only when something changed.
        """
        record = stored
        changed = {
            k: v
            for k, v in values.items()
            if k in self.spec.fields and service.text(getattr(record, k)) != service.text(v)
        }
        if values.get("area_code") and values["area_code"] != record.area_code:
            changed["area_code"] = values["area_code"]
        tags = values.get("tags")
        if self.spec is PEOPLE and tags is not None and sorted(tags) != (tags_now or []):
            changed["tags"] = tags
        if not changed:
            self.summary.unchanged += 1
            return []
        source = service.Source("import", self.actor, f"{self.file_name}:{number}")
        record = session.get(self.spec.model, stored.id)
        try:
            patch = PATCHES[self.spec.name](**changed, version=record.version)
            outcome = service.update(session, self.spec, record, patch, source=source, settings=self.settings)
        except ValidationError as exc:
            problems = [
                RowError(number, p.field, p.field, "", p.message, p.message_en) for p in describe_pydantic(exc.errors())
            ]
        except AppError as exc:
            problems = [RowError(number, "", f.field, "", f.message, f.message_en) for f in exc.fields] or [
                RowError(number, "", "", "", exc.message, exc.message_en)
            ]
        else:
            self.summary.conflicts += len(outcome.conflicts)
            if outcome.changed:
                self.summary.updated += 1
            else:
                self.summary.unchanged += 1
            return []
        self.summary.rejected += 1
        self.summary.reasons.update(e.reason_en for e in problems)
        return problems


@cache
def defaults(spec: TableSpec) -> dict[str, Any]:
    """Every settable column with its default, so rows inserted in one executemany all have the same keys."""
    found = {}
    for name in (*spec.fields, *(["id_tail"] if spec is PEOPLE else [])):
        default = spec.model.model_fields[name].default
        found[name] = None if default is PydanticUndefined else default
    return found


def _row_error(row: int, column: str, field_name: str, value: str, msgid: str, **params: object) -> RowError:
    zh, en = both(msgid, **params)
    return RowError(row, column, field_name, value, zh, en)
