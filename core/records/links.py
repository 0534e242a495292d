"""Links between the three tables: who owns, rents or lives in which house, who works for or is a party member
of which organisation, and which organisation operates in which house.

A person's links to houses and organisations are rows of their own (``person_house``,
``person_organisation``) with a kind and an optional period; an organisation's house is its own ``house_id``
field, so that link is changed through :func:`service.update` (version check, authority, provenance).

Both records must be live and in the caller's areas: ``records:view`` to read, ``records:edit`` on both ends to
write, so a grid worker cannot attach a stranger's house to a person of their grid. A list shows only the linked
records the caller may see and counts the rest, rather than naming them.

Each change is written to the provenance of both records (field ``{other table}.{kind}``, the value the other
record's id and the period), so either record's history page tells when and by whom it was linked or ended.
The database keeps one row per pair and kind: linking again after a link ended reopens that row with the new
period, and the earlier period stays in the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.errors import AppError, FieldError, bad_request
from jiceng.core.i18n import N_, both
from jiceng.core.records import service
from jiceng.core.records.models import (
    Affiliation,
    FieldChange,
    House,
    Organisation,
    PersonHouse,
    PersonOrganisation,
    Residence,
)
from jiceng.core.records.schemas import OrganisationPatch
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TABLES, TableSpec
from jiceng.core.web.context import Caller


class Premises(StrEnum):
    """The one kind of organisation–house link: the house the organisation operates in."""

    premises = "premises"


KIND_LABELS = {
    Residence.owner: N_("Owner"),
    Residence.tenant: N_("Tenant"),
    Residence.resident: N_("Lives here"),
    Affiliation.employee: N_("Employee"),
    Affiliation.party_member: N_("Party member of its branch"),
    Premises.premises: N_("Operates here"),
}
#: What a link list shows of the record at the other end (masked like every list).
SUMMARY = {
    PEOPLE.name: ("name", "id_number"),
    HOUSES.name: ("address", "building", "unit", "room"),
    ORGANISATIONS.name: ("name", "uscc", "kind"),
}
NOT_FOUND = {
    PEOPLE.name: N_("No person with id {id}."),
    HOUSES.name: N_("No house with id {id}."),
    ORGANISATIONS.name: N_("No organisation with id {id}."),
}
# Field messages are marked here: the message extractor does not see a msgid inside a call inside another call.
REQUIRED = N_("This field is required.")
ONE_OF = N_("Must be one of: {expected}.")
AFTER_START = N_("Must be on or after the start date ({since}).")
OUTSIDE = N_("This record is outside the areas where you may do this.")
END_FIRST = N_("End the current link first.")


@dataclass(frozen=True)
class Pair:
    """Two tables that can be linked: the link table and its columns, or ``None`` for an organisation's house."""

    first: TableSpec
    second: TableSpec
    kinds: type[StrEnum]
    model: type[SQLModel] | None = None
    first_column: str = ""
    second_column: str = ""


PAIRS = (
    Pair(PEOPLE, HOUSES, Residence, PersonHouse, "person_id", "house_id"),
    Pair(PEOPLE, ORGANISATIONS, Affiliation, PersonOrganisation, "person_id", "organisation_id"),
    Pair(ORGANISATIONS, HOUSES, Premises),
)


def pair_of(a: TableSpec, b: TableSpec) -> Pair:
    for pair in PAIRS:
        if {pair.first.name, pair.second.name} == {a.name, b.name}:
            return pair
    raise ValueError(f"{a.name} and {b.name} are not linked")


@dataclass(frozen=True)
class Ends:
    """The two records of one link, in the pair's order."""

    first: Any
    second: Any

    @classmethod
    def of(cls, pair: Pair, spec: TableSpec, record: Any, other: Any) -> Ends:
        return cls(record, other) if spec is pair.first else cls(other, record)


# -- checks ----------------------------------------------------------------------------------------------------------


def kind_of(pair: Pair, kind: str | StrEnum | None) -> StrEnum:
    """The link kind, or 422 naming ``kind`` and the kinds this pair has."""
    if kind is None and pair.kinds is Premises:
        return Premises.premises
    if kind is None:
        raise invalid("kind", REQUIRED)
    try:
        return pair.kinds(kind)
    except ValueError:
        raise invalid("kind", ONE_OF, expected=", ".join(k.value for k in pair.kinds)) from None


def check_period(since: date | None, until: date | None) -> None:
    if since is not None and until is not None and until < since:
        raise invalid("until", AFTER_START, since=since.isoformat())


def invalid(field: str, msgid: str, **params: object) -> AppError:
    """422 naming ``field`` in both languages."""
    return bad_request("Some fields are not valid.", fields=[FieldError(field, *both(msgid, **params))])


def other_record(session: Session, caller: Caller, spec: TableSpec, record_id: int, perm: str) -> Any:
    """The record at the other end, named by a field of the request: a problem names that field."""
    field = f"{spec.name}_id"
    record = session.get(spec.model, record_id)
    if record is None or record.deleted_at is not None:  # type: ignore[attr-defined]
        raise invalid(field, NOT_FOUND[spec.name], id=record_id)
    if not caller.grants.allows(perm, record.area_path):  # type: ignore[attr-defined]
        outside = FieldError(field, *both(OUTSIDE))
        raise AppError(403, "forbidden", "You do not have the permission {perm} here.", {"perm": perm}, [outside])
    return record


def active(until: date | None) -> bool:
    """A link has ended from its ``until`` day on (ending one today makes it past at once); without one it holds."""
    return until is None or until > date.today()


# -- reading ---------------------------------------------------------------------------------------------------------


def summary(spec: TableSpec, record: Any) -> dict[str, Any]:
    shown = service.present(spec, record, reveal=False)
    return {"id": record.id, "area_code": record.area_code, **{f: shown[f] for f in SUMMARY[spec.name]}}


def shape(
    pair: Pair, ends: Ends, kind: StrEnum, since: date | None, until: date | None, **extra: Any
) -> dict[str, Any]:
    """A link as clients see it: its kind and period, and both records summarised (and masked)."""
    return {
        **extra,
        "kind": kind.value,
        "since": since,
        "until": until,
        "active": active(until),
        pair.first.name: summary(pair.first, ends.first),
        pair.second.name: summary(pair.second, ends.second),
    }


def links_of(session: Session, caller: Caller, spec: TableSpec, record: Any, other: TableSpec) -> dict[str, Any]:
    """Every link of ``record`` to ``other`` records, current ones first; ``hidden`` counts those outside the caller's view."""
    caller.require("records:view", record.area_path)
    pair = pair_of(spec, other)
    found = _rows(session, pair, spec, record, other)
    visible = [(row, linked) for row, linked in found if caller.grants.allows("records:view", linked.area_path)]
    data = [_present(pair, spec, record, row, linked) for row, linked in visible]
    data.sort(key=lambda link: (not link["active"], -(link["since"] or date.min).toordinal()))
    return {"data": data, "hidden": len(found) - len(visible)}


def _rows(session: Session, pair: Pair, spec: TableSpec, record: Any, other: TableSpec) -> list[tuple[Any, Any]]:
    """(link row, other record) for every live other record; for an organisation's house the row is None."""
    model = other.model
    if pair.model is None:
        if spec is ORGANISATIONS:
            house = session.get(House, record.house_id) if record.house_id else None
            return [(None, house)] if house is not None and house.deleted_at is None else []
        query = select(Organisation).where(
            col(Organisation.house_id) == record.id, col(Organisation.deleted_at).is_(None)
        )
        return [(None, org) for org in session.exec(query.order_by(col(Organisation.id))).all()]
    mine, theirs = _columns(pair, spec)
    query = (
        select(pair.model, model)
        .join(model, col(getattr(pair.model, theirs)) == col(model.id))  # type: ignore[attr-defined]
        .where(col(getattr(pair.model, mine)) == record.id, col(model.deleted_at).is_(None))  # type: ignore[attr-defined]
        .order_by(col(pair.model.id))  # type: ignore[attr-defined]
    )
    return [(row, linked) for row, linked in session.exec(query).all()]


def _columns(pair: Pair, spec: TableSpec) -> tuple[str, str]:
    """The link table's column for ``spec``'s record and for the other one."""
    return (pair.first_column, pair.second_column) if spec is pair.first else (pair.second_column, pair.first_column)


def _present(pair: Pair, spec: TableSpec, record: Any, row: Any, linked: Any) -> dict[str, Any]:
    ends = Ends.of(pair, spec, record, linked)
    if row is None:
        return shape(pair, ends, Premises.premises, None, None)
    return shape(pair, ends, pair.kinds(row.relation), row.since, row.until, id=row.id)


# -- writing ---------------------------------------------------------------------------------------------------------


def create(
    session: Session,
    caller: Caller,
    spec: TableSpec,
    record: Any,
    other: TableSpec,
    other_id: int,
    *,
    kind: str | StrEnum | None = None,
    since: date | None = None,
    until: date | None = None,
    settings: Settings,
) -> dict[str, Any]:
    """Link ``record`` to the ``other`` record ``other_id``; 409 while the same link has not ended. The caller commits."""
    caller.require("records:edit", record.area_path)
    pair = pair_of(spec, other)
    link_kind = kind_of(pair, kind)
    check_period(since, until)
    linked = other_record(session, caller, other, other_id, "records:edit")
    ends = Ends.of(pair, spec, record, linked)
    source = service.Source(caller.via_kind, caller.username)
    if pair.model is None:
        return _place(session, pair, ends, source, settings)
    columns = {pair.first_column: ends.first.id, pair.second_column: ends.second.id, "relation": link_kind.value}
    row = session.exec(select(pair.model).filter_by(**columns)).first()
    if row is not None and active(row.until):
        raise _duplicate()
    before = None if row is None else _period(row.since, row.until)
    if row is None:
        row = pair.model(**columns, since=since, until=until)
        session.add(row)
    else:  # one row per pair and kind: an ended link is reopened, its old period stays in the history
        row.since, row.until = since, until
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request made the same link first
        session.rollback()
        raise _duplicate() from exc
    _history(session, pair, ends, link_kind, before, _period(since, until), source)
    return shape(pair, ends, link_kind, since, until, id=row.id)


def end(
    session: Session,
    caller: Caller,
    spec: TableSpec,
    record: Any,
    other: TableSpec,
    other_id: int,
    *,
    kind: str | StrEnum | None = None,
    until: date | None = None,
    settings: Settings,
) -> dict[str, Any]:
    """End the current link of ``kind`` between the two records on ``until`` (today if not given)."""
    caller.require("records:edit", record.area_path)
    pair = pair_of(spec, other)
    link_kind = kind_of(pair, kind)
    linked = other_record(session, caller, other, other_id, "records:edit")
    ends = Ends.of(pair, spec, record, linked)
    source = service.Source(caller.via_kind, caller.username)
    if pair.model is None:
        return _vacate(session, pair, ends, source, settings)
    columns = {pair.first_column: ends.first.id, pair.second_column: ends.second.id, "relation": link_kind.value}
    row = session.exec(select(pair.model).filter_by(**columns)).first()
    if row is None or not active(row.until):
        raise AppError(
            409 if row else 404,
            "conflict" if row else "not_found",
            "There is no current link of this kind between these records.",
        )
    ending = until or date.today()
    check_period(row.since, ending)
    before = _period(row.since, row.until)
    row.until = ending
    session.flush()
    _history(session, pair, ends, link_kind, before, _period(row.since, ending), source)
    return shape(pair, ends, link_kind, row.since, ending, id=row.id)


def _place(session: Session, pair: Pair, ends: Ends, source: service.Source, settings: Settings) -> dict[str, Any]:
    """An organisation moves into a house: its ``house_id``, through the service (version, authority, provenance).

    ``held`` is true when a more authoritative source set the current value: the change waits for review as a
    conflict, and the answer shows what was asked for.
    """
    organisation, house = ends.first, ends.second
    if organisation.house_id == house.id:
        raise _duplicate()
    current = session.get(House, organisation.house_id) if organisation.house_id else None
    if current is not None and current.deleted_at is None:
        first = FieldError("house_id", *both(END_FIRST))
        raise AppError(
            409,
            "duplicate",
            "This organisation operates in house {id} already; end that link first.",
            {"id": current.id},
            [first],
        )
    held = _set_house(session, organisation, house.id, source, settings)
    if not held:
        _record(
            session, HOUSES, house.id, f"{ORGANISATIONS.name}.{Premises.premises}", None, f"#{organisation.id}", source
        )
    return {**shape(pair, ends, Premises.premises, None, None), "held": held}


def _vacate(session: Session, pair: Pair, ends: Ends, source: service.Source, settings: Settings) -> dict[str, Any]:
    organisation, house = ends.first, ends.second
    if organisation.house_id != house.id:
        raise AppError(404, "not_found", "There is no current link of this kind between these records.")
    held = _set_house(session, organisation, None, source, settings)
    if not held:
        _record(
            session, HOUSES, house.id, f"{ORGANISATIONS.name}.{Premises.premises}", f"#{organisation.id}", None, source
        )
    return {**shape(pair, ends, Premises.premises, None, date.today()), "held": held}


def _set_house(
    session: Session, organisation: Any, house_id: int | None, source: service.Source, settings: Settings
) -> bool:
    """Change the organisation's house; True when a more authoritative source keeps it for review instead."""
    patch = OrganisationPatch(version=organisation.version, house_id=house_id)
    outcome = service.update(session, ORGANISATIONS, organisation, patch, source=source, settings=settings)
    return "house_id" in outcome.conflicts


def _duplicate() -> AppError:
    return AppError(409, "duplicate", "This link already exists and has not ended.")


def _period(since: date | None, until: date | None) -> str:
    return f"{since.isoformat() if since else ''} – {until.isoformat() if until else ''}".strip()


def _history(
    session: Session, pair: Pair, ends: Ends, kind: StrEnum, old: str | None, new: str, source: service.Source
) -> None:
    """The change on both records' histories: ``house.owner: #12 2024-01-01 –`` on the person, and back."""
    for spec, record, other, linked in (
        (pair.first, ends.first, pair.second, ends.second),
        (pair.second, ends.second, pair.first, ends.first),
    ):
        field = f"{other.name}.{kind.value}"
        _record(session, spec, record.id, field, f"#{linked.id} {old}" if old else None, f"#{linked.id} {new}", source)


def _record(
    session: Session,
    spec: TableSpec,
    record_id: int,
    field: str,
    old: str | None,
    new: str | None,
    source: service.Source,
) -> None:
    """One provenance row, in the shape :mod:`service` writes for a field (it has no public writer for links)."""
    session.execute(
        insert(FieldChange),
        [
            {
                "record_type": spec.name,
                "record_id": record_id,
                "field": field,
                "old": old,
                "new": new,
                "source": source.kind,
                "source_ref": source.ref,
                "actor": source.actor,
                "at": utcnow(),
            }
        ],
    )


def link_field(name: str) -> tuple[TableSpec, StrEnum] | None:
    """The other table and kind of a provenance field written here (``house.owner``), or None for any other field."""
    table, _, kind = name.partition(".")
    for label in KIND_LABELS:
        if label.value == kind and table in TABLES:
            return TABLES[table], label
    return None
