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

Every figure follows from the event rows alone (see :mod:`jiceng.core.events.models`), so nothing walks
timelines; and all are sums over events of what each row says but one: whether an open case is due depends on
the cutoff. The event loop keeps those sums per UTC day of report in ``event_tally``
(:mod:`jiceng.core.events.tally`), with every open case that has a deadline counted as due; so a grouping is one
query that adds up, per group, the tally's rows for the UTC days wholly inside the period, the same sums over
the events of the few hours at its ends (the period's days are local, the tally's UTC), and takes away the open
cases whose deadline is not past the cutoff yet, read from a partial index that holds only open cases. A year
of a million events is then some thousands of tally rows and index entries instead of a million events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, func, literal_column, or_, text, union_all
from sqlmodel import Session, col, select

from jiceng.core.area_import import code_length
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import AssessmentWeights
from jiceng.core.db import utcnow
from jiceng.core.events.models import OPEN_CASE_SQL, Department, Event
from jiceng.core.events.tally import SUMS, TABLE, count_if, event_groups, sums
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
HOUR_US = 3_600_000_000


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
        handling_hours=float(row.handling_us) / HOUR_US / int(row.timed) if row.timed else None,
        satisfaction=rates["satisfaction"],
        score=score(rates, weights),
    )


def whole_days(start: datetime, end: datetime) -> tuple[date, date, list[tuple[datetime, datetime]]]:
    """The UTC days ``[first, last)`` wholly inside ``[start, end)``, and the slices of it outside them."""
    first = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
    last = end.date()
    if first >= last:
        return first, first, [(start, end)]
    midnight = [datetime.combine(day, time(0), UTC) for day in (first, last)]
    return first, last, [(a, b) for a, b in ((start, midnight[0]), (midnight[1], end)) if a < b]


def grouped(
    session: Session, by: Grouping, level: AreaLevel, town: Area, period: Period, cutoff: datetime
) -> Select[Any]:
    """The one query of a grouping: the tally's days, the events at the period's ends, the open cases not due.

    Each part sums per stored key (department id, reporter, area path); the few rows of the parts are then
    summed per group (for areas, the path's prefix at the level's depth: codes have a fixed length per level),
    so the many rows are grouped on a plain column, and the labels are joined to the groups.
    """
    start, end = period.bounds()
    first, last, ends = whole_days(start, end)
    zero = literal_column("0")
    kept = TABLE.c
    days = (
        select(kept.key.label("grp"), *(func.sum(kept[name]).label(name) for name in SUMS))
        .add_columns(zero.label("not_due"), zero.label("not_due_extended"))
        .where(kept.town_code == town.code, kept.dimension == str(by), kept.day >= first, kept.day < last)
        .group_by(kept.key)
    )
    key, only = event_groups()[str(by)]
    created, in_town = col(Event.created_at), [col(Event.town_code) == town.code, *only]
    not_due = (  # the open cases with a deadline that is not due yet: the tally counts them all as due
        select(key.label("grp"), *(zero.label(name) for name in SUMS))
        .add_columns(func.count().label("not_due"), count_if(col(Event.extension_count) > 0).label("not_due_extended"))
        .where(*in_town, text(OPEN_CASE_SQL), created >= start, created < end, col(Event.deadline) >= cutoff)
        .group_by(key)
    )
    parts = [days, not_due]
    if ends:
        parts.append(
            select(key.label("grp"), *sums(session))
            .add_columns(zero.label("not_due"), zero.label("not_due_extended"))
            .where(*in_town, or_(*(and_(created >= a, created < b) for a, b in ends)))
            .group_by(key)
        )
    both = union_all(*parts).subquery()

    def sum_of(name: str) -> ColumnElement[int]:
        return func.sum(both.c[name])

    group: ColumnElement[str] = both.c.grp
    if by == Grouping.area:
        depth = len(town.path) + sum(code_length(lv) + 1 for lv in AREA_LEVELS[1 : AREA_LEVELS.index(level) + 1])
        group = func.substr(group, literal_column("1"), literal_column(str(depth)))
    totals = (
        select(
            group.label("grp"),
            *(sum_of(name).label(name) for name in SUMS),
            (sum_of("closed") + sum_of("open_dated") - sum_of("not_due")).label("due"),
            (sum_of("closed_extended") + sum_of("open_dated_extended") - sum_of("not_due_extended")).label("extended"),
        )
        .group_by(group)
        .having(sum_of("reported") > 0)  # a group whose events all moved on leaves its tally rows at zero
        .subquery()
    )
    counted = [c for c in totals.c if c.name != "grp"]
    if by == Grouping.department:
        named = select(col(Department.code).label("key"), col(Department.name).label("label"), *counted)
        return named.join(Department, cast(col(Department.id), String) == totals.c.grp)
    if by == Grouping.grid_worker:
        named = select(totals.c.grp.label("key"), col(User.display_name).label("label"), *counted)
        return named.outerjoin(User, col(User.username) == totals.c.grp)
    named = select(func.coalesce(col(Area.code), totals.c.grp).label("key"), col(Area.name).label("label"), *counted)
    return named.outerjoin(Area, col(Area.path) == totals.c.grp)


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
    cutoff = min(period.bounds()[1], now or utcnow())
    shares = normalised(weights)
    rows = [
        figures(row, row.key, row.label or row.key, shares)
        for row in session.exec(grouped(session, by, level, town, period, cutoff)).all()  # type: ignore[call-overload]
    ]
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.key))
    return Assessment(town.code, by, level if by == Grouping.area else None, period, shares, rows)
