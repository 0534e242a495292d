"""Reading and changing the three tables: scoped, masked, versioned, with provenance and authority.

Every write goes through :func:`create`, :func:`update` or :func:`remove`,
which record who changed which field from which source (provenance, the
history a record's page shows), keep values from lower-authority sources as
conflicts instead of applying them (一数一源), and refuse a stale version with
409 by making the version part of the UPDATE's WHERE clause, so two
concurrent editors cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, delete, func, insert, or_
from sqlalchemy import update as sql_update
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel, get_area, within
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.errors import AppError, FieldError, InvalidValue, bad_request, conflict, not_found
from jiceng.core.i18n import both
from jiceng.core.permissions.checker import Grants
from jiceng.core.records import validation
from jiceng.core.records.models import FieldChange, FieldConflict, Person, PersonTag
from jiceng.core.records.tables import PEOPLE, TableSpec

RECORD_LEVELS = (AreaLevel.community, AreaLevel.grid)
TAIL = 4  # ID-number digits kept in the indexed ``id_tail`` column for "search by the last digits"


@dataclass(frozen=True)
class Source:
    """Where a change comes from: ``kind`` is portal, api, import, scenario or visit; ``ref`` says which one."""

    kind: str
    actor: str
    ref: str = ""


@dataclass
class Outcome:
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (old, new), for notifications


def text(value: Any) -> str | None:
    """A field value as provenance stores it."""
    if value is None or value == "":
        return None
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def place(session: Session, area_code: str) -> Area:
    """The community or grid a record belongs to."""
    area = get_area(session, area_code)
    if area.level not in RECORD_LEVELS:
        raise bad_request(
            "Records belong to a community or a grid; {area} is a {level}.",
            fields=[FieldError("area_code", *both("Choose a community or a grid."))],
            area=area_code,
            level=area.level,
        )
    return area


def visible(spec: TableSpec, grants: Grants, perm: str, *, under: str | None = None) -> Any:
    """The live records of ``spec`` the caller may see with ``perm``: one SQL filter, never a per-row check.

    With ``under`` (an area path) the caller's reach is intersected with it here, in Python, so the query
    carries one narrow range rather than the town's range beside the community's.
    """
    model = spec.model
    prefixes = list(grants.paths(perm))
    if under is not None:
        covering = [p for p in prefixes if under.startswith(p)]
        prefixes = [under] if covering else [p for p in prefixes if p.startswith(under)]
    return select(model).where(col(model.deleted_at).is_(None), within(col(model.area_path), prefixes))  # type: ignore[attr-defined]


def get_record(session: Session, spec: TableSpec, record_id: int) -> Any:
    record = session.get(spec.model, record_id)
    if record is None or record.deleted_at is not None:  # type: ignore[attr-defined]
        raise not_found("No {table} with id {id}.", table=spec.name, id=record_id)
    return record


def tags_of(session: Session, person_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(person_ids)
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        tags = PersonTag.__table__.c  # type: ignore[attr-defined]
        for pid, tag in session.execute(
            select(tags.person_id, tags.tag).where(tags.person_id.in_(ids)).order_by(tags.tag)
        ).all():
            found[pid].append(tag)
    return found


def present(spec: TableSpec, record: Any, *, reveal: bool, tags: list[str] | None = None) -> dict[str, Any]:
    """The record as a client sees it: personal fields masked unless ``reveal``."""
    out: dict[str, Any] = {
        "id": record.id,
        "area_code": record.area_code,
        "version": record.version,
        "updated_at": record.updated_at,
    }
    for name in spec.fields:
        value = getattr(record, name)
        if name in spec.personal and not reveal:
            value = validation.mask_id_number(value) if name == "id_number" else validation.mask_phone(value)
        out[name] = value.value if isinstance(value, Enum) else value
    if spec is PEOPLE:
        out["tags"] = tags or []
    return out


def _person_consistency(values: Mapping[str, Any]) -> dict[str, Any]:
    """Fill birth date and gender from the ID number, or refuse when they disagree with it."""
    number = values.get("id_number")
    if not number:
        return {}
    parsed = validation.parse_id_number(number)
    try:
        validation.check_id_against(parsed, values.get("birth_date"), values.get("gender"))
    except InvalidValue as exc:
        field_name = "birth_date" if values.get("birth_date") not in (None, parsed.birth_date) else "gender"
        raise bad_request("Some fields are not valid.", fields=[FieldError(field_name, *exc.texts())]) from exc
    return {"birth_date": parsed.birth_date, "gender": parsed.gender, "id_tail": parsed.number[-TAIL:]}


def _unique(session: Session, spec: TableSpec, value: Any, exclude_id: int | None = None) -> None:
    if not spec.natural_key or not value:
        return
    column = col(getattr(spec.model, spec.natural_key))
    query = select(spec.model.id).where(column == value)  # type: ignore[attr-defined]
    if exclude_id is not None:
        query = query.where(col(spec.model.id) != exclude_id)  # type: ignore[attr-defined]
    other = session.exec(query).first()
    if other is not None:
        raise AppError(
            409,
            "duplicate",
            "This {field} belongs to another record already (id {id}).",
            {"field": spec.natural_key, "id": other},
        )


def create(session: Session, spec: TableSpec, data: BaseModel, *, source: Source) -> Any:
    """Insert a record in the caller's transaction, with one provenance row per field given."""
    values = data.model_dump(exclude={"tags", "area_code"})
    area = place(session, data.area_code)  # type: ignore[attr-defined]
    if spec is PEOPLE:
        values.update(_person_consistency(values))
    _unique(session, spec, values.get(spec.natural_key or ""))
    record = spec.model(**values, area_code=area.code, area_path=area.path)
    session.add(record)
    session.flush()
    record_provenance(
        session,
        spec,
        record.id,
        {k: (None, v) for k, v in values.items() if k in spec.fields and text(v) is not None},
        source,
    )  # type: ignore[attr-defined]
    if spec is PEOPLE and getattr(data, "tags", None):
        session.execute(insert(PersonTag), [{"person_id": record.id, "tag": t} for t in data.tags])  # type: ignore[attr-defined]
    return record


def update(
    session: Session, spec: TableSpec, record: Any, patch: BaseModel, *, source: Source, settings: Settings
) -> Outcome:
    """Apply a patch made against ``patch.version``; 409 when the record moved on since."""
    given = patch.model_dump(exclude_unset=True, exclude={"version", "tags"})
    expected = patch.version  # type: ignore[attr-defined]
    if record.version != expected:
        raise stale(record.version, expected)
    outcome = Outcome()
    apply: dict[str, Any] = {}
    if "area_code" in given and given["area_code"] != record.area_code:
        area = place(session, given.pop("area_code"))
        apply.update(area_code=area.code, area_path=area.path)
        outcome.changed.append("area_code")
    given.pop("area_code", None)
    if spec is PEOPLE:
        merged = {f: getattr(record, f) for f in ("id_number", "birth_date", "gender")} | given
        given.update(
            {
                k: v
                for k, v in _person_consistency(merged).items()
                if k == "id_tail" or k in given or getattr(record, k) is None
            }
        )
    if spec.natural_key in given:
        _unique(session, spec, given[spec.natural_key], exclude_id=record.id)
    history: dict[str, tuple[Any, Any]] = {}
    for name, new in given.items():
        old = getattr(record, name)
        if text(old) == text(new):
            continue
        if name in spec.fields and _outranked(session, settings, spec, record, name, source):
            session.add(
                FieldConflict(
                    record_type=spec.name,
                    record_id=record.id,
                    area_path=record.area_path,
                    field=name,
                    current=text(old),
                    proposed=text(new),
                    source=source.kind,
                    source_ref=source.ref,
                    actor=source.actor,
                )
            )
            outcome.conflicts.append(name)
            continue
        apply[name] = new
        if name in spec.fields:
            history[name] = (old, new)
            outcome.changed.append(name)
    if spec is PEOPLE and getattr(patch, "tags", None) is not None and _set_tags(session, record.id, patch.tags):  # type: ignore[attr-defined]
        outcome.changed.append("tags")
    if apply or "tags" in outcome.changed:
        write_version(session, spec, record, expected, apply)
        record_provenance(session, spec, record.id, history, source)
    outcome.values = history
    return outcome


def remove(session: Session, spec: TableSpec, record: Any, *, version: int, source: Source) -> None:
    """Soft delete: the record leaves every list but its history stays."""
    if record.version != version:
        raise stale(record.version, version)
    write_version(session, spec, record, version, {"deleted_at": utcnow()})
    record_provenance(session, spec, record.id, {"deleted": ("", "yes")}, source)


def stale(current: int, expected: int) -> AppError:
    return conflict(
        "Someone changed this record after you opened it (your version {expected}, now {current}); reload and try again.",
        expected=expected,
        current=current,
    )


def write_version(session: Session, spec: TableSpec, record: Any, expected: int, values: dict[str, Any]) -> None:
    """Write ``values`` only if the record still has version ``expected`` (else 409), bumping the version."""
    model = spec.model
    result = session.execute(
        sql_update(model)
        .where(col(model.id) == record.id, col(model.version) == expected)  # type: ignore[attr-defined]
        .values(**values, version=expected + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise stale(expected + 1, expected)
    session.expire(record)


def _set_tags(session: Session, person_id: int, tags: list[str]) -> bool:
    current = set(session.exec(select(PersonTag.tag).where(PersonTag.person_id == person_id)).all())
    if current == set(tags):
        return False
    session.execute(delete(PersonTag).where(col(PersonTag.person_id) == person_id))
    if tags:
        session.execute(insert(PersonTag), [{"person_id": person_id, "tag": t} for t in tags])
    return True


def _outranked(session: Session, settings: Settings, spec: TableSpec, record: Any, name: str, source: Source) -> bool:
    """True when ``source`` ranks below the source that set the current value (config ``[records].authority``)."""
    ranking = settings.records.authority.get(f"{spec.name}.{name}")
    if not ranking or getattr(record, name) in (None, ""):
        return False
    last = session.exec(
        select(FieldChange.source)
        .where(FieldChange.record_type == spec.name, FieldChange.record_id == record.id, FieldChange.field == name)
        .order_by(col(FieldChange.id).desc())
        .limit(1)
    ).first()

    def rank(kind: str | None) -> int:
        return ranking.index(kind) if kind in ranking else len(ranking)  # type: ignore[arg-type]

    return last is not None and rank(source.kind) > rank(last)


def record_provenance(
    session: Session, spec: TableSpec, record_id: int, changes: Mapping[str, tuple[Any, Any]], source: Source
) -> None:
    """One history row per changed field, ``changes`` mapping a field to its old and new value."""
    rows = [
        {
            "record_type": spec.name,
            "record_id": record_id,
            "field": name,
            "old": text(old),
            "new": text(new),
            "source": source.kind,
            "source_ref": source.ref[:200],
            "actor": source.actor,
            "at": utcnow(),
        }
        for name, (old, new) in changes.items()
    ]
    if rows:
        session.execute(insert(FieldChange), rows)


def history(session: Session, spec: TableSpec, record_id: int, *, reveal: bool) -> list[dict[str, Any]]:
    """Every change of the record, newest first; personal values masked unless ``reveal``."""
    rows = session.exec(
        select(FieldChange)
        .where(FieldChange.record_type == spec.name, FieldChange.record_id == record_id)
        .order_by(col(FieldChange.id).desc())
    ).all()
    out = []
    for row in rows:
        old, new = row.old, row.new
        if row.field in spec.personal and not reveal:
            mask = validation.mask_id_number if row.field == "id_number" else validation.mask_phone
            old, new = mask(old) if old else old, mask(new) if new else new
        out.append(
            {
                "field": row.field,
                "old": old,
                "new": new,
                "source": row.source,
                "source_ref": row.source_ref,
                "actor": row.actor,
                "at": row.at,
            }
        )
    return out


def search_condition(spec: TableSpec, q: str) -> ColumnElement[bool]:
    """Free text: a full ID number or credit code, the last digits of an ID number, or a name/address fragment."""
    model = spec.model
    term = validation.normalize(q)
    if spec.natural_key and len(term) == 18:
        code = _valid_key(spec, term)
        if code is not None:  # a whole, valid number: the unique index answers, nothing else can match it
            return col(getattr(model, spec.natural_key)) == code
    conditions = [col(getattr(model, f)).contains(q.strip()) for f in spec.search]
    tail = term.upper()
    if spec is PEOPLE and 4 <= len(tail) <= 6 and tail[:-1].isdigit() and (tail[-1].isdigit() or tail[-1] == "X"):
        by_tail = col(Person.id_tail) == tail[-TAIL:]
        conditions.append(by_tail if len(tail) == TAIL else and_(by_tail, col(Person.id_number).endswith(tail)))
    return or_(*conditions)


def _valid_key(spec: TableSpec, term: str) -> str | None:
    """The normalised natural key if ``term`` is a valid one, else None."""
    try:
        return validation.parse_id_number(term).number if spec is PEOPLE else validation.parse_uscc(term)
    except InvalidValue:
        return None


def count(session: Session, query: Any) -> int:
    return session.exec(select(func.count()).select_from(query.subquery())).one()


def page(session: Session, spec: TableSpec, query: Any, *, offset: int, limit: int) -> list[Any]:
    """One page of ``query`` (a :func:`visible` query, perhaps narrowed) in id order, as plain rows.

    The page's ids are picked first, from the index that serves the filter,
    and only those rows are read: sorting the whole scope by id then sorts
    index entries, not table rows (a community holds ten thousand people;
    the page, fifty). Rows are returned as result rows with the table's
    columns, read like the records themselves (``row.name``) without the
    cost of an ORM object each.
    """
    model = spec.model
    ids = query.with_only_columns(col(model.id)).order_by(col(model.id)).offset(offset).limit(limit)  # type: ignore[attr-defined]
    table = model.__table__  # type: ignore[attr-defined]
    return list(session.execute(select(table).where(table.c.id.in_(ids)).order_by(table.c.id)).all())


def page_total(session: Session, query: Any, *, offset: int, limit: int, rows: int) -> int:
    """How many records ``query`` finds in all, given that the page at ``offset`` held ``rows`` of at most ``limit``.

    A page that is not full ends the list, so the total is known without
    counting: a lookup by ID number, or a small community, costs no count.
    """
    if rows < limit and (rows or not offset):
        return offset + rows
    return count(session, query)
