"""The assessment's tally follows every report and step exactly, and the assessment read from it is the direct one.

After each step of events walked through the API, every detour included, the kept tally must equal a rebuild from
the events (so maintenance cannot drift from what the events say), and the assessment must equal figures worked
out here in Python from the events themselves, the definitions of :mod:`jiceng.core.events.assessment` applied
one event at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlmodel import Session, col

from jiceng.core.area_import import code_length
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import AssessmentWeights, Settings
from jiceng.core.db import transaction, utcnow
from jiceng.core.events import counts, tally
from jiceng.core.events.assessment import Grouping, Period, assess
from jiceng.core.events.models import DONE_STATES, Channel, Department, Event, EventStateCount, EventTally, State
from jiceng.core.sample_world import COMMUNITY_A1, DISTRICT, GRID_A2, TOWN_A, make_user
from tests.test_events import client_as_user, jiceng_settings, report, step, town  # noqa: F401  (fixtures)

Client = Callable[..., TestClient]
COUNTED = ("reported", "cases", "closed", "due", "extended", "on_time", "reworked", "first_time", "rated")


def kept(session: Session) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """The tally's rows that count anything (a row moved back to nothing stays, all zeros)."""
    rows = session.execute(select(*(tally.TABLE.c[name] for name in (*tally.KEY, *tally.SUMS)))).all()
    return {tuple(row[:4]): tuple(row[4:]) for row in rows if any(row[4:])}


def check_tally(engine: Engine) -> None:
    with Session(engine) as session:
        maintained = kept(session)
        tally.rebuild(session)
        assert maintained == kept(session)
        session.rollback()  # the next steps go on moving the maintained rows


def direct(session: Session, area: Area, by: Grouping, period: Period, cutoff: datetime) -> dict[str, tuple[Any, ...]]:
    """The figures of every group, worked out event by event in Python: (counts…, handling hours, satisfaction)."""
    start, end = period.bounds()
    departments = {d.id: d.code for d in session.exec(select(Department)).scalars()}
    areas = {a.path: a.code for a in session.exec(select(Area)).scalars()}
    depth = len(area.path) + sum(code_length(level) + 1 for level in (AreaLevel.community, AreaLevel.grid))
    groups: dict[str, list[Event]] = defaultdict(list)
    for event in session.exec(select(Event).where(col(Event.town_code) == area.code)).scalars():
        if not start <= tally.utc(event.created_at) < end:
            continue
        if by == Grouping.department and event.department_id is not None:
            groups[departments[event.department_id]].append(event)
        elif by == Grouping.grid_worker and event.channel == Channel.grid:
            groups[event.reporter].append(event)
        elif by == Grouping.area:
            prefix = event.area_path[:depth]
            groups[areas.get(prefix, prefix)].append(event)
    found = {}
    for key, events in groups.items():
        n: dict[str, int] = dict.fromkeys(COUNTED, 0)
        hours: list[float] = []
        ratings: list[int] = []
        for e in events:
            resolved, dispatched, deadline = (
                None if t is None else tally.utc(t) for t in (e.resolved_at, e.dispatched_at, e.deadline)
            )
            case, closed = e.state not in (State.reported, State.rejected), e.state in DONE_STATES
            due = case and (closed or (deadline is not None and deadline < cutoff))
            n["reported"] += 1
            n["cases"] += case
            n["closed"] += closed
            n["due"] += due
            n["extended"] += due and e.extension_count > 0
            n["on_time"] += bool(closed and resolved and deadline and resolved <= deadline and e.extension_count == 0)
            n["reworked"] += closed and e.rework_count > 0
            n["first_time"] += closed and e.rework_count == 0 and e.return_count == 0
            if case and e.rating is not None:
                n["rated"] += 1
                ratings.append(e.rating)
            if closed and resolved and dispatched:
                hours.append((resolved - dispatched).total_seconds() / 3600)
        satisfaction = 100 * sum(ratings) / (5 * len(ratings)) if ratings else None
        found[key] = (*n.values(), sum(hours) / len(hours) if hours else None, satisfaction)
    return found


def check_assessment(engine: Engine, now: datetime) -> None:
    """Periods with whole UTC days and ends, and one too short for a whole day; before and after the deadlines."""
    today = (now + timedelta(hours=8)).date()
    cases = [
        (Period(today - timedelta(days=1), today + timedelta(days=2)), now),
        (Period(today, today + timedelta(days=1)), now),
        (Period(today - timedelta(days=1), today + timedelta(days=90)), now + timedelta(days=60)),
    ]
    with Session(engine) as session:
        town_a = session.get(Area, TOWN_A)
        assert town_a is not None
        for period, at in cases:
            cutoff = min(period.bounds()[1], at)
            for by in Grouping:
                result = assess(session, town_a, by, period, AssessmentWeights(), level=AreaLevel.grid, now=at)
                got = {
                    r.key: (*(getattr(r, name) for name in COUNTED), r.handling_hours, r.satisfaction)
                    for r in result.rows
                }
                expected = direct(session, town_a, by, period, cutoff)
                assert got.keys() == expected.keys(), (period, at, by)
                for key, figures in got.items():
                    assert list(figures) == pytest.approx(list(expected[key])), (period, at, by, key)


def test_every_step_keeps_the_tally_and_the_assessment_exact(
    client_as: Client,
    town: dict[str, Any],  # noqa: F811
    jiceng_engine: Engine,
    jiceng_settings: Settings,  # noqa: F811
) -> None:
    grid, dispatcher, handler = client_as("grid_worker"), client_as("dispatcher"), client_as("handler")
    resident, leader = client_as("resident"), client_as("leader")
    with transaction(jiceng_engine) as s:
        make_user(s, jiceng_settings, "district_centre", "dispatcher", DISTRICT)
    district = client_as_user(client_as, "district_centre")

    def walk(client: TestClient, event: dict[str, Any], action: str, **values: Any) -> None:
        answer = step(client, event, action, **values)
        assert answer.status_code == 200, (action, answer.text)
        check_tally(jiceng_engine)
        check_assessment(jiceng_engine, utcnow())

    def reported(client: TestClient, **values: Any) -> dict[str, Any]:
        answer = report(client, **values)
        assert answer.status_code == 201, answer.text
        check_tally(jiceng_engine)
        return answer.json()

    fixed = reported(grid)
    rejected = reported(dispatcher, area=GRID_A2)
    detour = reported(grid, type="local.noise", title="夜间施工噪音")
    portal = reported(resident, area=COMMUNITY_A1, title="小区门口积水")
    reported(grid, title="还没人受理")
    check_assessment(jiceng_engine, utcnow())

    walk(dispatcher, fixed, "accept")
    walk(dispatcher, fixed, "dispatch")
    walk(handler, fixed, "start")
    walk(handler, fixed, "request_extension", hours=8, note="等待沥青")
    walk(dispatcher, fixed, "approve_extension")
    walk(handler, fixed, "resolve", note="已填平")
    walk(dispatcher, fixed, "rework", note="边缘未压实")
    walk(handler, fixed, "resolve", note="已压实")
    walk(dispatcher, fixed, "verify")
    walk(grid, fixed, "evaluate", rating=4)

    walk(dispatcher, rejected, "reject", note="重复上报")

    walk(dispatcher, detour, "accept")
    walk(dispatcher, detour, "dispatch", department="judicial")
    walk(dispatcher, detour, "reassign", department="urban", note="属城管职责")
    walk(handler, detour, "return", note="应由派出所处理")
    walk(dispatcher, detour, "escalate", note="涉及多个街道")
    walk(district, detour, "dispatch", department="urban")
    walk(handler, detour, "start")
    walk(handler, detour, "request_extension", hours=4, note="夜间才能查")
    walk(district, detour, "deny_extension", note="白天处理")
    walk(leader, detour, "urge", note="请加快")
    walk(handler, detour, "resolve", note="已停工")
    walk(district, detour, "verify")

    walk(dispatcher, portal, "accept")
    walk(dispatcher, portal, "dispatch", department="urban")
    walk(handler, portal, "start")
    walk(handler, portal, "resolve", note="已疏通")
    walk(dispatcher, portal, "verify")
    walk(resident, portal, "evaluate", rating=2)

    with Session(jiceng_engine) as session:
        towns = {key[0] for key in kept(session)}
        dimensions = {key[1] for key in kept(session)}
    assert towns == {TOWN_A} and dimensions == {"area", "department", "grid_worker"}


def nonzero(found: dict[str, int]) -> dict[str, int]:
    return {state: n for state, n in found.items() if n}


def test_recount_rebuilds_the_counts_and_the_tally(
    client_as: Client,
    town: dict[str, Any],  # noqa: F811
    jiceng_engine: Engine,
    cli: Callable[..., Any],
) -> None:
    grid, dispatcher = client_as("grid_worker"), client_as("dispatcher")
    event = report(grid).json()
    step(dispatcher, event, "accept")
    step(dispatcher, event, "dispatch")
    with Session(jiceng_engine) as session:
        expected = (kept(session), nonzero(counts.of_town(session, TOWN_A)))
    with transaction(jiceng_engine) as session:  # as after a bulk load that bypassed intake
        session.execute(delete(EventTally))
        session.execute(delete(EventStateCount))
    recounted = cli("events", "recount")
    assert recounted.exit_code == 0, recounted.output
    assert "1" in recounted.output
    with Session(jiceng_engine) as session:
        assert (kept(session), nonzero(counts.of_town(session, TOWN_A))) == expected
