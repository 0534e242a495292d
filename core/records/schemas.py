"""What clients send: one input model per table and action, validated field by field.

Codes are normalised before they are checked (full-width digits, lower-case
x, stray spaces), so a value typed on a phone or pasted from a ledger passes
when it is right. Checks that span fields (an ID number against the birth
date and gender) are made by the service, which knows the stored record.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from jiceng.core.errors import InvalidValue
from jiceng.core.records import validation
from jiceng.core.records.models import Gender, HouseUse, OrganisationKind

TAG = r"^[\u4e00-\u9fffA-Za-z0-9_]{1,20}$"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _unless_blank(parse: Any, blank: Any) -> Any:
    """A before-validator applying ``parse`` to anything but an empty value."""
    return BeforeValidator(lambda value: parse(value) if value not in (None, "") else blank)


IdNumber = Annotated[str | None, _unless_blank(lambda v: validation.parse_id_number(v).number, None)]
CreditCode = Annotated[str | None, _unless_blank(validation.parse_uscc, None)]
Phone = Annotated[str | None, _unless_blank(validation.parse_phone, "")]  # None and "" both clear it
LedgerDate = Annotated[date | None, _unless_blank(validation.parse_date, None)]


class PersonFields(Input):
    id_number: IdNumber = None
    gender: Gender | None = None
    birth_date: LedgerDate = None
    ethnicity: str = Field("", max_length=20)
    phone: Phone = ""
    hukou_address: str = Field("", max_length=200)
    current_address: str = Field("", max_length=200)
    tags: list[str] | None = Field(None, max_length=20)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str] | None) -> list[str] | None:
        if tags is None:
            return None
        for tag in tags:
            if not re.fullmatch(TAG, tag):
                raise InvalidValue("A tag is 1–20 letters or digits: {tag}", tag=tag)
        return sorted(set(tags))


class PersonIn(PersonFields):
    area_code: str = Field(min_length=12, max_length=15)
    name: str = Field(min_length=1, max_length=50)


class PersonPatch(PersonFields):
    version: int = Field(ge=1)
    area_code: str | None = Field(None, min_length=12, max_length=15)
    name: str | None = Field(None, min_length=1, max_length=50)
    ethnicity: str | None = Field(None, max_length=20)  # type: ignore[assignment]
    phone: Phone = None
    hukou_address: str | None = Field(None, max_length=200)  # type: ignore[assignment]
    current_address: str | None = Field(None, max_length=200)  # type: ignore[assignment]


class HouseFields(Input):
    building: str = Field("", max_length=20)
    unit: str = Field("", max_length=20)
    room: str = Field("", max_length=20)
    use: HouseUse = HouseUse.residential
    owner_id: int | None = None
    latitude: float | None = Field(None, ge=3, le=54)
    longitude: float | None = Field(None, ge=73, le=136)


class HouseIn(HouseFields):
    area_code: str = Field(min_length=12, max_length=15)
    address: str = Field(min_length=2, max_length=200)


class HousePatch(Input):
    version: int = Field(ge=1)
    area_code: str | None = Field(None, min_length=12, max_length=15)
    address: str | None = Field(None, min_length=2, max_length=200)
    building: str | None = Field(None, max_length=20)
    unit: str | None = Field(None, max_length=20)
    room: str | None = Field(None, max_length=20)
    use: HouseUse | None = None
    owner_id: int | None = None
    latitude: float | None = Field(None, ge=3, le=54)
    longitude: float | None = Field(None, ge=73, le=136)


class OrganisationFields(Input):
    uscc: CreditCode = None
    legal_representative: str = Field("", max_length=50)
    phone: Phone = ""
    registered_address: str = Field("", max_length=200)
    licence_state: str = Field("", max_length=20)
    house_id: int | None = None


class OrganisationIn(OrganisationFields):
    area_code: str = Field(min_length=12, max_length=15)
    name: str = Field(min_length=1, max_length=100)
    kind: OrganisationKind


class OrganisationPatch(OrganisationFields):
    version: int = Field(ge=1)
    area_code: str | None = Field(None, min_length=12, max_length=15)
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: OrganisationKind | None = None
    legal_representative: str | None = Field(None, max_length=50)  # type: ignore[assignment]
    phone: Phone = None
    registered_address: str | None = Field(None, max_length=200)  # type: ignore[assignment]
    licence_state: str | None = Field(None, max_length=20)  # type: ignore[assignment]
