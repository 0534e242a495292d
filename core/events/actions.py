"""Applying one lifecycle step: permission and area, the machine's rule, the step's own needs, the timeline.

Concurrent steps on one event cannot both win: the step first claims the
event by bumping its ``version`` where it still has the version that was read
(one conditional ``UPDATE``); the loser answers 409, as a stale ``version``
sent by the client does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlmodel import Session, col, select

from jiceng.core import audit
from jiceng.core.areas import Area
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.enablement import path_codes
from jiceng.core.errors import AppError, conflict, forbidden, invalid_field
from jiceng.core.events import counts, dispatch, timeline
from jiceng.core.events.clock import WorkingClock
from jiceng.core.events.info import EventChange
from jiceng.core.events.lifecycle import TRANSITIONS, Transition, available
from jiceng.core.events.models import DepartmentMember, Event, State
from jiceng.core.i18n import N_
from jiceng.core.web.context import Caller
from jiceng.plugins.manifest import EventTypeDecl

DEFAULT_DEADLINE_HOURS = 72  # a type no longer installed still gets a deadline


class ActionIn(BaseModel):
    """What a step may carry; each step uses the parts it needs."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)
    department: str | None = Field(None, max_length=32)
    assignee: str | None = Field(None, max_length=64)
    hours: int | None = Field(None, ge=1, le=2000)
    rating: int | None = Field(None, ge=1, le=5)
    version: int | None = Field(None, ge=1)


class IllegalTransition(AppError):
    """409: the step is not allowed from the event's state; the body lists the steps that are."""

    def __init__(self, action: str, state: State) -> None:
        self.allowed = available(state)
        super().__init__(
            409,
            "illegal_transition",
            N_("An event that is {state} cannot take the step {action}; allowed now: {allowed}."),
            {"state": str(state), "action": action, "allowed": ", ".join(self.allowed) or "-"},
        )

    def body(self) -> dict[str, Any]:
        body = super().body()
        body["error"]["allowed"] = self.allowed
        return body


def transition(name: str) -> Transition:
    found = TRANSITIONS.get(name)
    if found is None:
        raise invalid_field(
            "action", "Unknown step {action}; the steps are: {steps}.", action=name, steps=", ".join(TRANSITIONS)
        )
    return found


def is_member(session: Session, username: str, department_id: int | None) -> bool:
    if department_id is None:
        return False
    return (
        session.exec(
            select(DepartmentMember.username).where(
                col(DepartmentMember.department_id) == department_id, col(DepartmentMember.username) == username
            )
        ).first()
        is not None
    )


def authorise(
    session: Session, caller: Caller, event: Event, step: Transition, handles: Callable[[], bool] | None = None
) -> None:
    """The caller may take ``step`` on ``event``: the permission where the step's scope says, and who they are.

    ``handles`` answers whether the caller handles the event for its department (asked only for such steps).
    """
    if step.scope == "owner":
        caller.require(step.permission, event.owner_path)
    elif step.scope == "reporter":
        if caller.username != event.reporter and not caller.grants.allows("events:verify", event.owner_path):
            raise forbidden("Only the person who reported it, or the command centre, may rate the result.")
    else:
        caller.require(step.permission, event.area_path)
        if step.scope == "department" and not (handles or partial(handler_of, session, caller, event))():
            raise forbidden("You do not handle events for the department this event is assigned to.")


def handler_of(session: Session, caller: Caller, event: Event) -> bool:
    """The caller is the event's assignee or a member of its department."""
    return caller.username == event.assignee or is_member(session, caller.username, event.department_id)


def claim(session: Session, event: Event, version: int | None) -> None:
    """Take the event for this step, or 409 when someone changed it since it was read."""
    if version is not None and version != event.version:
        raise conflict(
            "The event was changed by someone else (version {current}); reload it and try again.", current=event.version
        )
    claimed = session.execute(
        update(Event)
        .where(col(Event.id) == event.id, col(Event.version) == event.version)
        .values(version=event.version + 1)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise conflict("The event was changed by someone else; reload it and try again.")
    event.version += 1


def act(
    session: Session,
    settings: Settings,
    caller: Caller,
    event: Event,
    name: str,
    data: ActionIn,
    event_type: EventTypeDecl | None,
    *,
    address: str = "",
    now: datetime | None = None,
) -> EventChange:
    """Take step ``name``; the caller commits and then notifies the scenarios."""
    step = transition(name)
    if event.state not in step.sources:
        raise IllegalTransition(name, event.state)
    authorise(session, caller, event, step)
    if step.note_required and not data.note.strip():
        raise invalid_field("note", "Say why: a note is required for this step.")
    claim(session, event, data.version)
    now = now or utcnow()
    before = event.state
    detail = EFFECTS[name](Step(session, settings, event, data, event_type, caller, now))
    if step.target is not None:
        counts.move(session, event.town_code, leaving=event.state, entering=step.target)
        event.state = step.target
    event.updated_at = now
    session.add(event)
    timeline.append(
        session,
        event,
        action=name,
        from_state=before,
        actor=caller.username,
        at=now,
        note=data.note.strip(),
        detail=detail,
    )
    audit.record(
        session,
        actor=caller.username,
        action=f"event.{name}",
        target_type="event",
        target_id=str(event.id),
        address=address,
        detail={"code": event.code, "from": str(before), "to": str(event.state), **detail},
    )
    return EventChange(name, caller.username, data.note.strip(), str(before), str(event.state), now)


Effect = dict[str, object]


@dataclass
class Step:
    """Everything one step's effect may need."""

    session: Session
    settings: Settings
    event: Event
    data: ActionIn
    event_type: EventTypeDecl | None
    caller: Caller
    now: datetime

    @property
    def clock(self) -> WorkingClock:
        return WorkingClock(self.settings.events.calendar)


def _none(step: Step) -> Effect:
    return {}


def _accept(step: Step) -> Effect:
    step.event.accepted_at = step.event.accepted_at or step.now
    return {}


def _dispatch(step: Step) -> Effect:
    """Send to a department (the proposal when none is named); the deadline runs from now, in working time."""
    event, data, kind = step.event, step.data, step.event_type
    code = data.department or event.suggested_department
    if not code:
        raise invalid_field("department", "Choose the department that should handle the event.")
    department = dispatch.department(step.session, event.town_code, code)
    if data.assignee and not is_member(step.session, data.assignee, department.id):
        raise invalid_field("assignee", "{user} is not a member of {department}.", user=data.assignee, department=code)
    if kind is not None and kind.deadline_days:
        event.deadline = step.clock.add(step.now, days=kind.deadline_days)
    else:
        event.deadline = step.clock.add(step.now, hours=kind.deadline_hours if kind else DEFAULT_DEADLINE_HOURS)
    event.department_id = department.id
    event.assignee = data.assignee
    event.dispatched_at = step.now
    event.accepted_at = event.accepted_at or step.now
    event.pending_extension_hours = None
    return {"department": code, "assignee": data.assignee, "deadline": event.deadline.isoformat()}


def _start(step: Step) -> Effect:
    step.event.assignee = step.event.assignee or step.caller.username
    return {"assignee": step.event.assignee}


def _unassign(event: Event) -> None:
    event.department_id = None
    event.assignee = None
    event.deadline = None
    event.pending_extension_hours = None


def _return(step: Step) -> Effect:
    _unassign(step.event)
    step.event.return_count += 1
    return {}


def _request_extension(step: Step) -> Effect:
    event = step.event
    if event.pending_extension_hours is not None:
        raise conflict(
            "An extension of {hours} working hours is already waiting for approval.",
            hours=event.pending_extension_hours,
        )
    if step.data.hours is None:
        raise invalid_field("hours", "Say how many more working hours are needed.")
    event.pending_extension_hours = step.data.hours
    return {"hours": step.data.hours}


def _pending(event: Event) -> int:
    if event.pending_extension_hours is None:
        raise conflict("No extension is waiting for approval.")
    return event.pending_extension_hours


def _approve_extension(step: Step) -> Effect:
    event = step.event
    hours = _pending(event)
    event.deadline = step.clock.add(event.deadline or step.now, hours=hours)
    event.extension_count += 1
    event.pending_extension_hours = None
    return {"hours": hours, "deadline": event.deadline.isoformat()}


def _deny_extension(step: Step) -> Effect:
    hours = _pending(step.event)
    step.event.pending_extension_hours = None
    return {"hours": hours}


def _resolve(step: Step) -> Effect:
    step.event.resolved_at = step.now
    step.event.pending_extension_hours = None
    return {}


def _verify(step: Step) -> Effect:
    step.event.closed_at = step.now
    return {}


def _rework(step: Step) -> Effect:
    step.event.rework_count += 1
    step.event.resolved_at = None
    return {}


def _escalate(step: Step) -> Effect:
    """Hand the event to the command centre one level up (town → district → city)."""
    event = step.event
    codes = path_codes(event.owner_path)
    if len(codes) < 2:
        raise conflict("There is no level above {area} to escalate to.", area=codes[-1])
    parent = step.session.get(Area, codes[-2])
    assert parent is not None
    event.owner_path = parent.path
    _unassign(event)
    event.escalation_count += 1
    event.accepted_at = event.accepted_at or step.now
    return {"to": parent.code}


def _urge(step: Step) -> Effect:
    step.event.urge_count += 1
    return {}


def _evaluate(step: Step) -> Effect:
    if step.data.rating is None:
        raise invalid_field("rating", "Give a rating from 1 (very unsatisfied) to 5 (very satisfied).")
    step.event.rating = step.data.rating
    return {"rating": step.data.rating}


EFFECTS = {
    "accept": _accept,
    "reject": _none,
    "dispatch": _dispatch,
    "reassign": _dispatch,
    "start": _start,
    "return": _return,
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "deny_extension": _deny_extension,
    "resolve": _resolve,
    "verify": _verify,
    "rework": _rework,
    "escalate": _escalate,
    "urge": _urge,
    "evaluate": _evaluate,
}


#: steps that the state allows but that also need something waiting (or nothing waiting) on the event
READY = {
    "request_extension": lambda event: event.pending_extension_hours is None,
    "approve_extension": lambda event: event.pending_extension_hours is not None,
    "deny_extension": lambda event: event.pending_extension_hours is not None,
}


def allowed_for(session: Session, caller: Caller, event: Event) -> list[str]:
    """The steps this caller could take now, for the buttons on the event's page."""
    allowed = []
    handles = cache(partial(handler_of, session, caller, event))  # one membership query for all the steps
    for name in available(event.state):
        if not READY.get(name, lambda _: True)(event):
            continue
        try:
            authorise(session, caller, event, TRANSITIONS[name], handles)
        except AppError:
            continue
        allowed.append(name)
    return allowed
