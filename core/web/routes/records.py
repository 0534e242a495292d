"""The three tables over HTTP: one router per table, built from its :class:`TableSpec`.

(No ``from __future__ import annotations`` here: FastAPI must see the body models of the
routers built in :func:`build` as objects, not as names it cannot resolve.)

Lists are scoped by one SQL filter from the caller's grants (``records:view``,
or the wider ``records:search`` when searching) and always masked; one
record can be read unmasked by a caller holding ``pii:view`` there who gives
a reason, and that read is written to the audit log.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import and_
from sqlmodel import col, select

from jiceng.core import audit
from jiceng.core.areas import get_area, within
from jiceng.core.errors import FieldError, bad_request
from jiceng.core.i18n import both
from jiceng.core.records import export, quality, service
from jiceng.core.records.models import FieldConflict, HouseUse, OrganisationKind, Person, PersonTag
from jiceng.core.records.notify import notify
from jiceng.core.records.schemas import HouseIn, HousePatch, OrganisationIn, OrganisationPatch, PersonIn, PersonPatch
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TABLES, TableSpec
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, client_address

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Page(BaseModel):
    data: list[dict[str, Any]]
    count: int


class ListFilters(BaseModel):
    """Filters for list endpoints; each table accepts the ones that make sense for it."""

    grid: str | None = None
    under: str | None = None
    q: str | None = None
    tag: list[str] = []
    age_min: int | None = None
    age_max: int | None = None
    kind: OrganisationKind | None = None
    use: HouseUse | None = None


ONLY_FOR = {"tag": PEOPLE, "age_min": PEOPLE, "age_max": PEOPLE, "kind": ORGANISATIONS, "use": HOUSES}


def years_ago(years: int) -> date:
    today = date.today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def filtered(spec: TableSpec, caller: Caller, session: SessionDep, f: ListFilters) -> Any:
    wrong = [name for name, table in ONLY_FOR.items() if table is not spec and getattr(f, name) not in (None, [])]
    if wrong:
        raise bad_request(
            "These filters do not apply to {table}: {names}.",
            fields=[FieldError(n, *both("Not a filter of this list.")) for n in wrong],
            table=spec.plural,
            names=", ".join(wrong),
        )
    perm = "records:search" if f.q else "records:view"
    caller.require(perm)
    model = spec.model
    query = service.visible(spec, caller.grants, perm, under=get_area(session, f.under).path if f.under else None)
    if f.grid:
        query = query.where(col(model.area_code) == f.grid)  # type: ignore[attr-defined]
    if f.q:
        query = query.where(service.search_condition(spec, f.q))
    for tag in f.tag:
        query = query.where(col(Person.id).in_(select(PersonTag.person_id).where(PersonTag.tag == tag)))
    if f.age_min is not None:
        query = query.where(col(Person.birth_date) <= years_ago(f.age_min))
    if f.age_max is not None:
        query = query.where(col(Person.birth_date) > years_ago(f.age_max + 1))
    if f.kind is not None:
        query = query.where(col(model.kind) == f.kind)  # type: ignore[attr-defined]
    if f.use is not None:
        query = query.where(col(model.use) == f.use)  # type: ignore[attr-defined]
    return query


def build(spec: TableSpec, create_model: type[BaseModel], patch_model: type[BaseModel]) -> APIRouter:
    router = APIRouter(prefix=f"/api/{spec.plural}", tags=[spec.plural])
    model = spec.model

    @router.get("", response_model=Page)
    def list_records(
        caller: CallerDep,
        session: SessionDep,
        filters: Annotated[ListFilters, Query()],
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Response:
        query = filtered(spec, caller, session, filters)
        rows = service.page(session, spec, query, offset=offset, limit=limit)
        total = service.page_total(session, query, offset=offset, limit=limit, rows=len(rows))
        tags = service.tags_of(session, [r.id for r in rows]) if spec is PEOPLE else {}
        page = Page(data=[service.present(spec, r, reveal=False, tags=tags.get(r.id)) for r in rows], count=total)
        # Serialised here, by the model FastAPI would use (``response_model``, which the API docs show): handed the
        # model, FastAPI validates it again and serialises it in another trip through the thread pool, which costs
        # more than the page's queries.
        return Response(page.model_dump_json(), media_type="application/json")

    @router.get("/export")
    def export_records(
        request: Request,
        caller: CallerDep,
        session: SessionDep,
        filters: Annotated[ListFilters, Query()],
        format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    ) -> Response:
        """数据回家: the caller's records as CSV or XLSX, masked where the caller lacks ``pii:view``; audited."""
        caller.require("records:export")
        query = filtered(spec, caller, session, filters).where(
            caller.grants.filter("records:export", col(model.area_path))
        )  # type: ignore[attr-defined]
        total = service.count(session, query)
        detail = {
            "table": spec.name,
            "format": format,
            "rows": total,
            "filters": filters.model_dump(exclude_defaults=True, mode="json"),
        }
        audit.record(
            session,
            actor=caller.username,
            action="records.export",
            target_type=spec.name,
            address=client_address(request),
            detail=detail,
        )
        session.commit()
        cells = export.rows(session, spec, query, caller.grants)
        name = f"{spec.plural}-{date.today():%Y%m%d}.{format}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if format == "xlsx":
            return Response(export.xlsx_bytes(spec, cells), media_type=XLSX, headers=headers)
        return StreamingResponse(export.csv_stream(spec, cells), media_type="text/csv; charset=utf-8", headers=headers)

    @router.get("/{record_id}")
    def read(
        record_id: int,
        request: Request,
        caller: CallerDep,
        session: SessionDep,
        reveal: bool = False,
        reason: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        record = service.get_record(session, spec, record_id)
        caller.require("records:view", record.area_path)
        if reveal:
            caller.require("pii:view", record.area_path)
            if not reason or not reason.strip():
                raise bad_request(
                    "Say why you need the full numbers.",
                    fields=[FieldError("reason", *both("This field is required."))],
                )
            audit.record(
                session,
                actor=caller.username,
                action="pii.view",
                target_type=spec.name,
                target_id=str(record_id),
                address=client_address(request),
                detail={"reason": reason.strip()},
            )
            session.commit()
        tags = service.tags_of(session, [record_id]).get(record_id) if spec is PEOPLE else None
        return service.present(spec, record, reveal=reveal, tags=tags)

    @router.post("", status_code=status.HTTP_201_CREATED)
    def create(body: create_model, request: Request, caller: CallerDep, session: SessionDep) -> dict[str, Any]:  # type: ignore[valid-type]
        caller.require("records:edit", get_area(session, body.area_code).path)  # type: ignore[attr-defined]
        record = service.create(session, spec, body, source=service.Source(caller.via_kind, caller.username))
        session.commit()
        given = {
            name: (None, getattr(record, name))
            for name in spec.fields
            if service.text(getattr(record, name)) is not None
        }
        notify(request.app.state.host, session, caller, spec, record, given, caller.via_kind)
        tags = service.tags_of(session, [record.id]).get(record.id) if spec is PEOPLE else None
        return service.present(spec, record, reveal=False, tags=tags)

    @router.patch("/{record_id}")
    def change(
        record_id: int,
        body: patch_model,
        request: Request,
        caller: CallerDep,
        session: SessionDep,
        settings: SettingsDep,
    ) -> dict[str, Any]:  # type: ignore[valid-type]
        record = service.get_record(session, spec, record_id)
        caller.require("records:edit", record.area_path)
        moving_to = getattr(body, "area_code", None)
        if moving_to:
            caller.require("records:edit", get_area(session, moving_to).path)
        outcome = service.update(
            session, spec, record, body, source=service.Source(caller.via_kind, caller.username), settings=settings
        )
        session.commit()
        record = service.get_record(session, spec, record_id)
        notify(request.app.state.host, session, caller, spec, record, outcome.values, caller.via_kind)
        tags = service.tags_of(session, [record_id]).get(record_id) if spec is PEOPLE else None
        return {
            "record": service.present(spec, record, reveal=False, tags=tags),
            "changed": outcome.changed,
            "conflicts": outcome.conflicts,
        }

    @router.delete("/{record_id}", status_code=status.HTTP_204_NO_CONTENT)
    def remove(
        record_id: int, version: Annotated[int, Query(ge=1)], request: Request, caller: CallerDep, session: SessionDep
    ) -> Response:
        record = service.get_record(session, spec, record_id)
        caller.require("records:edit", record.area_path)
        service.remove(session, spec, record, version=version, source=service.Source(caller.via_kind, caller.username))
        audit.record(
            session,
            actor=caller.username,
            action=f"{spec.name}.delete",
            target_type=spec.name,
            target_id=str(record_id),
            address=client_address(request),
        )
        session.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/{record_id}/history")
    def record_history(record_id: int, caller: CallerDep, session: SessionDep) -> list[dict[str, Any]]:
        record = service.get_record(session, spec, record_id)
        caller.require("records:view", record.area_path)
        return service.history(session, spec, record_id, reveal=False)

    return router


quality_router = APIRouter(prefix="/api/quality", tags=["quality"])


@quality_router.get("")
def quality_report(
    caller: CallerDep,
    session: SessionDep,
    area: Annotated[str | None, Query(max_length=15)] = None,
    stale_days: Annotated[int, Query(ge=1, le=3650)] = 365,
) -> dict[str, Any]:
    """Completeness per field, records not updated for ``stale_days``, open conflicts, suspected duplicates."""
    caller.require("records:view")
    inside = get_area(session, area) if area else None
    if inside is not None:
        caller.require("records:view", inside.path)

    def scope(path_column: Any) -> Any:
        allowed = caller.grants.filter("records:view", path_column)
        return and_(allowed, within(path_column, [inside.path])) if inside is not None else allowed

    scopes = {name: scope(col(spec.model.area_path)) for name, spec in TABLES.items()}  # type: ignore[attr-defined]
    return quality.report(session, scopes, scope(col(FieldConflict.area_path)), stale_days=stale_days)


routers = [
    build(PEOPLE, PersonIn, PersonPatch),
    build(HOUSES, HouseIn, HousePatch),
    build(ORGANISATIONS, OrganisationIn, OrganisationPatch),
    quality_router,
]
