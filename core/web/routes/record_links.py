"""Links between people, houses and organisations over HTTP, reachable from either end.

(No ``from __future__ import annotations`` here: FastAPI must see the body models built in :func:`build` as
objects, as in :mod:`records`.)

``GET /api/people/{id}/houses`` lists a person's houses, ``POST`` links one (``house_id``, ``kind``, ``since``,
``until``) and ``POST /api/people/{id}/houses/{house_id}/end`` ends it (``kind``, ``until``); the same for
``/api/houses/{id}/people``, people and organisations both ways, and an organisation's house
(``/api/organisations/{id}/houses``, ``/api/houses/{id}/organisations``: no kind and no dates, it is the
organisation's own ``house_id``). The checks live in :mod:`jiceng.core.records.links`.
"""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import Field, create_model

from jiceng.core.records import links, service
from jiceng.core.records.models import Organisation
from jiceng.core.records.notify import notify
from jiceng.core.records.schemas import Input, LedgerDate
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE, TableSpec
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep


def body_models(pair: links.Pair, other: TableSpec) -> tuple[type[Input], type[Input] | None]:
    """What linking and ending take: the other record's id (named for its table), and the kind and dates if any."""
    other_id: Any = (int, Field(ge=1))
    if pair.model is None:
        return create_model(f"{other.name.title()}Link", __base__=Input, **{f"{other.name}_id": other_id}), None
    kind: Any = (pair.kinds, ...)
    dates: Any = (LedgerDate, None)
    link = create_model(
        f"{other.name.title()}Link",
        __base__=Input,
        **{f"{other.name}_id": other_id},
        kind=kind,
        since=dates,
        until=dates,
    )
    return link, create_model(f"{other.name.title()}LinkEnd", __base__=Input, kind=kind, until=dates)


def build(anchor: TableSpec, other: TableSpec) -> APIRouter:
    pair = links.pair_of(anchor, other)
    link_in, end_in = body_models(pair, other)
    router = APIRouter(prefix=f"/api/{anchor.plural}/{{record_id}}/{other.plural}", tags=[anchor.plural])

    def organisation_id(record_id: int, other_id: int) -> int:
        return record_id if anchor is ORGANISATIONS else other_id

    def house_of(session: SessionDep, org_id: int) -> int | None:
        """The organisation's house before the change (a missing organisation is the service's to report)."""
        organisation = session.get(Organisation, org_id) if pair.model is None else None
        return organisation.house_id if organisation is not None else None

    def tell(request: Request, session: SessionDep, caller: Caller, org_id: int, before: int | None) -> None:
        """An organisation's house is one of its fields: scenarios hear of it as of any other change."""
        if pair.model is not None:
            return
        organisation = service.get_record(session, ORGANISATIONS, org_id)
        if organisation.house_id != before:
            changes = {"house_id": (before, organisation.house_id)}
            notify(request.app.state.host, session, caller, ORGANISATIONS, organisation, changes, caller.via_kind)

    @router.get("")
    def list_links(record_id: int, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
        record = service.get_record(session, anchor, record_id)
        return links.links_of(session, caller, anchor, record, other)

    @router.post("", status_code=status.HTTP_201_CREATED)
    def link(
        record_id: int, body: link_in, request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep
    ) -> dict[str, Any]:  # type: ignore[valid-type]
        record = service.get_record(session, anchor, record_id)
        values = body.model_dump()  # type: ignore[attr-defined]
        other_id = values.pop(f"{other.name}_id")
        org_id = organisation_id(record_id, other_id)
        before = house_of(session, org_id)
        made = links.create(session, caller, anchor, record, other, other_id, settings=settings, **values)
        session.commit()
        tell(request, session, caller, org_id, before)
        return made

    def finish(
        record_id: int,
        other_id: int,
        request: Request,
        caller: Caller,
        session: SessionDep,
        settings: SettingsDep,
        kind: str | None = None,
        until: date | None = None,
    ) -> dict[str, Any]:
        record = service.get_record(session, anchor, record_id)
        org_id = organisation_id(record_id, other_id)
        before = house_of(session, org_id)
        ended = links.end(session, caller, anchor, record, other, other_id, kind=kind, until=until, settings=settings)
        session.commit()
        tell(request, session, caller, org_id, before)
        return ended

    if end_in is None:

        @router.post("/{other_id}/end")
        def end_premises(
            record_id: int,
            other_id: int,
            request: Request,
            caller: CallerDep,
            session: SessionDep,
            settings: SettingsDep,
        ) -> dict[str, Any]:
            return finish(record_id, other_id, request, caller, session, settings)

    else:

        @router.post("/{other_id}/end")
        def end_link(
            record_id: int,
            other_id: int,
            body: end_in,  # type: ignore[valid-type]
            request: Request,
            caller: CallerDep,
            session: SessionDep,
            settings: SettingsDep,
        ) -> dict[str, Any]:
            return finish(record_id, other_id, request, caller, session, settings, body.kind, body.until)  # type: ignore[attr-defined]

    return router


router = APIRouter()
for _anchor, _other in (
    (PEOPLE, HOUSES),
    (HOUSES, PEOPLE),
    (PEOPLE, ORGANISATIONS),
    (ORGANISATIONS, PEOPLE),
    (ORGANISATIONS, HOUSES),
    (HOUSES, ORGANISATIONS),
):
    router.include_router(build(_anchor, _other))
