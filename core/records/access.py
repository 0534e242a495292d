"""The three tables as a scenario reaches them: only declared fields, only the caller's areas.

This is where purpose limitation is enforced: a scenario names the fields it
wants, and any field its manifest did not declare (for reading, or for
writing) is refused with an error naming the field and the scenario. Values
are masked unless the caller may see them, whatever the scenario declared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlmodel import col

from jiceng.core.areas import within
from jiceng.core.config import Settings
from jiceng.core.errors import bad_request, describe_pydantic, unauthorized
from jiceng.core.records import extra as extras
from jiceng.core.records import service
from jiceng.core.records.schemas import HousePatch, OrganisationPatch, PersonPatch
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TableSpec
from jiceng.core.web.context import Caller

if TYPE_CHECKING:
    from jiceng.core.scenario_context import ScenarioContext

PATCHES = {PEOPLE.name: PersonPatch, HOUSES.name: HousePatch, ORGANISATIONS.name: OrganisationPatch}


class ScenarioRecords:
    """One base table, seen by one scenario for one caller in one town."""

    def __init__(self, spec: TableSpec, ctx: ScenarioContext, settings: Settings) -> None:
        self.spec = spec
        self.ctx = ctx
        self.settings = settings

    def _shape(self, record: Any, fields: list[str]) -> dict[str, Any]:
        reveal = self.ctx._caller is not None and self.ctx._caller.grants.allows("pii:view", record.area_path)
        shown = service.present(self.spec, record, reveal=reveal)
        out = {"id": record.id, "version": record.version, **{f: shown[f] for f in fields}}
        if self.ctx.manifest.extensions(self.spec.name):
            out["extra"] = extras.own_values(self.ctx.manifest, self.spec, record)
        return out

    def get(self, record_id: int, *, fields: list[str]) -> dict[str, Any]:
        """The record's declared ``fields``; 403 outside the caller's areas."""
        self.ctx.check_fields(self.spec.name, fields)
        record = service.get_record(self.ctx._session, self.spec, record_id)
        self._caller().require("records:view", record.area_path)
        return self._shape(record, fields)

    def search(
        self, *, fields: list[str], q: str | None = None, extra: dict[str, object] | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Records of the current town the caller may see (searching: the wider search scope).

        ``extra`` filters on the scenario's own extension fields, by equality (``{"hazard_level": "high"}``).
        """
        self.ctx.check_fields(self.spec.name, fields)
        caller = self._caller()
        perm = "records:search" if q else "records:view"
        query = service.visible(self.spec, caller.grants, perm)
        if self.ctx.town is not None:
            query = query.where(within(col(self.spec.model.area_path), [self.ctx.town.path]))  # type: ignore[attr-defined]
        if q:
            query = query.where(service.search_condition(self.spec, q))
        if extra:
            query = query.where(extras.condition(self.ctx.manifest, self.spec, extra))
        rows = self.ctx._session.exec(query.order_by(col(self.spec.model.id)).limit(min(limit, 200))).all()  # type: ignore[attr-defined]
        return [self._shape(r, fields) for r in rows]

    def update(self, record_id: int, values: dict[str, Any], *, version: int) -> service.Outcome:
        """Change declared fields, recorded with this scenario as the source; the caller commits."""
        self.ctx.check_fields(self.spec.name, list(values), "write")
        record = service.get_record(self.ctx._session, self.spec, record_id)
        self._caller().require("records:edit", record.area_path)
        try:
            patch = PATCHES[self.spec.name](**values, version=version)
        except ValidationError as exc:
            raise bad_request("Some fields are not valid.", fields=describe_pydantic(exc.errors())) from exc
        source = service.Source("scenario", self._caller().username, self.ctx.scenario_id)
        return service.update(self.ctx._session, self.spec, record, patch, source=source, settings=self.settings)

    def set_extra(self, record_id: int, values: dict[str, object], *, version: int) -> list[str]:
        """Set the scenario's own extension fields (a blank clears one); the caller commits. Returns the names changed."""
        record = service.get_record(self.ctx._session, self.spec, record_id)
        caller = self._caller()
        caller.require("records:edit", record.area_path)
        source = service.Source("scenario", caller.username, self.ctx.scenario_id)
        return extras.set_values(
            self.ctx._session, self.ctx.manifest, self.spec, record, values, version=version, source=source
        )

    def _caller(self) -> Caller:
        if self.ctx._caller is None:
            raise unauthorized()
        return self.ctx._caller
