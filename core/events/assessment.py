"""Assessment (考核): how well a town's departments, grid workers and areas closed their events in a period.

The figures follow GB/T 30428's 综合评价 and the issue's definitions. The period is ``[start, end)`` in local
dates; an event belongs to it when it was *created* inside it, so a period's figures describe the work that
came in during it and keep changing while that work is still open. For one town, per group:

- **reported**: every event of the group (for a grid worker: everything they found).
- **cases** (受理数): events accepted for handling, i.e. every state but ``reported`` and ``rejected``.
- **closed** (结案数): cases that are ``closed`` or ``evaluated``.
- **due** (应结案数): cases whose deadline has passed by ``min(end, now)``, plus the closed ones.
- **extended** (延期数): due cases that were extended at least once.
- **on time** (按期结案数): closed cases resolved by their deadline and never extended.
- **closure rate** = closed / cases.
- **on-time closure rate** = on time / (due − extended), the issue's 按期结案数 / (应结案数 − 延期数).
- **rework rate** = closed cases sent back for rework at least once / closed.
- **first-time completion rate** = closed cases never reworked nor returned / closed.
- **extension rate** = extended / cases.
- **average handling time**: the mean of ``resolved_at − dispatched_at`` over the closed cases, in hours.
- **satisfaction** = mean resident rating / 5, over the rated cases.
- **score** (0–100) = Σ weight × rate, with the rates as percentages, the rework rate counted as
  100 − rework rate, and the weights of ``[events.weights]`` normalised to sum to 1.

A rate whose denominator is 0 does not apply (``None``, shown as "—"): it is left out of the score and the
other weights are normalised again; with no rate applicable there is no score.

Groups: per department (events dispatched to it; events with no department, not yet dispatched or returned to
the command centre, belong to none), per grid worker (the reporters of events found in the grid, channel
``grid``) and per area at a level (town, community or grid: the prefix of ``area_path`` at that depth; events
placed above that level form the row of the area they were placed at).

Every grouping is one grouped query over the ``event`` table with conditional sums: the figures are kept on the
event row (see :mod:`jiceng.core.events.models`), so nothing walks timelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal_column, not_, or_
from sqlmodel import Session, col, select

from jiceng.core.area_import import code_length
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import AssessmentWeights
from jiceng.core.db import utcnow
from jiceng.core.events.models import DONE_STATES, Channel, Department, Event, State
from jiceng.core.users import User


class Grouping(StrEnum):
    department = "department"
    grid_worker = "grid_worker"
    area = "area"


#: The levels an area assessment can group by, below the town's command centre.
AREA_LEVELS = (AreaLevel.town, AreaLevel.community, AreaLevel.grid)
#: The rates of the score, by their weight's name in ``[events.weights]``.
RATES = ("closure", "on_time", "first_time", "rework", "satisfaction")
#: The counts the grouped query sums, by their name in :class:`Figures`.
COUNTS = ("reported", "cases", "closed", "due", "extended", "on_time", "reworked", "first_time", "rated")


@dataclass(frozen=True)
class Period:
    """Local dates ``[start, end)``; the zone is the town calendar's (``[events.calendar] utc_offset_hours``)."""

    start: date
    end: date
    utc_offset_hours: int = 8

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants, the only kind the database stores."""
        zone = timezone(timedelta(hours=self.utc_offset_hours))
        start, end = (datetime.combine(day, time(0), zone).astimezone(UTC) for day in (self.start, self.end))
        return start, end

    @classmethod
    def month_of(cls, now: datetime, utc_offset_hours: int = 8) -> Period:
        """The local calendar month ``now`` falls in: the default period."""
        today = now.astimezone(timezone(timedelta(hours=utc_offset_hours))).date()
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following, utc_offset_hours)


@dataclass(frozen=True)
class Figures:
    """One row of the assessment: the counts, the rates (percentages, ``None`` when not applicable) and the score."""

    key: str  # the department's code, the grid worker's username, the area's code
    label: str  # the department's name, the grid worker's display name, the area's name
    reported: int
    cases: int
    closed: int
    due: int
    extended: int
    on_time: int
    reworked: int
    first_time: int
    rated: int
    closure_rate: float | None
    on_time_rate: float | None
    rework_rate: float | None
    first_time_rate: float | None
    extension_rate: float | None
    handling_hours: float | None
    satisfaction: float | None
    score: float | None


@dataclass(frozen=True)
class Assessment:
    town: str
    by: Grouping
    level: AreaLevel | None  # for ``by=area`` only
    period: Period
    weights: dict[str, float]  # normalised, by rate
    rows: list[Figures]  # best score first; rows without a score last


def normalised(weights: AssessmentWeights) -> dict[str, float]:
    """The configured weights scaled to sum to 1 (all zero: equal weights, so a score still means something)."""
    raw = {name: float(getattr(weights, name)) for name in RATES}
    total = sum(raw.values())
    return {name: (w / total if total else 1 / len(raw)) for name, w in raw.items()}


def score(rates: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Σ weight × rate over the applicable rates, the weights normalised again over them; ``None`` if none apply."""
    applicable = {name: rate for name, rate in rates.items() if rate is not None and weights[name] > 0}
    total = sum(weights[name] for name in applicable)
    if not total:
        return None
    return sum(weights[name] * rate for name, rate in applicable.items()) / total


def ratio(part: int, whole: int) -> float | None:
    """``part / whole`` as a percentage, or ``None`` when there is nothing to divide by."""
    return 100 * part / whole if whole else None


def handling_hours(session: Session) -> ColumnElement[float]:
    """``resolved_at − dispatched_at`` in hours, in the dialect's own date arithmetic (SQLite or PostgreSQL)."""
    resolved, dispatched = col(Event.resolved_at), col(Event.dispatched_at)
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(resolved) - func.julianday(dispatched)) * 24
    return func.extract("epoch", resolved - dispatched) / 3600


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def sums(session: Session, cutoff: datetime) -> list[Any]:
    """The conditional sums every grouping selects, labelled as :class:`Figures` (and a few helpers) name them."""
    state = col(Event.state)
    deadline, resolved = col(Event.deadline), col(Event.resolved_at)
    is_case = not_(state.in_([State.reported, State.rejected]))
    closed = state.in_(DONE_STATES)
    due = and_(is_case, or_(closed, and_(deadline.is_not(None), deadline < cutoff)))
    extended = and_(due, col(Event.extension_count) > 0)
    timed = and_(closed, resolved.is_not(None), col(Event.dispatched_at).is_not(None))
    rated = and_(is_case, col(Event.rating).is_not(None))
    return [
        func.count().label("reported"),
        count_if(is_case).label("cases"),
        count_if(closed).label("closed"),
        count_if(due).label("due"),
        count_if(extended).label("extended"),
        count_if(and_(closed, resolved <= deadline, col(Event.extension_count) == 0)).label("on_time"),
        count_if(and_(closed, col(Event.rework_count) > 0)).label("reworked"),
        count_if(and_(closed, col(Event.rework_count) == 0, col(Event.return_count) == 0)).label("first_time"),
        count_if(timed).label("timed"),
        func.sum(case((timed, handling_hours(session)), else_=0)).label("hours"),
        count_if(rated).label("rated"),
        func.sum(case((rated, col(Event.rating)), else_=0)).label("rating_sum"),
    ]


def figures(row: Any, key: str, label: str, weights: dict[str, float]) -> Figures:
    """One result row of the grouped query, with its rates and score worked out."""
    n = {name: int(getattr(row, name)) for name in COUNTS}
    rework_rate = ratio(n["reworked"], n["closed"])
    rates = {
        "closure": ratio(n["closed"], n["cases"]),
        "on_time": ratio(n["on_time"], n["due"] - n["extended"]),
        "first_time": ratio(n["first_time"], n["closed"]),
        "rework": None if rework_rate is None else 100 - rework_rate,
        "satisfaction": 100 * float(row.rating_sum) / (5 * n["rated"]) if n["rated"] else None,
    }
    return Figures(
        key=key,
        label=label,
        **n,
        closure_rate=rates["closure"],
        on_time_rate=rates["on_time"],
        rework_rate=rework_rate,
        first_time_rate=rates["first_time"],
        extension_rate=ratio(n["extended"], n["cases"]),
        handling_hours=float(row.hours) / row.timed if row.timed else None,
        satisfaction=rates["satisfaction"],
        score=score(rates, weights),
    )


def grouped(
    session: Session,
    by: Grouping,
    level: AreaLevel,
    town: Area,
    conditions: list[ColumnElement[bool]],
    cutoff: datetime,
) -> Select[Any]:
    """The one query of a grouping: the sums grouped over ``event`` alone, then each group's ``key`` and ``label``.

    The names are joined to the grouped rows, not to the events, so the events are read in one pass.
    """
    group: ColumnElement[Any]
    if by == Grouping.department:
        group, only = col(Event.department_id), [col(Event.department_id).is_not(None)]
    elif by == Grouping.grid_worker:
        group, only = col(Event.reporter), [col(Event.channel) == Channel.grid]
    else:  # the path's prefix at the level's depth (codes have a fixed length per level, see area_import)
        depth = len(town.path) + sum(code_length(lv) + 1 for lv in AREA_LEVELS[1 : AREA_LEVELS.index(level) + 1])
        group, only = func.substr(col(Event.area_path), literal_column("1"), literal_column(str(depth))), []
    inner = select(group.label("grp"), *sums(session, cutoff)).where(*conditions, *only).group_by(group).subquery()
    counted = [c for c in inner.c if c.name != "grp"]
    if by == Grouping.department:
        named = select(col(Department.code).label("key"), col(Department.name).label("label"), *counted)
        return named.join(Department, col(Department.id) == inner.c.grp)
    if by == Grouping.grid_worker:
        named = select(inner.c.grp.label("key"), col(User.display_name).label("label"), *counted)
        return named.outerjoin(User, col(User.username) == inner.c.grp)
    named = select(func.coalesce(col(Area.code), inner.c.grp).label("key"), col(Area.name).label("label"), *counted)
    return named.outerjoin(Area, col(Area.path) == inner.c.grp)


def assess(
    session: Session,
    town: Area,
    by: Grouping,
    period: Period,
    weights: AssessmentWeights,
    *,
    level: AreaLevel = AreaLevel.community,
    now: datetime | None = None,
) -> Assessment:
    """The town's assessment for ``period``, grouped ``by`` department, grid worker or area (at ``level``)."""
    start, end = period.bounds()
    cutoff = min(end, now or utcnow())
    conditions = [col(Event.town_code) == town.code, col(Event.created_at) >= start, col(Event.created_at) < end]
    shares = normalised(weights)
    rows = [
        figures(row, row.key, row.label or row.key, shares)
        for row in session.exec(grouped(session, by, level, town, conditions, cutoff)).all()  # type: ignore[call-overload]
    ]
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.key))
    return Assessment(town.code, by, level if by == Grouping.area else None, period, shares, rows)
