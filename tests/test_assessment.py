"""The assessment (考核) of March 2025 in town A, for a scripted set of events whose figures are worked out by hand.

Times are UTC; the period is local (UTC+8): March 2025 is [2025-02-28T16:00Z, 2025-03-31T16:00Z). The period
is in the past, so an event is due when it is closed or its deadline has passed by the period's end.

    event  dept      reporter (channel)    area         state      dispatched→resolved  deadline  ext rew ret rating
    U1     urban     grid_worker (grid)    GRID_A1      evaluated  03-03 00→03-03 10    03-04     0   0   0   5
    U2     urban     grid_worker (grid)    GRID_A1      closed     03-05 00→03-06 06    03-06     0   1   0   -
    U3     urban     resident (portal)     GRID_A2      evaluated  03-07 00→03-08 20    03-09     1   0   1   3
    U4     urban     grid2 (grid)          GRID_A2      handling   03-10 00             03-12     0   0   0   -
    U5     urban     grid2 (grid)          GRID_A2      handling   03-10 00             04-05     2   0   0   -
    J1     judicial  grid_worker (grid)    GRID_A1      closed     03-12 00→03-12 04    03-13     0   0   0   -
    J2     judicial  dispatcher (hotline)  GRID_A1      dispatched 03-14 00             04-10     0   0   0   -
    N1     -         grid_worker (grid)    GRID_A1      reported
    N2     -         grid2 (grid)          GRID_A2      rejected
    N3     -         resident (portal)     COMMUNITY_A2 accepted
    N4     -         grid2 (grid)          GRID_A2      reported   created at 2025-02-28T16:00Z: the period's first instant
    N5     -         grid3 (grid)          GRID_A2      reported
    out of the period or the town: O1 (created 02-28T15:00Z), O2 (created 03-31T16:00Z), B1 (town B)

U2 was resolved 6 hours after its deadline; U3's deadline is the one its extension gave it. Handling hours:
U1 10, U2 30, U3 44, J1 4. The default weights: closure .2, on time .3, first time .2, rework .1, satisfaction .2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from jiceng.core.areas import Area, AreaLevel
from jiceng.core.audit import AuditEntry
from jiceng.core.config import AssessmentWeights, Settings
from jiceng.core.db import transaction
from jiceng.core.events.assessment import Grouping, Period, assess
from jiceng.core.events.models import Channel, Department, Event, State
from jiceng.core.sample_world import (
    COMMUNITY_A1,
    COMMUNITY_A2,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    PASSWORD,
    TOWN_A,
    TOWN_B,
    make_user,
)
from jiceng.core.web.app import create_app

Client = Callable[..., TestClient]
MARCH = "start=2025-03-01&end=2025-04-01"


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def scripted(jiceng_engine: Engine, jiceng_world: None, jiceng_settings: Settings) -> None:
    """The events of the table above, written straight to the database for exact timestamps and counts."""
    with transaction(jiceng_engine) as s:
        make_user(s, jiceng_settings, "grid2", "grid_worker", GRID_A2)
        make_user(s, jiceng_settings, "grid3", "grid_worker", GRID_A2)
        urban = Department(town_code=TOWN_A, code="urban", name="城管办")
        judicial = Department(town_code=TOWN_A, code="judicial", name="司法所")
        s.add_all([urban, judicial])
        s.flush()
        paths = {a.code: a.path for a in s.exec(select(Area)).all()}
        number = iter(range(1, 100))

        def event(area: str, reporter: str, channel: Channel, state: State, **values: Any) -> None:
            town = TOWN_B if area == GRID_B1 else TOWN_A
            values.setdefault("created_at", at(3, 2))
            s.add(
                Event(
                    code=f"SJ-20250302-{next(number):04d}",
                    town_code=town,
                    type_code="local.pothole",
                    category="city_appearance",
                    title="测试事件",
                    area_code=area,
                    area_path=paths[area],
                    owner_path=paths[town],
                    channel=channel,
                    reporter=reporter,
                    state=state,
                    **values,
                )
            )

        def handled(department: Department, dispatched: datetime, deadline: datetime, **values: Any) -> dict[str, Any]:
            return {"department_id": department.id, "dispatched_at": dispatched, "deadline": deadline, **values}

        grid, portal = Channel.grid, Channel.portal
        event(GRID_A1, "grid_worker", grid, State.evaluated, **handled(urban, at(3, 3), at(3, 4), resolved_at=at(3, 3, 10), rating=5))  # fmt: skip
        event(GRID_A1, "grid_worker", grid, State.closed, **handled(urban, at(3, 5), at(3, 6), resolved_at=at(3, 6, 6), rework_count=1))  # fmt: skip
        event(GRID_A2, "resident", portal, State.evaluated, **handled(urban, at(3, 7), at(3, 9), resolved_at=at(3, 8, 20), extension_count=1, return_count=1, rating=3))  # fmt: skip
        event(GRID_A2, "grid2", grid, State.handling, **handled(urban, at(3, 10), at(3, 12)))
        event(GRID_A2, "grid2", grid, State.handling, **handled(urban, at(3, 10), at(4, 5), extension_count=2))
        event(GRID_A1, "grid_worker", grid, State.closed, **handled(judicial, at(3, 12), at(3, 13), resolved_at=at(3, 12, 4)))  # fmt: skip
        event(GRID_A1, "dispatcher", Channel.hotline, State.dispatched, **handled(judicial, at(3, 14), at(4, 10)))
        event(GRID_A1, "grid_worker", grid, State.reported)
        event(GRID_A2, "grid2", grid, State.rejected)
        event(COMMUNITY_A2, "resident", portal, State.accepted)
        event(GRID_A2, "grid2", grid, State.reported, created_at=at(2, 28, 16))
        event(GRID_A2, "grid3", grid, State.reported)
        closed_before = handled(urban, at(2, 28, 15), at(3, 1), resolved_at=at(2, 28, 16))
        event(GRID_A1, "grid_worker", grid, State.closed, created_at=at(2, 28, 15), **closed_before)
        event(GRID_A1, "grid_worker", grid, State.reported, created_at=at(3, 31, 16))
        event(GRID_B1, "grid_worker_b", grid, State.closed, resolved_at=at(3, 3), dispatched_at=at(3, 2))


def rows(client: TestClient, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/api/towns/{TOWN_A}/assessment?{MARCH}&{query}")
    assert answer.status_code == 200, answer.text
    return answer.json()["rows"]


FIGURES = ("reported", "cases", "closed", "due", "extended", "on_time")
RATES = ("closure_rate", "on_time_rate", "rework_rate", "first_time_rate", "extension_rate", "handling_hours")


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    """(key, counts…, rates…, satisfaction, score) of one row, in the order the tests below write them."""
    return (row["key"], *(row[f] for f in FIGURES), *(row[r] for r in RATES), row["satisfaction"], row["score"])


def test_per_department(client_as: Client, scripted: None) -> None:
    answer = client_as("dispatcher").get(f"/api/towns/{TOWN_A}/assessment?{MARCH}")
    body = answer.json()
    assert (body["by"], body["start"], body["end"]) == ("department", "2025-03-01", "2025-04-01")
    assert [figures(r) for r in body["rows"]] == [
        # judicial: J1 closed in 4 h (due 1, on time 1), J2 not due yet; no rating, so satisfaction does not apply.
        # score = (.2×50 + .3×100 + .2×100 + .1×(100 − 0)) / (.2 + .3 + .2 + .1) = 70 / .8
        ("judicial", 2, 2, 1, 1, 0, 1, 50.0, 100.0, 0.0, 100.0, 0.0, 4.0, None, 87.5),
        # urban: closed U1–U3 of 5 = 60; due = 3 closed + U4 = 4, extended U3 = 1, on time U1 → 1 / (4 − 1) = 33.3;
        # reworked U2: 1/3; first time U1 only (U3 was returned): 1/3; extension 1/5 = 20; (10 + 30 + 44) / 3 = 28;
        # satisfaction (5 + 3) / 2 / 5 = 80; score = .2×60 + .3×33.33 + .2×33.33 + .1×66.67 + .2×80 = 51.33
        ("urban", 5, 5, 3, 4, 1, 1, 60.0, 33.3, 33.3, 33.3, 20.0, 28.0, 80.0, 51.3),
    ]
    assert body["rows"][1]["label"] == "城管办"


def test_per_grid_worker(client_as: Client, scripted: None) -> None:
    found = rows(client_as("leader"), "by=grid_worker")
    assert [figures(r) for r in found] == [
        # U1, U2, J1 and N1 (not accepted): closed 3/3 = 100, on time U1, J1 → 2 / (3 − 0) = 66.7, reworked U2 1/3,
        # first time 2/3, hours (10 + 30 + 4) / 3 = 14.67, satisfaction 5/5;
        # score = .2×100 + .3×66.67 + .2×66.67 + .1×66.67 + .2×100 = 80
        ("grid_worker", 4, 3, 3, 3, 0, 2, 100.0, 66.7, 33.3, 66.7, 0.0, 14.7, 100.0, 80.0),
        # U4, U5 (not due: its deadline is after the period), N2 rejected, N4 at the period's first instant:
        # nothing closed, so rework, first time, hours, satisfaction do not apply; score = (.2×0 + .3×0) / .5 = 0
        ("grid2", 4, 2, 0, 1, 0, 0, 0.0, 0.0, None, None, 0.0, None, None, 0.0),
        # N5 only, never accepted: no rate applies, so there is no score, and the row comes last
        ("grid3", 1, 0, 0, 0, 0, 0, None, None, None, None, None, None, None, None),
    ]
    assert found[0]["label"] == "Grid Worker"  # the user's display name; residents and the hotline are not here


def test_per_area_at_each_level(client_as: Client, scripted: None) -> None:
    leader = client_as("leader")
    assert [figures(r) for r in rows(leader, "by=area")] == [
        # community A1 holds everything but N3: closed 4 of 7 cases = 57.1; due 4 + U4 = 5, extended U3, on time
        # U1, J1 → 2 / (5 − 1) = 50; reworked U2 1/4; first time U1, J1 2/4; extension 1/7 = 14.3; hours 88 / 4 = 22;
        # score = .2×57.14 + .3×50 + .2×50 + .1×75 + .2×80 = 59.93
        (COMMUNITY_A1, 11, 7, 4, 5, 1, 2, 57.1, 50.0, 25.0, 50.0, 14.3, 22.0, 80.0, 59.9),
        # N3, accepted, no deadline: due 0 − extended 0 = 0, so the on-time rate does not apply; score = closure 0
        (COMMUNITY_A2, 1, 1, 0, 0, 0, 0, 0.0, None, None, None, 0.0, None, None, 0.0),
    ]
    by_grid = rows(leader, "by=area&level=grid")
    assert [figures(r) for r in by_grid] == [
        # U1, U2, J1, J2, N1: closed 3/4 = 75, on time 2/3, reworked 1/3, first time 2/3, hours 44 / 3 = 14.67;
        # score = .2×75 + .3×66.67 + .2×66.67 + .1×66.67 + .2×100 = 75
        (GRID_A1, 5, 4, 3, 3, 0, 2, 75.0, 66.7, 33.3, 66.7, 0.0, 14.7, 100.0, 75.0),
        # U3, U4, U5, N2, N4, N5: closed U3 1/3; due U3, U4, extended U3 → on time 0 / (2 − 1) = 0; U3 was returned,
        # so first time 0/1; extension 1/3; satisfaction 3/5; score = .2×33.33 + .3×0 + .2×0 + .1×100 + .2×60 = 28.67
        (GRID_A2, 6, 3, 1, 2, 1, 0, 33.3, 0.0, 0.0, 0.0, 33.3, 44.0, 60.0, 28.7),
        # N3 was placed at its community, above the grids: its own row
        (COMMUNITY_A2, 1, 1, 0, 0, 0, 0, 0.0, None, None, None, 0.0, None, None, 0.0),
    ]
    assert [r["label"] for r in by_grid] == ["解放碑一社区第1网格", "解放碑一社区第2网格", "解放碑二社区"]
    # the whole town: 12 events, 8 cases (7 + N3), closed 4 → 50; on time 2 / (5 − 1) = 50
    town = rows(leader, "by=area&level=town")
    assert [(r["key"], r["reported"], r["cases"], r["closure_rate"], r["on_time_rate"]) for r in town] == [
        (TOWN_A, 12, 8, 50.0, 50.0)
    ]


def test_weights_from_settings_change_the_score(
    scripted: None, jiceng_engine: Engine, jiceng_settings: Settings
) -> None:
    weights = {"closure": 0, "on_time": 3, "first_time": 0, "rework": 0, "satisfaction": 1}
    events = jiceng_settings.events.model_copy(update={"weights": AssessmentWeights(**weights)})
    app = create_app(jiceng_settings.model_copy(update={"events": events}), jiceng_engine)
    with TestClient(app) as client:
        client.post("/login", data={"username": "dispatcher", "password": PASSWORD})
        body = client.get(f"/api/towns/{TOWN_A}/assessment?{MARCH}").json()
    assert body["weights"] == {"closure": 0, "on_time": 0.75, "first_time": 0, "rework": 0, "satisfaction": 0.25}
    assert [(r["key"], r["score"]) for r in body["rows"]] == [
        ("judicial", 100.0),  # on time 100; satisfaction does not apply, so on time weighs alone
        ("urban", 45.0),  # (3 × 33.33 + 1 × 80) / 4
    ]


def test_the_module_gives_exact_figures(scripted: None, jiceng_engine: Engine) -> None:
    """The dataclasses keep the unrounded values; ``now`` inside the period makes only passed deadlines due."""
    with Session(jiceng_engine) as session:
        town = session.get(Area, TOWN_A)
        assert town is not None
        march = Period(at(3, 1).date(), at(4, 1).date())
        early = assess(session, town, Grouping.department, march, AssessmentWeights(), now=at(3, 11))
        urban = next(r for r in early.rows if r.key == "urban")
        assert urban.due == 3  # U1, U2, U3 closed; U4's deadline (03-12) has not passed yet
        assert urban.on_time_rate == 50  # on time U1 / (due 3 − extended U3)
        later = assess(session, town, Grouping.department, march, AssessmentWeights(), now=at(3, 12, 1))
        urban = next(r for r in later.rows if r.key == "urban")
        assert (urban.due, urban.on_time_rate) == (4, pytest.approx(100 / 3))  # 1 / (4 − 1)
        assert urban.score == pytest.approx(12 + 10 + 20 / 3 + 20 / 3 + 16)  # as in test_per_department
        area = assess(session, town, Grouping.area, march, AssessmentWeights(), level=AreaLevel.community)
        assert [r.key for r in area.rows] == [COMMUNITY_A1, COMMUNITY_A2]


def test_csv_and_xlsx_carry_the_translated_headers_and_the_numbers(
    client_as: Client, scripted: None, jiceng_engine: Engine
) -> None:
    dispatcher = client_as("dispatcher")
    answer = dispatcher.get(f"/api/towns/{TOWN_A}/assessment.csv?{MARCH}&by=grid_worker")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["网格员", "用户名", "综合得分", "上报数"]
    assert table[0][table[0].index("按期结案率（%）")] == "按期结案率（%）"
    assert table[1][:5] == ["Grid Worker", "grid_worker", "80.0", "4", "3"]
    assert table[3][2] == "—"  # grid3 has no score

    english = client_as("leader")
    english.cookies.set("lang", "en")
    header = next(csv.reader(io.StringIO(english.get(f"/api/towns/{TOWN_A}/assessment.csv?{MARCH}").text)))
    assert header[0].removeprefix("\ufeff") == "Department" and "On-time closure rate (%)" in header

    book = dispatcher.get(f"/api/towns/{TOWN_A}/assessment.xlsx?{MARCH}&by=area&level=grid")
    assert book.status_code == 200 and book.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:3] == ["区划", "区划代码", "综合得分"]
    assert values[1][:6] == ["解放碑一社区第1网格", GRID_A1, 75.0, 5, 4, 3]
    assert values[3][values[0].index("按期结案率（%）")] == "—"  # community A2: nothing due

    with Session(jiceng_engine) as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "events.assessment.export")).all()
    assert [(e.actor, e.detail["format"], e.detail["by"]) for e in audited] == [
        ("dispatcher", "csv", "grid_worker"),
        ("leader", "csv", "department"),
        ("dispatcher", "xlsx", "area"),
    ]


def test_only_assessors_see_it(client_as: Client, scripted: None) -> None:
    for role in ("handler", "grid_worker", "resident"):
        client = client_as(role)
        for suffix in ("", ".csv", ".xlsx"):
            assert client.get(f"/api/towns/{TOWN_A}/assessment{suffix}?{MARCH}").status_code == 403, (role, suffix)
    assert client_as("handler").get("/events/assessment").status_code == 403
    assert client_as("dispatcher", TOWN_B).get(f"/api/towns/{TOWN_A}/assessment").status_code == 403
    assert client_as("dispatcher").get(f"/api/towns/{COMMUNITY_A1}/assessment").status_code == 422  # not a town


def test_bad_input_names_the_field(client_as: Client, scripted: None) -> None:
    dispatcher = client_as("dispatcher")
    cases = [
        ("start", "start=2025-13-01"),
        ("start", "start=0001-01-01"),  # a year a datetime in UTC+8 cannot be moved to UTC from
        ("end", "start=2025-03-01&end=2025-02-30"),
        ("end", "start=2025-03-10&end=2025-03-10"),  # the end must come after the start
        ("end", "end=9999-12-31"),
        ("by", "by=person"),
        ("level", "by=area&level=district"),
    ]
    for field, query in cases:
        answer = dispatcher.get(f"/api/towns/{TOWN_A}/assessment.csv?{query}")
        assert answer.status_code == 422, (query, answer.text)
        error = answer.json()["error"]
        assert error["fields"][0]["field"] == field and error["message"] and error["message_en"], query
    page = dispatcher.get(f"/events/assessment?town={TOWN_A}&start=2025-3-1")
    assert page.status_code == 422 and "必须是日期（YYYY-MM-DD）。" in page.text


def test_the_default_period_is_this_month(client_as: Client, scripted: None) -> None:
    today = (datetime.now(UTC) + timedelta(hours=8)).date()
    body = client_as("dispatcher").get(f"/api/towns/{TOWN_A}/assessment").json()
    assert body["start"] == today.replace(day=1).isoformat() and body["end"] > today.isoformat()
    assert body["rows"] == []  # the scripted events are of March 2025


def test_the_page_shows_the_table_charts_and_exports(client_as: Client, scripted: None) -> None:
    page = client_as("dispatcher").get(f"/events/assessment?town={TOWN_A}&{MARCH}")
    assert page.status_code == 200
    html = page.text
    assert "考核" in html and "城管办" in html and "司法所" in html
    assert html.count("<svg") >= 3 and "<script" not in html  # the emblem, then one chart per figure, no JavaScript
    assert "51.3" in html and "87.5" in html
    assert f"/api/towns/{TOWN_A}/assessment.csv?by=department&amp;level=community&amp;start=2025-03-01" in html
    grids = client_as("leader").get(f"/events/assessment?town={TOWN_A}&{MARCH}&by=area&level=grid")
    assert "解放碑一社区第2网格" in grids.text and "28.7" in grids.text
    assert 'name="town"' in grids.text  # the leader's grant covers both towns: the town picker is shown
