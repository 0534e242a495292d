"""The scenario manifest: everything declarative about a scenario, validated when it loads.

A scenario module exposes ``manifest = Manifest(...)``; behaviour lives in its
hook implementations. The platform reads the manifest to check compatibility,
mount pages, declare permissions and event types, build menus, migrate the
scenario's tables and show town administrators which personal data it uses.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


class Platform(StrEnum):
    """Where the portal's home page files the scenario: the four platforms, the command centre, the grid."""

    party_building = "party_building"  # 党建统领
    economy_ecology = "economy_ecology"  # 经济生态
    safety_rule_of_law = "safety_rule_of_law"  # 平安法治
    public_services = "public_services"  # 公共服务
    command_centre = "command_centre"  # 指挥中心
    grid = "grid"  # 网格


class Kind(StrEnum):
    party_affairs = "party_affairs"  # 党务
    government_service = "government_service"  # 政务
    public_safety = "public_safety"  # 综治


class Declared(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PermissionDecl(Declared):
    """A permission the scenario defines, named ``{id}:{action}``, and the built-in roles that get it by default."""

    name: str
    zh: str
    en: str
    roles: tuple[str, ...] = ()


class EventCategory(StrEnum):
    """The classes event types are grouped by: GB/T 30428's six for city management, then the governance ones."""

    city_appearance = "city_appearance"  # 市容环境
    advertising = "advertising"  # 宣传广告
    construction = "construction"  # 施工管理
    emergency = "emergency"  # 突发事件
    street_order = "street_order"  # 街面秩序
    extended = "extended"  # 扩展事件
    dispute = "dispute"  # 矛盾纠纷
    hazard = "hazard"  # 安全隐患
    livelihood = "livelihood"  # 民生诉求
    other = "other"  # 其他


class Choice(Declared):
    """One answer of a choice field: the value stored, and what people read in each language."""

    value: str = Field(min_length=1, max_length=40)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class FormField(Declared):
    """A typed, validated field a scenario adds to a form: an event type's question or a base-table extension."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    kind: Literal["text", "number", "date", "choice"] = "text"
    required: bool = False
    #: the answers of a ``choice`` field; a plain string is its own label in both languages
    choices: tuple[Choice, ...] = ()

    @field_validator("choices", mode="before")
    @classmethod
    def _plain_choices(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple({"value": c, "zh": c, "en": c} if isinstance(c, str) else c for c in value)
        return value

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    def label(self, value: object, english: bool) -> str:
        """What people read for a stored ``value`` (itself when it is not one of the choices)."""
        found = next((c for c in self.choices if c.value == value), None)
        return (found.en if english else found.zh) if found else str(value)

    @model_validator(mode="after")
    def _choices_for_choice(self) -> FormField:
        if (self.kind == "choice") != bool(self.choices):
            raise ValueError(f"field {self.name!r}: give choices exactly when kind is 'choice'")
        return self


class EventFieldDecl(FormField):
    """A question the report form of an event type asks (also an Open311 attribute)."""


class ExtraFieldDecl(FormField):
    """An extension field on a base table, stored with the record as ``{id}.{name}`` in its ``extra``.

    Only the declaring scenario reads and writes it (``ctx.people.set_extra`` …), so
    a scenario never needs its own copy of a base table.
    """

    table: Literal["person", "house", "organisation"]


class EventTypeDecl(Declared):
    """An event type the scenario adds to the event loop, named ``{id}.{code}``.

    The deadline counts working time from dispatch: ``deadline_days`` working
    days when given, else ``deadline_hours`` working hours. ``department`` is
    the code of the town department that handles it unless a dispatch rule or
    a scenario's ``route_event`` says otherwise; ``public`` types are offered
    to residents and Open311 clients.
    """

    code: str
    zh: str
    en: str
    category: EventCategory = EventCategory.other
    deadline_hours: int = Field(72, ge=1)
    deadline_days: int | None = Field(None, ge=1)
    department: str = ""
    public: bool = False
    fields: tuple[EventFieldDecl, ...] = ()


class MenuEntry(Declared):
    """A link in the portal, relative to ``/s/{id}/``; shown only to callers holding ``permission``."""

    zh: str
    en: str
    path: str = ""
    permission: str | None = None


class FieldUse(Declared):
    """One base-table field the scenario reads or writes, and why (purpose limitation, PIPL art. 6)."""

    table: Literal["person", "house", "organisation"]
    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    access: Literal["read", "write"] = "read"
    purpose_zh: str = Field(min_length=2)
    purpose_en: str = Field(min_length=2)


class Manifest(Declared):
    """What a scenario is. ``requires`` is the range of jiceng versions it supports, e.g. ``>=0.3,<0.5``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str = Field(pattern=ID_PATTERN)
    version: str
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description_zh: str = ""
    description_en: str = ""
    platform: Platform
    kind: Kind
    requires: str
    access: str = ""
    permissions: tuple[PermissionDecl, ...] = ()
    settings: type[BaseModel] | None = None
    event_types: tuple[EventTypeDecl, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    fields: tuple[FieldUse, ...] = ()
    extra_fields: tuple[ExtraFieldDecl, ...] = ()
    templates: Path | None = None
    static: Path | None = None
    migrations: Path | None = None
    tables: tuple[type, ...] = ()

    @field_validator("version")
    @classmethod
    def _pep440(cls, value: str) -> str:
        try:
            Version(value)
        except InvalidVersion as exc:
            raise ValueError(f"not a PEP 440 version: {value!r}") from exc
        return value

    @field_validator("requires")
    @classmethod
    def _specifier(cls, value: str) -> str:
        try:
            spec = SpecifierSet(value)
        except InvalidSpecifier as exc:
            raise ValueError(f"not a version range: {value!r} (write e.g. '>=0.3,<0.5')") from exc
        if not any(s.operator in ("<", "<=", "==", "~=") for s in spec):
            raise ValueError(
                "state an upper bound too (e.g. '>=0.3,<0.5'), so a future core cannot break the scenario silently"
            )
        return value

    @model_validator(mode="after")
    def _names_are_namespaced(self) -> Manifest:
        prefix = f"{self.id}:"
        access = self.access or f"{self.id}:use"
        object.__setattr__(self, "access", access)
        for perm in self.permissions:
            if not perm.name.startswith(prefix) or not re.fullmatch(r"[a-z][a-z0-9_]*", perm.name[len(prefix) :]):
                raise ValueError(f"permission {perm.name!r} must be named '{self.id}:<action>'")
        if access not in {p.name for p in self.permissions}:
            raise ValueError(f"the access permission {access!r} must be declared in permissions")
        for event_type in self.event_types:
            if not re.fullmatch(rf"{self.id}\.[a-z][a-z0-9_]*", event_type.code):
                raise ValueError(f"event type {event_type.code!r} must be named '{self.id}.<code>'")
        for folder in (self.templates, self.static, self.migrations):
            if folder is not None and not folder.is_dir():
                raise ValueError(f"folder {folder} does not exist")
        for table in self.tables:
            name = getattr(table, "__tablename__", "")
            if not str(name).startswith(f"{self.id}_"):
                raise ValueError(f"table {name!r} must be prefixed '{self.id}_'")
        return self

    def supports(self, host_version: str) -> bool:
        return SpecifierSet(self.requires).contains(Version(host_version), prereleases=True)

    def data_uses(self) -> frozenset[str]:
        """What a town approves when it switches the scenario on: ``person.name:read``, ``house.extra.hazard_level``."""
        return frozenset(
            [f"{f.table}.{f.field}:{f.access}" for f in self.fields]
            + [f"{e.table}.extra.{e.name}" for e in self.extra_fields]
        )

    def extensions(self, table: str) -> tuple[ExtraFieldDecl, ...]:
        """The scenario's extension fields on ``table``."""
        return tuple(f for f in self.extra_fields if f.table == table)

    def declared_fields(self, table: str, access: str = "read") -> frozenset[str]:
        """Fields of ``table`` declared for ``access`` (a write declaration also allows reading)."""
        return frozenset(f.field for f in self.fields if f.table == table and (access == "read" or f.access == "write"))
