"""The three base tables (人口 / 房屋 / 单位), their links, and the history of every change.

Every record sits in an area (normally a grid) and carries that area's
materialised path, so the permission filter is a range scan on the record's
own indexed column, with no join to the area table. Records are soft-deleted
and carry a ``version`` for optimistic locking: an update names the version it
read, and a stale one answers 409 instead of overwriting a colleague's edit.
Scenario extension fields live in ``extra``, namespaced ``{scenario}.{field}``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from jiceng.core.db import utcnow


class Gender(StrEnum):
    male = "male"
    female = "female"


class HouseUse(StrEnum):
    residential = "residential"
    commercial = "commercial"
    rental = "rental"
    vacant = "vacant"


class OrganisationKind(StrEnum):
    enterprise = "enterprise"
    individual_business = "individual_business"  # 个体工商户
    social_organisation = "social_organisation"
    public_institution = "public_institution"
    government = "government"


class Residence(StrEnum):
    owner = "owner"
    tenant = "tenant"
    resident = "resident"


class Affiliation(StrEnum):
    employee = "employee"
    party_member = "party_member"


class RecordColumns(SQLModel):
    """What every base-table record has: place, version, soft delete, extension fields."""

    area_code: str = Field(foreign_key="area.code", max_length=15)
    area_path: str = Field(max_length=96)  # indexed with deleted_at per table: a scope count reads the index only
    version: int = 1
    extra: dict = Field(default_factory=dict, sa_type=JSON, nullable=False)  # type: ignore[type-arg]
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class Person(RecordColumns, table=True):
    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_name", "name"),
        Index("ix_person_id_tail", "id_tail"),
        Index("ix_person_area_path_deleted_at", "area_path", "deleted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    id_number: str | None = Field(default=None, max_length=18, unique=True)
    id_tail: str = Field(default="", max_length=4)  # last four characters, for "search by the end of the ID number"
    name: str = Field(max_length=50)
    gender: Gender | None = Field(default=None, sa_type=String(8))
    birth_date: date | None = None
    ethnicity: str = Field(default="", max_length=20)
    phone: str = Field(default="", max_length=24)
    hukou_address: str = Field(default="", max_length=200)
    current_address: str = Field(default="", max_length=200)


class PersonTag(SQLModel, table=True):
    """Tags such as 党员, 低保, 高龄, 残疾, 重点人员: one row each, so filtering by tag uses an index."""

    __tablename__ = "person_tag"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    tag: str = Field(max_length=20, primary_key=True, index=True)


class House(RecordColumns, table=True):
    __tablename__ = "house"
    __table_args__ = (
        Index("ix_house_address", "address"),
        Index("ix_house_area_path_deleted_at", "area_path", "deleted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=200)
    building: str = Field(default="", max_length=20)
    unit: str = Field(default="", max_length=20)
    room: str = Field(default="", max_length=20)
    use: HouseUse = Field(default=HouseUse.residential, sa_type=String(16))
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    latitude: float | None = None
    longitude: float | None = None


class Organisation(RecordColumns, table=True):
    __tablename__ = "organisation"
    __table_args__ = (
        Index("ix_organisation_name", "name"),
        Index("ix_organisation_area_path_deleted_at", "area_path", "deleted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uscc: str | None = Field(default=None, max_length=18, unique=True)
    name: str = Field(max_length=100)
    kind: OrganisationKind = Field(sa_type=String(24))
    legal_representative: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=24)
    registered_address: str = Field(default="", max_length=200)
    licence_state: str = Field(default="", max_length=20)
    house_id: int | None = Field(default=None, foreign_key="house.id")


class PersonHouse(SQLModel, table=True):
    """Who lives in or owns which house, and since when."""

    __tablename__ = "person_house"
    __table_args__ = (UniqueConstraint("person_id", "house_id", "relation"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    house_id: int = Field(foreign_key="house.id", index=True)
    relation: Residence = Field(sa_type=String(12))
    since: date | None = None
    until: date | None = None


class PersonOrganisation(SQLModel, table=True):
    """Who works for which organisation, or belongs to its party branch."""

    __tablename__ = "person_organisation"
    __table_args__ = (UniqueConstraint("person_id", "organisation_id", "relation"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    relation: Affiliation = Field(sa_type=String(16))
    since: date | None = None
    until: date | None = None


class FieldChange(SQLModel, table=True):
    """Provenance: one field of one record changed, by whom, from which source."""

    __tablename__ = "field_change"
    __table_args__ = (Index("ix_field_change_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=16)
    record_id: int
    field: str = Field(max_length=64)
    old: str | None = Field(default=None, max_length=400)
    new: str | None = Field(default=None, max_length=400)
    source: str = Field(max_length=16)  # portal, api, import, scenario, visit
    source_ref: str = Field(default="", max_length=200)  # file and row, client name, scenario id, task id
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class FieldConflict(SQLModel, table=True):
    """A value from a lower-authority source that disagrees with the record: kept for review, not applied."""

    __tablename__ = "field_conflict"
    __table_args__ = (Index("ix_field_conflict_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=16)
    record_id: int
    area_path: str = Field(max_length=96, index=True)
    field: str = Field(max_length=64)
    current: str | None = Field(default=None, max_length=400)
    proposed: str | None = Field(default=None, max_length=400)
    source: str = Field(max_length=16)
    source_ref: str = Field(default="", max_length=200)
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
    resolution: str = Field(default="", max_length=16)
