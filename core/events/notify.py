"""Telling the town's scenarios that an event changed (the ``event_changed`` hook), after the commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from jiceng.core.areas import get_area
from jiceng.core.events.info import EventChange, EventInfo
from jiceng.core.events.models import Department, Event

if TYPE_CHECKING:
    from jiceng.core.enablement import TownState
    from jiceng.core.scenario_context import TownContext


def info(session: Session, event: Event) -> EventInfo:
    department = session.get(Department, event.department_id) if event.department_id else None
    return EventInfo.of(event, department.code if department else None)


def reported(event: Event) -> EventChange:
    """The first step, as scenarios hear of it."""
    return EventChange("report", event.reporter, "", "", str(event.state), event.created_at)


def changed(
    host: Any,
    session: Session,
    caller: Any,
    event: Event,
    change: EventChange,
    town: tuple[TownContext, TownState] | None = None,
) -> None:
    """Call ``event_changed`` for the scenarios enabled in the event's town; what they do cannot undo the change.

    ``town`` is the context and state the change was checked with, when the caller has them (a report):
    looking them up again would cost two queries after the commit.
    """
    if town is None:
        town = host.town_context(town=get_area(session, event.town_code), caller=caller, session=session)
    context, state = town
    host.hooks(state).event_changed(event=info(session, event), change=change, context=context)
