"""The assessment's tally (``event_tally``): the events' additive figures, summed per town, UTC day and group.

Assessing a period straight from the ``event`` table reads every event reported in it: a year of a busy town is
a million rows and seconds. Most of the figures (reported, cases, closed, on time, reworked, the handling time,
the ratings…) are sums over events of what each event's own columns say, so they are kept summed per UTC day of
report instead: every write of an event through the ORM (the report, each step) moves the difference it made,
in one statement in the same transaction as the change, as :mod:`jiceng.core.events.counts` does for the counts
by state. An assessment then sums a few rows per day; what depends on when one asks (which open cases are past
their deadline) is kept as "every open case with a deadline", and the assessment takes away those not due yet,
read from the events (see :func:`jiceng.core.events.assessment.assess`).

An event counts in up to three groups (dimensions): ``area`` (key: its ``area_path``; an assessment by area
groups the paths by prefix), ``department`` (key: its department's id) and ``grid_worker`` (key: the reporter of
an event found in the grid). The days are UTC, not the calendar's, so the rows do not depend on a setting.

:func:`figures` is what one event adds, from its columns; :func:`sums` is the same in SQL, for :func:`rebuild`
and for the hours of a period that do not fill whole UTC days. The two must agree: the tests walk events through
every step and compare the kept tally with a rebuild.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Insert,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    not_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper
from sqlmodel import Session, col

from jiceng.core.events.models import DONE_STATES, OPEN_CASE_STATES, Channel, Event, EventTally, State

TABLE = EventTally.__table__  # type: ignore[attr-defined]
EVENT = Event.__table__  # type: ignore[attr-defined]
KEY = ("town_code", "dimension", "day", "key")
#: The additive figures, as the table's columns name them.
SUMS = (
    "reported", "cases", "closed", "closed_extended", "on_time", "reworked", "first_time", "timed", "handling_us",
    "rated", "rating_sum", "open_dated", "open_dated_extended",
)  # fmt: skip
NOT_CASES = (State.reported, State.rejected)
MICROSECOND = timedelta(microseconds=1)

Figures = tuple[int, ...]  # by SUMS
Contribution = dict[tuple[str, str, date, str], Figures]  # (town, dimension, day, key) → what the event adds there
#: The columns an event's contribution follows from; a change to any other leaves the tally alone.
COLUMNS = (
    "town_code", "created_at", "area_path", "department_id", "channel", "reporter", "state", "deadline",
    "extension_count", "rework_count", "return_count", "rating", "dispatched_at", "resolved_at",
)  # fmt: skip


def utc(moment: datetime) -> datetime:
    """Instants come back naive (UTC) from the database, and aware from the code that has just set them."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def figures(row: Mapping[str, Any]) -> Figures:
    """What an event (its :data:`COLUMNS`) adds to each of its groups, by :data:`SUMS` (defined in the assessment)."""
    is_case = row["state"] not in NOT_CASES
    closed = row["state"] in DONE_STATES
    resolved, dispatched, deadline = (
        None if row[name] is None else utc(row[name]) for name in ("resolved_at", "dispatched_at", "deadline")
    )
    extended = row["extension_count"] > 0
    open_dated = row["state"] in OPEN_CASE_STATES and deadline is not None
    on_time = resolved is not None and deadline is not None and resolved <= deadline and not extended
    timed = closed and resolved is not None and dispatched is not None
    rated = is_case and row["rating"] is not None
    return (
        1,
        int(is_case),
        int(closed),
        int(closed and extended),
        int(closed and on_time),
        int(closed and row["rework_count"] > 0),
        int(closed and row["rework_count"] == 0 and row["return_count"] == 0),
        int(timed),
        (resolved - dispatched) // MICROSECOND if timed else 0,  # type: ignore[operator]
        int(rated),
        row["rating"] if rated else 0,
        int(open_dated),
        int(open_dated and extended),
    )


def contribution(row: Mapping[str, Any]) -> Contribution:
    """The tally rows an event (its :data:`COLUMNS`) counts in, and what it adds to each."""
    day = utc(row["created_at"]).date()
    groups = [("area", row["area_path"])]
    if row["department_id"] is not None:
        groups.append(("department", str(row["department_id"])))
    if row["channel"] == Channel.grid:
        groups.append(("grid_worker", row["reporter"]))
    added = figures(row)
    return {(row["town_code"], dimension, day, key): added for dimension, key in groups}


def move(connection: Connection, after: Contribution, before: Contribution) -> None:
    """Add ``after`` and take away ``before``: one upsert per row that changes (none when they are equal).

    The rows are written in one order (sorted), so two transactions moving the same rows on PostgreSQL wait for
    each other instead of deadlocking.
    """
    zero = (0,) * len(SUMS)
    rows = []
    for row in sorted(after.keys() | before.keys()):
        delta = [now - then for now, then in zip(after.get(row, zero), before.get(row, zero), strict=True)]
        if any(delta):
            rows.append(dict(zip(KEY, row, strict=True)) | dict(zip(SUMS, delta, strict=True)))
    if rows:
        connection.execute(UPSERTS[connection.dialect.name], rows)


def _upsert(dialect: ModuleType) -> Insert:
    adding = dialect.insert(TABLE)
    added = {name: TABLE.c[name] + adding.excluded[name] for name in SUMS}
    return adding.on_conflict_do_update(index_elements=list(KEY), set_=added)


#: Built once per dialect and run once per row (``executemany``): a multi-row ``VALUES`` built per call cost
#: more to build than to run, on every report and step.
UPSERTS = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


# -- kept by every write of an event ------------------------------------------------------------------------------
#
# The tally follows the ORM's writes of an event rather than calls in intake and in each step: every path that
# reports, steps, dispatches, escalates or backdates an event (and a test or a script writing one) is counted,
# without a call to forget. Statements that bypass the ORM (bulk loads) are followed by :func:`rebuild`.


def added(connection: Connection, target: Event) -> None:
    """A new event counted; intake, which writes events below the ORM, calls it itself."""
    move(connection, contribution({name: getattr(target, name) for name in COLUMNS}), {})


@event.listens_for(Event, "after_insert")
def _inserted(_mapper: Mapper[Event], connection: Connection, target: Event) -> None:
    added(connection, target)


@event.listens_for(Event, "before_update")
def _updating(_mapper: Mapper[Event], connection: Connection, target: Event) -> None:
    """The difference the pending changes make, the old values from the attributes' history.

    A column changed without its old value ever loaded (an expired event written blind) is read from the row,
    which still holds the old values before this flush's ``UPDATE``.
    """
    attributes = inspect(target).attrs
    histories = {name: attributes[name].history for name in COLUMNS}
    old = {name: (h.deleted or h.unchanged)[0] for name, h in histories.items() if h.deleted or h.unchanged}
    if len(old) < len(COLUMNS):
        stored = connection.execute(select(*(EVENT.c[name] for name in COLUMNS)).where(EVENT.c.id == target.id))
        old = dict(stored.one()._mapping)
    new = {name: h.added[0] if h.added else old[name] for name, h in histories.items()}
    move(connection, contribution(new), contribution(old))


# -- the same in SQL ---------------------------------------------------------------------------------------------


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def handling_us(session: Session) -> ColumnElement[int]:
    """``resolved_at − dispatched_at`` in whole microseconds, exactly as :func:`figures` counts them."""
    resolved, dispatched = col(Event.resolved_at), col(Event.dispatched_at)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", resolved - dispatched) * 1_000_000, BigInteger)  # numeric: exact

    def us(moment: ColumnElement[datetime]) -> ColumnElement[int]:
        # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff"; its date functions keep milliseconds and round, so the whole
        # seconds are read by unixepoch and the microseconds from the text
        return func.unixepoch(func.substr(moment, 1, 19)) * 1_000_000 + cast(func.substr(moment, 21, 6), Integer)

    return us(resolved) - us(dispatched)


def sums(session: Session) -> list[ColumnElement[int]]:
    """:func:`figures` as aggregates over ``event`` rows, labelled by :data:`SUMS`."""
    state, rating = col(Event.state), col(Event.rating)
    deadline, resolved, extensions = col(Event.deadline), col(Event.resolved_at), col(Event.extension_count)
    is_case = not_(state.in_(NOT_CASES))
    closed = state.in_(DONE_STATES)
    timed = and_(closed, resolved.is_not(None), col(Event.dispatched_at).is_not(None))
    rated = and_(is_case, rating.is_not(None))
    open_dated = and_(state.in_(OPEN_CASE_STATES), deadline.is_not(None))
    return [
        func.count().label("reported"),
        count_if(is_case).label("cases"),
        count_if(closed).label("closed"),
        count_if(and_(closed, extensions > 0)).label("closed_extended"),
        count_if(and_(closed, resolved <= deadline, extensions == 0)).label("on_time"),
        count_if(and_(closed, col(Event.rework_count) > 0)).label("reworked"),
        count_if(and_(closed, col(Event.rework_count) == 0, col(Event.return_count) == 0)).label("first_time"),
        count_if(timed).label("timed"),
        func.sum(case((timed, handling_us(session)), else_=0)).label("handling_us"),
        count_if(rated).label("rated"),
        func.sum(case((rated, rating), else_=0)).label("rating_sum"),
        count_if(open_dated).label("open_dated"),
        count_if(and_(open_dated, extensions > 0)).label("open_dated_extended"),
    ]


def event_groups() -> dict[str, tuple[ColumnElement[str], list[ColumnElement[bool]]]]:
    """Per dimension, an event's key and the condition for counting in it at all, as :func:`contribution` says."""
    return {
        "area": (col(Event.area_path), []),
        "department": (cast(col(Event.department_id), String), [col(Event.department_id).is_not(None)]),
        "grid_worker": (col(Event.reporter), [col(Event.channel) == Channel.grid]),
    }


def utc_day(session: Session) -> ColumnElement[object]:
    """The UTC date of ``created_at`` (stored as UTC): text ``YYYY-MM-DD`` on SQLite, a ``date`` on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(col(Event.created_at), Date)
    return func.date(col(Event.created_at))


def rebuild(session: Session) -> None:
    """Recount the tally from the events themselves (after a bulk load that bypassed intake): one pass per dimension."""
    session.execute(delete(TABLE))
    day = utc_day(session)
    for dimension, (key, only) in event_groups().items():
        counted = (
            select(col(Event.town_code), literal_column(f"'{dimension}'"), day, key, *sums(session))
            .where(*only)
            .group_by(col(Event.town_code), day, key)
        )
        session.execute(insert(TABLE).from_select([*KEY, *SUMS], counted))
