"""What a scenario gets from the core: the caller, the town, its settings, and guarded services.

Vendors reach all of this through ``jiceng.sdk``. A scenario never gets a raw
database session: :class:`ScenarioStore` reaches only the scenario's own
tables, and base-table fields pass the purpose-limitation gate of its
manifest first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel, within
from jiceng.core.config import Settings
from jiceng.core.errors import AppError, forbidden
from jiceng.core.events.access import ScenarioEvents
from jiceng.core.i18n import N_, current_locale
from jiceng.core.records.access import ScenarioRecords
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE
from jiceng.core.web.context import Caller
from jiceng.core.web.templating import render
from jiceng.plugins.manifest import Manifest
from jiceng.plugins.registrations import Bindable

T = TypeVar("T")


class UndeclaredField(AppError):
    """A scenario asked for a base-table field its manifest does not declare."""

    def __init__(self, scenario_id: str, table: str, field: str, access: str) -> None:
        super().__init__(
            403,
            "undeclared_field",
            N_("Scenario {scenario} did not declare the field {table}.{field} for {access} in its manifest."),
            {"scenario": scenario_id, "table": table, "field": field, "access": access},
        )


class UnapprovedField(AppError):
    """The scenario declared a field after the town approved its data use: the town must approve again."""

    def __init__(self, scenario_id: str, table: str, field: str) -> None:
        super().__init__(
            403,
            "unapproved_field",
            N_(
                "Scenario {scenario} now uses {table}.{field}, which this town has not approved; "
                "a town administrator must review and approve its data use on the scenarios page."
            ),
            {"scenario": scenario_id, "table": table, "field": field},
        )


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str


@dataclass(frozen=True)
class AreaInfo:
    code: str
    name: str
    level: str
    path: str


class ScenarioStore:
    """Reads and writes the scenario's own tables (those listed in ``manifest.tables``), nothing else."""

    def __init__(self, manifest: Manifest, session: Session) -> None:
        self._manifest = manifest
        self._session = session

    def _check(self, model: type) -> None:
        if model not in self._manifest.tables:
            raise forbidden(
                "Scenario {scenario} may not use the table {table}.",
                scenario=self._manifest.id,
                table=getattr(model, "__tablename__", model.__name__),
            )

    def get(self, model: type[T], key: Any) -> T | None:
        self._check(model)
        return self._session.get(model, key)

    def select(self, model: type[T], *where: Any, order_by: Any = None, limit: int | None = None) -> list[T]:
        self._check(model)
        query = select(model).where(*where)
        if order_by is not None:
            query = query.order_by(order_by)
        if limit is not None:
            query = query.limit(limit)
        return list(self._session.exec(query).all())

    def add(self, row: Any) -> None:
        self._check(type(row))
        self._session.add(row)

    def delete(self, row: Any) -> None:
        self._check(type(row))
        self._session.delete(row)

    def commit(self) -> None:
        """Commit the request's transaction: the scenario's rows and any audit written with them."""
        self._session.commit()


@dataclass
class TownContext(Bindable):
    """The caller in a town: what every hook call and scenario route starts from."""

    town: AreaInfo | None
    _caller: Caller | None  # not for scenarios: use user, can() and require()
    _session: Session  # not for scenarios: use store, people, houses, organisations and commit()
    request: Request | None = None
    binder: Callable[[str, TownContext], ScenarioContext | None] | None = field(default=None, repr=False)
    _bound: dict[str, TownContext] = field(default_factory=dict, repr=False, compare=False)

    @property
    def user(self) -> UserInfo | None:
        return UserInfo(self._caller.user.username, self._caller.user.display_name) if self._caller else None

    def commit(self) -> None:
        """Commit what this request changed through the context (records, the scenario's own rows)."""
        self._session.commit()

    def t(self, zh: str, en: str) -> str:
        """The text for the caller's language: scenarios carry their own Chinese and English."""
        return en if current_locale() == "en" else zh

    def can(self, permission: str) -> bool:
        """True when the caller holds ``permission`` anywhere at, above or inside the current town."""
        if self._caller is None or self.town is None:
            return False
        return self._caller.grants.reaches(permission, self.town.path)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise forbidden("You do not have the permission {perm} here.", perm=permission)

    def areas(self, level: AreaLevel | None = None) -> list[AreaInfo]:
        """Areas of the current town the caller may read, in code order."""
        if self._caller is None or self.town is None:
            return []
        query = select(Area).where(
            within(col(Area.path), [self.town.path]), self._caller.grants.filter("areas:read", col(Area.path))
        )
        if level is not None:
            query = query.where(col(Area.level) == level)
        return [
            AreaInfo(a.code, a.name, a.level, a.path) for a in self._session.exec(query.order_by(col(Area.code))).all()
        ]

    def bind_scenario(self, scenario_id: str) -> TownContext:
        """The context one scenario's hook receives: narrowed to that scenario (the core's defaults keep this one)."""
        found = self._bound.get(scenario_id)
        if found is None:
            bound = self.binder(scenario_id, self) if self.binder else None
            found = self._bound[scenario_id] = bound if bound is not None else self
        return found


@dataclass
class ScenarioContext(TownContext):
    """Handed to a scenario's routes and hooks; limited to this scenario, its settings in this town, and the caller."""

    manifest: Manifest = field(kw_only=True)
    settings: BaseModel | None = field(default=None, kw_only=True)
    platform: Settings = field(default_factory=Settings, kw_only=True, repr=False)
    #: the data use the town approved (``None``: approved as declared, through config)
    approved: frozenset[str] | None = field(default=None, kw_only=True, repr=False)
    _host: Any = field(default=None, kw_only=True, repr=False)  # the plugin host, for the event loop

    @property
    def scenario_id(self) -> str:
        return self.manifest.id

    @property
    def people(self) -> ScenarioRecords:
        """People of the caller's areas, limited to the fields the manifest declares."""
        return ScenarioRecords(PEOPLE, self, self.platform)

    @property
    def houses(self) -> ScenarioRecords:
        return ScenarioRecords(HOUSES, self, self.platform)

    @property
    def organisations(self) -> ScenarioRecords:
        return ScenarioRecords(ORGANISATIONS, self, self.platform)

    @property
    def events(self) -> ScenarioEvents:
        """Events of the scenario's own types, in the caller's areas: report, list, get."""
        return ScenarioEvents(self, self.platform, self._host)

    @property
    def store(self) -> ScenarioStore:
        return ScenarioStore(self.manifest, self._session)

    def check_fields(self, table: str, fields: Iterable[str], access: str = "read") -> None:
        """Purpose limitation: every field must be declared in the manifest for ``access``."""
        declared = self.manifest.declared_fields(table, access)
        for name in fields:
            if name not in declared:
                raise UndeclaredField(self.manifest.id, table, name, access)
            if self.approved is not None and not {f"{table}.{name}:write", f"{table}.{name}:{access}"} & self.approved:
                raise UnapprovedField(self.manifest.id, table, name)

    def render(self, template: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
        """Render ``{id}/…`` from the scenario's templates inside the portal layout."""
        if not template.startswith(f"{self.manifest.id}/"):
            raise forbidden("Scenario {scenario} may only render its own templates.", scenario=self.manifest.id)
        if self.request is None:
            raise RuntimeError("render() is for page routes")
        self.request.state.caller = self._caller
        return render(self.request, template, {"ctx": self, **(context or {})}, status_code=status_code)
