"""Events over HTTP: report, list, read, take a lifecycle step, attach photos; departments and dispatch rules.

(No ``from __future__ import annotations``: FastAPI must see the body models.)

Every write is one transaction committed once at the end; the scenarios of
the event's town hear about a change (``event_changed``) only after it is
committed.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from jiceng.core.areas import get_area
from jiceng.core.config import Settings
from jiceng.core.errors import conflict, invalid_field, not_found
from jiceng.core.events import actions, dispatch, notify, queries
from jiceng.core.events.attachments import DiskStore, keep, read_checked
from jiceng.core.events.departments import town as town_area
from jiceng.core.events.intake import EventIn, existing, report
from jiceng.core.events.models import EventAttachment, State
from jiceng.core.events.types import CATEGORY_LABELS, of_town, offered
from jiceng.core.i18n import current_locale
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, caller_in_thread, client_address
from jiceng.core.web.responses import json_answer

router = APIRouter(prefix="/api", tags=["events"])


class EventPage(BaseModel):
    data: list[dict[str, Any]]
    count: int


def host_of(request: Request) -> PluginHost:
    return request.app.state.host


def store_of(request: Request) -> DiskStore:
    return request.app.state.attachments


@router.get("/towns/{town}/event-types")
def list_types(
    town: str, request: Request, session: SessionDep, settings: SettingsDep, caller: CallerDep
) -> list[dict[str, Any]]:
    """The event types of a town; residents see the public ones."""
    area = town_area(session, town)
    if not caller.grants.reaches("events:report", area.path):
        caller.require("events:report", area.path)
    zh = current_locale() != "en"
    return [
        {
            "code": t.code,
            "name": t.zh if zh else t.en,
            "category": t.category,
            "category_name": CATEGORY_LABELS[t.category][0 if zh else 1],
            "deadline_hours": t.deadline_hours,
            "deadline_days": t.deadline_days,
            "department": t.department,
            "public": t.public,
            "fields": [f.model_dump() for f in t.fields],
        }
        for t in offered(host_of(request), settings, session, caller, area).values()
    ]


@router.post("/events", status_code=status.HTTP_201_CREATED, response_model=dict[str, Any])
async def create_event(data: EventIn, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Report an event. Resending the same ``external_id`` returns the first event (200), never a second one."""
    return await run_in_threadpool(_create_event, data, request, session, settings)


def _create_event(data: EventIn, request: Request, session: Session, settings: Settings) -> Response:
    """The whole report in one trip to the thread pool, the caller included (the busiest write of the platform)."""
    caller = caller_in_thread(request, session)
    host = host_of(request)
    try:
        event, created, town = report(
            session, settings, host, caller, data, address=client_address(request), request=request
        )
        session.commit()
    except IntegrityError:  # the same external id, sent twice at once: the other request won
        session.rollback()
        event, created = existing(session, caller.username, data.external_id), False
        if event is None:
            raise
    if created:
        notify.changed(host, session, caller, event, notify.reported(event), town)
    shown = queries.present(event, caller, queries.department_names(session, {event.department_id} - {None}))
    return json_answer(shown, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.get("/events")
def list_events(
    session: SessionDep,
    caller: CallerDep,
    state: Annotated[list[State], Query()] = [],  # noqa: B006 (FastAPI reads the default, never mutates it)
    type: str | None = None,
    department: str | None = None,
    town: str | None = None,
    under: str | None = None,
    overdue: bool = False,
    mine: Annotated[str | None, Query(pattern="^(reported|assigned)$")] = None,
    q: Annotated[str | None, Query(max_length=120)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EventPage:
    """Events the caller may see, newest first; ``count`` stops at 10,001 ("more than 10,000")."""
    department_id = None
    if department is not None:
        if town is None:
            raise invalid_field("town", "Give the town when filtering by department.")
        department_id = dispatch.department(session, town, department).id
    conditions = queries.filters(
        session,
        caller,
        state=state,
        type_code=type,
        department=department_id,
        under=get_area(session, under) if under else (get_area(session, town) if town else None),
        overdue=overdue,
        mine=mine,
        q=q,
    )
    rows, count = queries.page(session, conditions, offset=offset, limit=limit)
    names = queries.department_names(session, {r.department_id for r in rows if r.department_id})
    return EventPage(data=[queries.present(r, caller, names) for r in rows], count=count)


@router.get("/events/{event_id}")
def read_event(event_id: int, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """One event with its timeline and the steps the caller may take now."""
    event = queries.get_event(session, caller, event_id)
    shown = queries.present(event, caller, queries.department_names(session, {event.department_id} - {None}))
    shown["timeline"] = [a.model_dump(exclude={"event_id"}) for a in queries.timeline(session, event_id)]
    shown["allowed"] = actions.allowed_for(session, caller, event)
    shown["attachments"] = [
        a.model_dump(exclude={"key", "event_id"})
        for a in session.exec(select(EventAttachment).where(col(EventAttachment.event_id) == event_id)).all()
    ]
    return shown


@router.post("/events/{event_id}/actions/{action}")
def take_step(
    event_id: int,
    action: str,
    data: actions.ActionIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
) -> dict[str, Any]:
    """Take one lifecycle step; 409 with the allowed steps when the event's state does not allow it."""
    event = queries.get_event(session, caller, event_id)
    host = host_of(request)
    change = actions.act(
        session,
        settings,
        caller,
        event,
        action,
        data,
        event_type(session, host, settings, event.town_code, event.type_code),
        address=client_address(request),
    )
    session.commit()
    notify.changed(host, session, caller, event, change)
    return queries.present(event, caller, queries.department_names(session, {event.department_id} - {None}))


def event_type(session: Session, host: PluginHost, settings: Any, town_code: str, code: str) -> Any:
    """The event's type as declared now (``None`` when its scenario was switched off since)."""
    return of_town(host, settings, session, get_area(session, town_code)).get(code)


@router.post("/events/{event_id}/attachments", status_code=status.HTTP_201_CREATED)
def attach(
    event_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Attach a photo or PDF (type checked from its content, size from config) to an open event one may see."""
    event = queries.get_event(session, caller, event_id)
    if event.state not in (*queries.OPEN_STATES,):
        raise conflict("Files can be attached only while the event is open.")
    data, kind = read_checked(file.file, settings.events.attachments)
    row = keep(
        session,
        store_of(request),
        event_id=event_id,
        filename=file.filename or "file",
        data=data,
        kind=kind,
        actor=caller.username,
        address=client_address(request),
    )
    session.commit()
    return row.model_dump(exclude={"key", "event_id"})


@router.get("/events/{event_id}/attachments/{attachment_id}")
def download(event_id: int, attachment_id: int, request: Request, session: SessionDep, caller: CallerDep) -> Response:
    queries.get_event(session, caller, event_id)
    row = session.get(EventAttachment, attachment_id)
    if row is None or row.event_id != event_id:
        raise not_found("No attachment {id}.", id=attachment_id)
    return Response(
        store_of(request).get(row.key),
        media_type=row.content_type,
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename)}"},
    )
