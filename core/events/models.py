"""Events (事件), the departments that handle them, dispatch rules and the Open311 clients that report them.

An event carries both where it happened (``area_path``, normally a grid) and
whose command centre owns it (``owner_path``, the town until it is escalated):
seeing an event is scoped by the first, command-centre actions by the second.
The figures the dashboard and the assessment need (when it was dispatched,
resolved and closed, its deadline, how often it was extended, reworked or
returned, the resident's rating) are kept on the row itself, so they follow
from the row alone, never from a walk through timelines; the loop also keeps
them summed per day in :class:`EventTally` (the assessment) and per state in
:class:`EventStateCount` (the dashboard).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from jiceng.core.db import utcnow


class State(StrEnum):
    """The states of GB/T 30428's seven steps, as one machine (see :mod:`jiceng.core.events.lifecycle`)."""

    reported = "reported"  # 上报, waiting for the command centre
    accepted = "accepted"  # 立案, waiting for dispatch
    rejected = "rejected"  # 不予立案
    dispatched = "dispatched"  # 派遣, waiting for the department to take it
    handling = "handling"  # 处置
    resolved = "resolved"  # 处理反馈, waiting for verification
    closed = "closed"  # 核查结案
    evaluated = "evaluated"  # 评价


OPEN_STATES = (State.reported, State.accepted, State.dispatched, State.handling, State.resolved)
DONE_STATES = (State.closed, State.evaluated)
#: Accepted for handling and not closed yet: the cases whose being due depends on when one asks.
OPEN_CASE_STATES = (State.accepted, State.dispatched, State.handling, State.resolved)
#: The same as literal SQL, for the partial index on open cases and the queries it serves (a database uses a
#: partial index only when the query's condition is written like the index's, not with bound parameters).
OPEN_CASE_SQL = f"state IN ({', '.join(repr(str(s)) for s in OPEN_CASE_STATES)})"


class Channel(StrEnum):
    grid = "grid"  # a grid worker
    portal = "portal"  # a resident in the portal
    hotline = "hotline"  # 12345
    open311 = "open311"
    system = "system"  # another system, through the API
    scenario = "scenario"


class Priority(StrEnum):
    normal = "normal"
    urgent = "urgent"
    critical = "critical"


class Department(SQLModel, table=True):
    """A town's functional department (职能部门), named by a short code that dispatch rules and types use."""

    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("town_code", "code", name="uq_department_town_code"),)

    id: int | None = Field(default=None, primary_key=True)
    town_code: str = Field(foreign_key="area.code", max_length=15)
    code: str = Field(max_length=32)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class DepartmentMember(SQLModel, table=True):
    """A user who handles the department's events."""

    __tablename__ = "department_member"

    department_id: int = Field(foreign_key="department.id", primary_key=True)
    username: str = Field(max_length=64, primary_key=True, index=True)


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("town_code", "code", name="uq_event_town_code"),
        UniqueConstraint("source", "external_id", name="uq_event_external"),
        Index("ix_event_town_created", "town_code", "created_at"),
        Index("ix_event_town_state", "town_code", "state", "deadline"),
        Index("ix_event_area_path", "area_path"),
        Index("ix_event_department_state", "department_id", "state", "deadline"),
        Index("ix_event_town_state_area", "town_code", "state", "area_code", "deadline"),
        Index("ix_event_town_state_resolved", "town_code", "state", "resolved_at"),
        Index(
            "ix_event_pending_extension",
            "town_code",
            "deadline",
            sqlite_where=text("pending_extension_hours IS NOT NULL"),
            postgresql_where=text("pending_extension_hours IS NOT NULL"),
        ),
        Index("ix_event_reporter", "reporter"),
        Index(
            "ix_event_open_case",
            *("town_code", "created_at", "deadline", "state", "extension_count"),
            *("department_id", "channel", "reporter", "area_path"),  # covering: the assessment reads only the index
            sqlite_where=text(OPEN_CASE_SQL),
            postgresql_where=text(OPEN_CASE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=24)  # SJ-20261127-0042, unique per town
    town_code: str = Field(foreign_key="area.code", max_length=15)
    type_code: str = Field(max_length=64)
    category: str = Field(max_length=24)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=4000)
    area_code: str = Field(foreign_key="area.code", max_length=15)
    area_path: str = Field(max_length=96)
    owner_path: str = Field(max_length=96)  # the command centre that owns it: the town, or above once escalated
    address: str = Field(default="", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    attributes: dict = Field(default_factory=dict, sa_type=JSON, nullable=False)  # type: ignore[type-arg]
    related: list = Field(default_factory=list, sa_type=JSON, nullable=False)  # type: ignore[type-arg]
    channel: Channel = Field(sa_type=String(12))
    priority: Priority = Field(default=Priority.normal, sa_type=String(12))
    reporter: str = Field(max_length=64)  # username, or the Open311 client's name
    reporter_contact: str = Field(default="", max_length=100)  # personal data: masked like a phone
    source: str = Field(default="", max_length=64)  # who sent it from outside: the client or system name
    external_id: str | None = Field(default=None, max_length=100)
    state: State = Field(default=State.reported, sa_type=String(12))
    department_id: int | None = Field(default=None, foreign_key="department.id")
    assignee: str | None = Field(default=None, max_length=64)
    suggested_department: str = Field(default="", max_length=32)
    deadline: datetime | None = None
    extension_count: int = 0
    pending_extension_hours: int | None = None
    rework_count: int = 0
    return_count: int = 0
    escalation_count: int = 0
    urge_count: int = 0
    rating: int | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    dispatched_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class EventAction(SQLModel, table=True):
    """One step on an event's timeline: who did what, when, why."""

    __tablename__ = "event_action"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    action: str = Field(max_length=24)
    from_state: str = Field(max_length=12)
    to_state: str = Field(max_length=12)
    actor: str = Field(max_length=64)
    note: str = Field(default="", max_length=2000)
    detail: dict = Field(default_factory=dict, sa_type=JSON, nullable=False)  # type: ignore[type-arg]
    at: datetime = Field(default_factory=utcnow)


class EventAttachment(SQLModel, table=True):
    """A photo or document; the bytes live in the attachment store under ``key``."""

    __tablename__ = "event_attachment"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    key: str = Field(max_length=128, unique=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=64)
    size: int
    uploaded_by: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


class EventCounter(SQLModel, table=True):
    """The last number given per town and day, so codes are short, readable and never repeat."""

    __tablename__ = "event_counter"

    town_code: str = Field(primary_key=True, max_length=15)
    day: str = Field(primary_key=True, max_length=8)
    last: int = 0


class EventStateCount(SQLModel, table=True):
    """How many events of a town are in each state, kept by intake and the state machine in the same transaction.

    The dashboard reads its counts by state here instead of counting a town's
    whole history on every view; :func:`jiceng.core.events.counts.rebuild`
    recounts after a bulk load.
    """

    __tablename__ = "event_state_count"

    town_code: str = Field(primary_key=True, max_length=15)
    state: str = Field(primary_key=True, max_length=12)
    count: int = 0


class EventTally(SQLModel, table=True):
    """The assessment's additive figures of a town's events, per UTC day of report and per group they count in.

    One row per (town, dimension, UTC date of ``created_at``, key): the dimension is ``department`` (key: the
    department's id), ``grid_worker`` (key: the reporter of an event found in the grid) or ``area`` (key: the
    event's ``area_path``). Intake adds an event's rows and every step moves the difference it made, in the same
    transaction (:mod:`jiceng.core.events.tally`), so an assessment sums a few rows per day instead of reading
    every event of its period. What depends on when one asks (which open cases are past their deadline) is not
    here: the open cases with a deadline are, and the assessment takes away those not due yet.
    """

    __tablename__ = "event_tally"
    __table_args__ = {"sqlite_with_rowid": False}  # the rows live in the key's order: one B-tree, not two

    town_code: str = Field(primary_key=True, max_length=15)
    dimension: str = Field(primary_key=True, max_length=12)
    day: date = Field(primary_key=True)  # UTC, so the rows do not depend on the configured zone
    key: str = Field(primary_key=True, max_length=96)
    reported: int = 0
    cases: int = 0
    closed: int = 0
    closed_extended: int = 0
    on_time: int = 0
    reworked: int = 0
    first_time: int = 0
    timed: int = 0  # closed cases with both a dispatch and a resolution time
    handling_us: int = Field(default=0, sa_type=BigInteger)  # Σ resolved_at − dispatched_at: whole µs add exactly
    rated: int = 0
    rating_sum: int = 0
    open_dated: int = 0  # open cases with a deadline: due once it passes, which is for the assessment to see
    open_dated_extended: int = 0


class DispatchRule(SQLModel, table=True):
    """Events of ``type_code`` (``*``: any) in the area under ``area_path`` go to department ``department``."""

    __tablename__ = "dispatch_rule"
    __table_args__ = (UniqueConstraint("area_code", "type_code", name="uq_dispatch_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", max_length=15)
    area_path: str = Field(max_length=96, index=True)
    type_code: str = Field(max_length=64)
    department: str = Field(max_length=32)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Open311Client(SQLModel, table=True):
    """An application allowed to post service requests; only the key's SHA-256 is kept.

    It posts only in the towns under its area (a town's 12345 hotline, a district's app); a client with no
    area, which only the command line makes, posts anywhere.
    """

    __tablename__ = "open311_client"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    key_hash: str = Field(max_length=64, unique=True)
    area_code: str | None = Field(default=None, foreign_key="area.code", max_length=15)
    area_path: str | None = Field(default=None, max_length=96)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
