"""The command centre's dashboard (指挥中心): today's intake, where events stand, what is late, what waits for whom.

Each figure is one grouped query over ``event`` that stays on the indexes the model declares: today's intake on
``(town_code, created_at)``, the states and the deadlines on ``(town_code, state, deadline)``, the departments on
``(department_id, state)``. Nothing loads a town's events into Python: a town with a million events costs one pass
over the rows each figure needs, and the lists to act on are short, ordered and limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import Session, col, select

from jiceng.core.areas import Area
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.events import counts
from jiceng.core.events.clock import WorkingClock
from jiceng.core.events.lifecycle import WORKING
from jiceng.core.events.models import OPEN_STATES, Department, Event, State

TOP_AREAS = 10
QUEUE_LENGTH = 10


@dataclass(frozen=True)
class Intake:
    """Events reported since the start of the town's local day, in all and per channel."""

    since: datetime
    total: int
    by_channel: dict[str, int]


@dataclass(frozen=True)
class Deadlines:
    """Open events past their deadline, and those whose deadline falls before ``warn_until``."""

    overdue: int
    due_soon: int
    warn_until: datetime


@dataclass(frozen=True)
class Load:
    """Open and overdue events of one area or one department."""

    code: str
    name: str
    open: int
    overdue: int


@dataclass(frozen=True)
class Waiting:
    """One event in a list to act on: enough to name it and say why it waits."""

    id: int
    code: str
    title: str
    area_code: str
    state: str
    deadline: datetime | None
    created_at: datetime
    pending_extension_hours: int | None


@dataclass(frozen=True)
class Queue:
    """The first events of one list to act on, oldest or most urgent first; ``more`` when the list goes on."""

    name: str
    events: list[Waiting]
    more: bool


@dataclass(frozen=True)
class Dashboard:
    town_code: str
    at: datetime
    today: Intake
    states: dict[str, int]
    deadlines: Deadlines
    areas: list[Load]
    departments: list[Load]
    queues: list[Queue]


def day_start(clock: WorkingClock, now: datetime) -> datetime:
    """Midnight of ``now``'s day in the town's local time, in UTC."""
    return datetime.combine(now.astimezone(clock.zone).date(), time.min, clock.zone).astimezone(UTC)


def intake(session: Session, town_code: str, since: datetime) -> Intake:
    rows = session.exec(
        select(Event.channel, func.count())
        .where(col(Event.town_code) == town_code, col(Event.created_at) >= since)
        .group_by(col(Event.channel))
    ).all()
    by_channel = {str(channel): count for channel, count in rows}
    return Intake(since, sum(by_channel.values()), by_channel)


def states(session: Session, town_code: str) -> dict[str, int]:
    """Events of the town per state, every state present (zero when none), from the counters the loop keeps."""
    found = counts.of_town(session, town_code)
    return {str(state): found.get(str(state), 0) for state in State}


def _overdue(now: datetime) -> ColumnElement[int]:
    """Counts the rows whose deadline has passed (``count`` skips the NULLs of the others)."""
    return func.count(case((col(Event.deadline) < now, 1)))


def deadlines(session: Session, town_code: str, now: datetime, warn_until: datetime) -> Deadlines:
    overdue, due_soon = session.exec(
        select(_overdue(now), func.count(case((col(Event.deadline) >= now, 1)))).where(
            col(Event.town_code) == town_code,
            col(Event.state).in_(OPEN_STATES),
            col(Event.deadline) < warn_until,
        )
    ).one()
    return Deadlines(overdue, due_soon, warn_until)


def areas(session: Session, town_code: str, now: datetime, limit: int = TOP_AREAS) -> list[Load]:
    """The areas (grids, or communities for what was reported there) with the most open events."""
    grouped = (
        select(col(Event.area_code).label("code"), func.count().label("open"), _overdue(now).label("overdue"))
        .where(col(Event.town_code) == town_code, col(Event.state).in_(OPEN_STATES))
        .group_by(col(Event.area_code))
        .order_by(func.count().desc(), col(Event.area_code))
        .limit(limit)
        .subquery()
    )
    rows = session.exec(
        select(grouped.c.code, Area.name, grouped.c.open, grouped.c.overdue)
        .join(Area, col(Area.code) == grouped.c.code)
        .order_by(grouped.c.open.desc(), grouped.c.code)
    ).all()
    return [Load(code, name, open_, overdue) for code, name, open_, overdue in rows]


def departments(session: Session, town_code: str, now: datetime) -> list[Load]:
    """Every department of the town with its open and overdue events (zero included)."""
    rows = session.exec(
        select(Department.code, Department.name, func.count(col(Event.id)), _overdue(now))
        .select_from(Department)
        .outerjoin(Event, and_(col(Event.department_id) == col(Department.id), col(Event.state).in_(OPEN_STATES)))
        .where(col(Department.town_code) == town_code)
        .group_by(col(Department.id), col(Department.code), col(Department.name))
        .order_by(col(Department.code))
    ).all()
    return [Load(code, name, open_, overdue) for code, name, open_, overdue in rows]


#: The lists to act on, in the order the dashboard shows them.
QUEUE_NAMES = ("reported", "resolved", "extension", "overdue")


def _waiting(name: str, now: datetime) -> tuple[tuple[ColumnElement[bool], ...], tuple[ColumnElement, ...]]:
    """Which events wait in list ``name``, and the order that puts the oldest or most urgent first."""
    if name == "reported":  # waiting for acceptance; ids follow intake order, and sorting the few waiting ones by id
        # keeps SQLite from walking the town's whole (town_code, created_at) index to find them
        return (col(Event.state) == State.reported,), (col(Event.id),)
    if name == "resolved":  # waiting for verification
        return (col(Event.state) == State.resolved,), (col(Event.resolved_at), col(Event.id))
    if name == "extension":  # an extension request waiting for approval
        pending = col(Event.pending_extension_hours).is_not(None)
        return (col(Event.state).in_(WORKING), pending), (col(Event.deadline), col(Event.id))
    return (col(Event.state).in_(OPEN_STATES), col(Event.deadline) < now), (col(Event.deadline), col(Event.id))


def queue(session: Session, town_code: str, name: str, now: datetime, limit: int = QUEUE_LENGTH) -> Queue:
    """One list to act on (one of :data:`QUEUE_NAMES`), at most ``limit`` long."""
    conditions, order = _waiting(name, now)
    rows = session.exec(
        select(
            Event.id,
            Event.code,
            Event.title,
            Event.area_code,
            Event.state,
            Event.deadline,
            Event.created_at,
            Event.pending_extension_hours,
        )
        .where(col(Event.town_code) == town_code, *conditions)
        .order_by(*order)
        .limit(limit + 1)
    ).all()
    return Queue(name, [Waiting(*row[:4], str(row[4]), *row[5:]) for row in rows[:limit]], len(rows) > limit)


def summary(session: Session, settings: Settings, town_code: str, now: datetime | None = None) -> Dashboard:
    """The whole dashboard of one town; "due soon" means within ``events.warn_hours`` working hours."""
    now = now or utcnow()
    clock = WorkingClock(settings.events.calendar)
    return Dashboard(
        town_code=town_code,
        at=now,
        today=intake(session, town_code, day_start(clock, now)),
        states=states(session, town_code),
        deadlines=deadlines(session, town_code, now, clock.add(now, hours=settings.events.warn_hours)),
        areas=areas(session, town_code, now),
        departments=departments(session, town_code, now),
        queues=[queue(session, town_code, name, now) for name in QUEUE_NAMES],
    )
