"""Ledger import (台账导入): stream a file, validate every row, merge into the tables in batches.

The reading and row checks live in :mod:`ledger`; this module matches rows
to stored records by their natural key (ID number, credit code, or a house's
full address), inserts the new ones in bulk with ``INSERT … RETURNING`` (the
ORM stays out of the hot loop), sends changed ones through
:func:`service.update` so authority and provenance rules are the same as
anywhere else, and commits each batch on its own. Importing the same file
twice changes nothing: every row then matches a record with equal values.

Error rows are written to the report as they are found, so memory does not
grow with the file, and the summary counts what a clerk wants to know.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticUndefined
from sqlalchemy import Engine, and_, or_, tuple_
from sqlmodel import Session, col, select

from jiceng.core.areas import Area
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.errors import AppError, describe_pydantic
from jiceng.core.i18n import N_, both
from jiceng.core.records import service
from jiceng.core.records.ledger import Columns, LedgerError, RowError, open_ledger, parse_row, write_error_report
from jiceng.core.records.models import FieldChange, PersonTag
from jiceng.core.records.schemas import HousePatch, OrganisationPatch, PersonPatch
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TableSpec

BATCH = 5000
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
    run = _Run(engine, spec, columns, actor, settings, summary, default_area, path.name, may_edit)

    def rows() -> Iterator[RowError]:
        pending: list[tuple[int, dict[str, Any]]] = []
        for number, raw in ledger:
            pending.append((number, raw))
            if len(pending) >= batch:
                yield from run.batch(pending)
                pending = []
                if progress:
                    progress(summary.read)
        if pending:
            yield from run.batch(pending)
            if progress:
                progress(summary.read)

    write_error_report(error_report, rows())
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Run:
    engine: Engine
    spec: TableSpec
    columns: Columns
    actor: str
    settings: Settings
    summary: Summary
    default_area: str | None
    file_name: str
    may_edit: Callable[[str], bool] | None = None  # the uploader's reach, from the portal; the CLI has no limit
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field → the ledger's headers, once per run

    def __post_init__(self) -> None:
        self.headers = self.columns.by_field()

    areas: dict[str, tuple[str, str, str] | None] = field(default_factory=dict)  # code or name → (level, path, code)

    def batch(self, raw_rows: list[tuple[int, dict[str, Any]]]) -> list[RowError]:
        """Check, match and write one batch in one transaction; returns its error rows."""
        errors: list[RowError] = []
        keyed: dict[Any, tuple[int, dict[str, Any]]] = {}
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            parsed = [parse_row(self.spec.name, number, raw, self.columns) for number, raw in raw_rows]
            self._load_areas(session, {p.values.get("area_code") or self.default_area for p in parsed})
            for row in parsed:
                self.summary.read += 1
                problems = row.errors or self._place(row.row, row.values)
                if problems:
                    errors += problems
                    self.summary.rejected += 1
                    self.summary.reasons.update(e.reason_en for e in problems)
                    continue
                keyed[self._key(row.values)] = (row.row, row.values)  # a later row of the same record wins
            existing = self._existing(session, list(keyed))
            new = [(n, v) for k, (n, v) in keyed.items() if k not in existing]
            self._insert(session, new)
            tags = service.tags_of(session, [r.id for r in existing.values()]) if self.spec is PEOPLE else {}
            for key, (number, values) in keyed.items():
                if key in existing:
                    errors += self._merge(session, existing[key], tags.get(existing[key].id), number, values)
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
        column = next(iter(self.headers.get("area_code", ("所属网格",))))
        if not code:
            return [_row_error(number, column, "area_code", "", NO_AREA)]
        known = self.areas.get(code)
        if known is None or known[0] not in service.RECORD_LEVELS:
            return [_row_error(number, column, "area_code", code, BAD_AREA, code=code)]
        if self.may_edit is not None and not self.may_edit(known[1]):
            return [_row_error(number, column, "area_code", code, NOT_YOURS, code=code)]
        values["area_code"], values["area_path"] = known[2], known[1]
        if self.spec.natural_key and not values.get(self.spec.natural_key):
            header = next(iter(self.headers.get(self.spec.natural_key, (self.spec.natural_key,))))
            return [_row_error(number, header, self.spec.natural_key, "", NEEDS_KEY[self.spec.name])]
        return []

    def _key(self, values: dict[str, Any]) -> Any:
        if self.spec.natural_key:
            return values[self.spec.natural_key]
        return tuple(values.get(f, "") or "" for f in HOUSE_KEY)

    def _existing(self, session: Session, keys: list[Any]) -> dict[Any, Any]:
        """Stored rows for these keys, as plain result rows (id, version, area, fields): no ORM objects in the hot path."""
        model = self.spec.model
        wanted = [
            col(model.id),
            col(model.version),
            col(model.area_code),
            *(col(getattr(model, f)) for f in self.spec.fields),
        ]  # type: ignore[attr-defined]
        found: dict[Any, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            if self.spec.natural_key:
                column = col(getattr(model, self.spec.natural_key))
                rows = session.execute(select(*wanted).where(column.in_(chunk))).all()
                found.update({getattr(r, self.spec.natural_key): r for r in rows})
            else:
                columns = [col(getattr(model, f)) for f in HOUSE_KEY]
                live = col(model.deleted_at).is_(None)  # type: ignore[attr-defined]
                rows = session.execute(select(*wanted).where(tuple_(*columns).in_(chunk), live)).all()
                found.update({tuple(getattr(r, f) or "" for f in HOUSE_KEY): r for r in rows})
        return found

    def _insert(self, session: Session, new: list[tuple[int, dict[str, Any]]]) -> None:
        """Bulk insert through SQLAlchemy Core (one executemany), then provenance and tags.

        The new ids are read back by key: SQLite cannot return them in
        parameter order without falling back to one INSERT per row.
        """
        if not new:
            return
        now = utcnow()
        blank = defaults(self.spec) | {"version": 1, "extra": {}, "created_at": now, "updated_at": now}
        rows = []
        for _number, values in new:
            row = blank | {k: v for k, v in values.items() if k in self.spec.fields or k in ("area_code", "area_path")}
            if self.spec is PEOPLE and row.get("id_number"):
                row["id_tail"] = row["id_number"][-service.TAIL :]
            rows.append(row)
        table = self.spec.model.__table__  # type: ignore[attr-defined]
        connection = session.connection()
        connection.execute(table.insert(), rows)
        inserted = self._existing(session, [self._key(values) for _n, values in new])
        ids = [inserted[self._key(values)].id for _n, values in new]
        history = [
            {
                "record_type": self.spec.name,
                "record_id": rid,
                "field": "created",
                "old": None,
                "new": ",".join(k for k in values if k in self.spec.fields),  # which fields this row gave
                "source": "import",
                "source_ref": f"{self.file_name}:{number}",
                "actor": self.actor,
                "at": now,
            }
            for rid, (number, values) in zip(ids, new, strict=True)
        ]
        connection.execute(FieldChange.__table__.insert(), history)  # type: ignore[attr-defined]
        if self.spec is PEOPLE:
            tags = [
                {"person_id": rid, "tag": t} for rid, (_n, v) in zip(ids, new, strict=True) for t in v.get("tags") or ()
            ]
            if tags:
                connection.execute(PersonTag.__table__.insert(), tags)  # type: ignore[attr-defined]
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
