"""What differs between the three tables, in one place, so the services and routes are written once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import SQLModel

from jiceng.core.records.models import House, Organisation, Person


@dataclass(frozen=True)
class TableSpec:
    """One base table: its model, the fields people may set, the personal ones, and its natural key."""

    name: str  # as in provenance rows and purpose declarations: person, house, organisation
    plural: str  # as in URLs
    model: type[SQLModel]
    fields: tuple[str, ...]
    personal: frozenset[str]  # masked unless the caller holds pii:view
    natural_key: str | None
    search: tuple[str, ...]  # columns a free-text query looks in


PEOPLE = TableSpec(
    name="person",
    plural="people",
    model=Person,
    fields=("id_number", "name", "gender", "birth_date", "ethnicity", "phone", "hukou_address", "current_address"),
    personal=frozenset({"id_number", "phone"}),
    natural_key="id_number",
    search=("name", "current_address"),
)
HOUSES = TableSpec(
    name="house",
    plural="houses",
    model=House,
    fields=("address", "building", "unit", "room", "use", "owner_id", "latitude", "longitude"),
    personal=frozenset(),
    natural_key=None,
    search=("address",),
)
ORGANISATIONS = TableSpec(
    name="organisation",
    plural="organisations",
    model=Organisation,
    fields=("uscc", "name", "kind", "legal_representative", "phone", "registered_address", "licence_state", "house_id"),
    personal=frozenset({"phone"}),
    natural_key="uscc",
    search=("name", "registered_address"),
)
TABLES = {spec.name: spec for spec in (PEOPLE, HOUSES, ORGANISATIONS)}
