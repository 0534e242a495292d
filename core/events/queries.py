"""Finding events: the caller's scope as one SQL condition, filters, and the shapes the API and pages show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, within
from jiceng.core.db import utcnow
from jiceng.core.errors import not_found
from jiceng.core.events.models import OPEN_STATES, Department, DepartmentMember, Event, EventAction, State
from jiceng.core.records.validation import mask_phone
from jiceng.core.web.context import Caller

COUNT_CAP = 10_000  # counting further costs time and tells nobody anything more


def scope(caller: Caller) -> ColumnElement[bool]:
    """Events in the caller's ``events:view`` areas, and the events they reported themselves."""
    return or_(caller.grants.filter("events:view", col(Event.area_path)), col(Event.reporter) == caller.username)


def get_event(session: Session, caller: Caller, event_id: int) -> Event:
    """The event, or 404 when it does not exist or lies outside the caller's scope (no hint either way)."""
    event = session.get(Event, event_id)
    if event is None or not (caller.grants.allows("events:view", event.area_path) or event.reporter == caller.username):
        raise not_found("No event {id}.", id=event_id)
    return event


def town_code_of(area: Area) -> str | None:
    """The code of the town ``area`` lies in, or ``None`` above the towns."""
    codes = [c for c in area.path.split("/") if c]
    return codes[2] if len(codes) >= 3 else None


def departments_of(session: Session, username: str) -> list[int]:
    return list(
        session.exec(select(DepartmentMember.department_id).where(col(DepartmentMember.username) == username)).all()
    )


def filters(
    session: Session,
    caller: Caller,
    *,
    state: list[State] | None = None,
    type_code: str | None = None,
    department: int | None = None,
    under: Area | None = None,
    overdue: bool = False,
    mine: str | None = None,
    q: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """The list's conditions; ``mine`` is ``reported`` (by me), ``assigned`` (to me or my departments)."""
    conditions = [scope(caller)]
    if state:
        conditions.append(col(Event.state).in_(state))
    if type_code:
        conditions.append(col(Event.type_code) == type_code)
    if department is not None:
        conditions.append(col(Event.department_id) == department)
    if under is not None:
        conditions.append(within(col(Event.area_path), [under.path]))
    if overdue:
        conditions += [col(Event.state).in_(OPEN_STATES), col(Event.deadline) < utcnow()]
    if mine == "reported":
        conditions.append(col(Event.reporter) == caller.username)
    elif mine == "assigned":
        mine_departments = departments_of(session, caller.username)
        conditions.append(
            or_(
                col(Event.assignee) == caller.username,
                and_(col(Event.department_id).in_(mine_departments), col(Event.assignee).is_(None)),
            )
        )
    if q:
        needle = q.strip()
        conditions.append(or_(col(Event.code) == needle.upper(), col(Event.title).contains(needle)))
    if since is not None:
        conditions.append(col(Event.created_at) >= since)
    if until is not None:
        conditions.append(col(Event.created_at) < until)
    return conditions


def page(
    session: Session, conditions: list[ColumnElement[bool]], *, offset: int, limit: int
) -> tuple[list[Event], int]:
    """Newest first, with the count up to :data:`COUNT_CAP` (``COUNT_CAP + 1`` means "more")."""
    rows = session.exec(
        select(Event)
        .where(*conditions)
        .order_by(col(Event.created_at).desc(), col(Event.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    capped = select(Event.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    count = session.exec(select(func.count()).select_from(capped)).one()
    return list(rows), count


def department_names(session: Session, ids: set[int]) -> dict[int, Department]:
    if not ids:
        return {}
    return {d.id: d for d in session.exec(select(Department).where(col(Department.id).in_(ids))).all()}  # type: ignore[misc]


def present(
    event: Event, caller: Caller, departments: dict[int, Department], now: datetime | None = None
) -> dict[str, Any]:
    """The event as the API shows it; the reporter's phone is masked unless the caller may see it."""
    now = now or utcnow()
    department = departments.get(event.department_id) if event.department_id else None
    contact = event.reporter_contact
    if contact and not caller.grants.allows("pii:view", event.area_path):
        contact = mask_phone(contact)
    open_ = event.state in OPEN_STATES
    return {
        "id": event.id,
        "code": event.code,
        "town_code": event.town_code,
        "type": event.type_code,
        "category": event.category,
        "title": event.title,
        "description": event.description,
        "area_code": event.area_code,
        "address": event.address,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "attributes": event.attributes,
        "related": event.related,
        "channel": event.channel,
        "priority": event.priority,
        "reporter": event.reporter,
        "reporter_contact": contact,
        "state": event.state,
        "department": department.code if department else None,
        "department_name": department.name if department else None,
        "assignee": event.assignee,
        "suggested_department": event.suggested_department,
        "deadline": event.deadline,
        "overdue": bool(open_ and event.deadline and event.deadline < now),
        "pending_extension_hours": event.pending_extension_hours,
        "extension_count": event.extension_count,
        "rework_count": event.rework_count,
        "return_count": event.return_count,
        "escalation_count": event.escalation_count,
        "urge_count": event.urge_count,
        "rating": event.rating,
        "version": event.version,
        "created_at": event.created_at,
        "dispatched_at": event.dispatched_at,
        "resolved_at": event.resolved_at,
        "closed_at": event.closed_at,
        "external_id": event.external_id,
    }


def timeline(session: Session, event_id: int) -> list[EventAction]:
    return list(
        session.exec(
            select(EventAction).where(col(EventAction.event_id) == event_id).order_by(col(EventAction.id))
        ).all()
    )
