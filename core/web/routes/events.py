"""Events over HTTP: report, list, read, take a lifecycle step, attach photos; departments and dispatch rules.

(No ``from __future__ import annotations``: FastAPI must see the body models.)

Every write is one transaction committed once at the end; the scenarios of
the event's town hear about a change (``event_changed``) only after it is
committed.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from jiceng.core import audit
from jiceng.core.areas import Area, AreaLevel, get_area
from jiceng.core.errors import conflict, invalid_field, not_found
from jiceng.core.events import actions, dispatch, notify, queries
from jiceng.core.events.attachments import DiskStore, new_key, read_checked
from jiceng.core.events.intake import EventIn, existing, report
from jiceng.core.events.models import Department, DepartmentMember, DispatchRule, EventAttachment, State
from jiceng.core.events.types import CATEGORY_LABELS, town_types
from jiceng.core.i18n import current_locale
from jiceng.core.plugin_host import PluginHost
from jiceng.core.users import get_user
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, client_address

router = APIRouter(prefix="/api", tags=["events"])


class EventPage(BaseModel):
    data: list[dict[str, Any]]
    count: int


def host_of(request: Request) -> PluginHost:
    return request.app.state.host


def store_of(request: Request) -> DiskStore:
    return request.app.state.attachments


def town_area(session: Session, code: str) -> Area:
    town = get_area(session, code)
    if town.level != AreaLevel.town:
        raise invalid_field("town", "{area} is not a town.", area=code)
    return town


@router.get("/towns/{town}/event-types")
def list_types(
    town: str, request: Request, session: SessionDep, settings: SettingsDep, caller: CallerDep
) -> list[dict[str, Any]]:
    """The event types of a town; residents see the public ones."""
    area = town_area(session, town)
    if not caller.grants.reaches("events:report", area.path):
        caller.require("events:report", area.path)
    host = host_of(request)
    _, state = host.town_context(town=area, caller=caller, session=session)
    staff = caller.grants.reaches("events:view", area.path)
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
        for t in town_types(host.manifests(), state.enabled, settings, area.code).values()
        if staff or t.public
    ]


@router.post("/events", status_code=status.HTTP_201_CREATED)
def create_event(
    data: EventIn, request: Request, response: Response, session: SessionDep, settings: SettingsDep, caller: CallerDep
) -> dict[str, Any]:
    """Report an event. Resending the same ``external_id`` returns the first event (200), never a second one."""
    host = host_of(request)
    try:
        event, created = report(session, settings, host, caller, data, address=client_address(request), request=request)
        session.commit()
    except IntegrityError:  # the same external id, sent twice at once: the other request won
        session.rollback()
        event, created = existing(session, caller.username, data.external_id), False
        if event is None:
            raise
    if not created:
        response.status_code = status.HTTP_200_OK
    else:
        notify.changed(host, session, caller, event, notify.reported(event))
    return queries.present(event, caller, queries.department_names(session, {event.department_id} - {None}))


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
    town = get_area(session, town_code)
    host.enablement.refresh(session)
    state = host.enablement.for_town(town.path)
    return town_types(host.manifests(), state.enabled, settings, town_code).get(code)


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
    key = new_key()
    store_of(request).put(key, data)
    row = EventAttachment(
        event_id=event_id,
        key=key,
        filename=(file.filename or "file")[-200:],
        content_type=kind,
        size=len(data),
        uploaded_by=caller.username,
    )
    session.add(row)
    audit.record(
        session,
        actor=caller.username,
        action="event.attach",
        target_type="event",
        target_id=str(event_id),
        address=client_address(request),
        detail={"file": row.filename, "size": row.size},
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


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    name: str = Field(min_length=1, max_length=100)


@router.get("/towns/{town}/departments")
def list_departments(town: str, session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    area = town_area(session, town)
    if not caller.grants.reaches("events:view", area.path):
        caller.require("events:view", area.path)
    rows = session.exec(
        select(Department).where(col(Department.town_code) == town).order_by(col(Department.code))
    ).all()
    members = session.exec(
        select(DepartmentMember).where(col(DepartmentMember.department_id).in_([d.id for d in rows]))
    ).all()
    return [
        {
            "id": d.id,
            "code": d.code,
            "name": d.name,
            "members": sorted(m.username for m in members if m.department_id == d.id),
        }
        for d in rows
    ]


@router.post("/towns/{town}/departments", status_code=status.HTTP_201_CREATED)
def create_department(
    town: str, data: DepartmentIn, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    area = town_area(session, town)
    caller.require("events:manage", area.path)
    if session.exec(
        select(Department).where(col(Department.town_code) == town, col(Department.code) == data.code)
    ).first():
        raise invalid_field("code", "The town already has a department {department}.", department=data.code)
    department = Department(town_code=town, code=data.code, name=data.name)
    session.add(department)
    audit.record(
        session,
        actor=caller.username,
        action="department.create",
        target_type="department",
        target_id=data.code,
        address=client_address(request),
        detail={"town": town},
    )
    session.commit()
    return {"id": department.id, "code": department.code, "name": department.name, "members": []}


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)


def managed_department(session: Session, caller: Caller, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise not_found("No department {id}.", id=department_id)
    caller.require("events:manage", get_area(session, department.town_code).path)
    return department


@router.post("/departments/{department_id}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    department_id: int, data: MemberIn, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, str]:
    department = managed_department(session, caller, department_id)
    user = get_user(session, data.username)
    if session.get(DepartmentMember, (department_id, user.username)) is None:
        session.add(DepartmentMember(department_id=department_id, username=user.username))
        audit.record(
            session,
            actor=caller.username,
            action="department.add_member",
            target_type="department",
            target_id=department.code,
            address=client_address(request),
            detail={"town": department.town_code, "user": user.username},
        )
        session.commit()
    return {"department": department.code, "username": user.username}


@router.delete("/departments/{department_id}/members/{username}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(department_id: int, username: str, request: Request, session: SessionDep, caller: CallerDep) -> None:
    department = managed_department(session, caller, department_id)
    member = session.get(DepartmentMember, (department_id, username))
    if member is None:
        raise not_found("{user} is not a member of {department}.", user=username, department=department.code)
    session.delete(member)
    audit.record(
        session,
        actor=caller.username,
        action="department.remove_member",
        target_type="department",
        target_id=department.code,
        address=client_address(request),
        detail={"town": department.town_code, "user": username},
    )
    session.commit()


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: str = Field(min_length=1, max_length=15)
    type: str = Field("*", min_length=1, max_length=64)
    department: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")


@router.get("/dispatch-rules")
def list_rules(session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    """The database's rules in the caller's areas (config rules are shown by ``jiceng config check``)."""
    rows = session.exec(
        select(DispatchRule)
        .where(caller.grants.filter("events:view", col(DispatchRule.area_path)))
        .order_by(col(DispatchRule.area_path), col(DispatchRule.type_code))
    ).all()
    return [r.model_dump(exclude={"area_path"}) for r in rows]


@router.post("/dispatch-rules", status_code=status.HTTP_201_CREATED)
def create_rule(data: RuleIn, request: Request, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    area = session.get(Area, data.area)
    if area is None:
        raise invalid_field("area", "No area with code {code}.", code=data.area)
    caller.require("events:manage", area.path)
    town = queries.town_code_of(area)
    if town is None:
        raise invalid_field("area", "Choose a town, community or grid, not {area}.", area=area.code)
    dispatch.department(session, town, data.department)
    if session.exec(
        select(DispatchRule).where(col(DispatchRule.area_code) == area.code, col(DispatchRule.type_code) == data.type)
    ).first():
        raise invalid_field("type", "There is already a rule for {type} at {area}.", type=data.type, area=area.code)
    rule = dispatch.add_rule(
        session, area_code=area.code, type_code=data.type, department_code=data.department, actor=caller.username
    )
    audit.record(
        session,
        actor=caller.username,
        action="dispatch_rule.create",
        target_type="dispatch_rule",
        target_id=f"{area.code}:{data.type}",
        address=client_address(request),
        detail={"department": data.department},
    )
    session.commit()
    return rule.model_dump(exclude={"area_path"})


@router.delete("/dispatch-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: int, request: Request, session: SessionDep, caller: CallerDep) -> None:
    rule = dispatch.get_rule(session, rule_id)
    caller.require("events:manage", rule.area_path)
    session.delete(rule)
    audit.record(
        session,
        actor=caller.username,
        action="dispatch_rule.delete",
        target_type="dispatch_rule",
        target_id=f"{rule.area_code}:{rule.type_code}",
        address=client_address(request),
        detail={"department": rule.department},
    )
    session.commit()
