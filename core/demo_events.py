"""Demo events for the demo town: departments, the safety scenario switched on, and cases in every state.

Each case is reported and walked through the real lifecycle (:func:`act`),
backdated over the last weeks, so the dashboard, the timelines and the
assessment show what a town in operation sees. Skipped when the town already
has departments, so ``jiceng demo`` stays idempotent.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel, within
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.enablement import record_change
from jiceng.core.events.actions import ActionIn, act
from jiceng.core.events.intake import EventIn, intake
from jiceng.core.events.models import Channel, Department, DepartmentMember, Event
from jiceng.core.events.types import town_types
from jiceng.core.permissions.checker import Authorizer
from jiceng.core.users import get_user
from jiceng.core.web.context import Caller
from jiceng.plugins.manifest import EventTypeDecl, Manifest

DEPARTMENTS = (("urban", "城管办"), ("judicial", "司法所"), ("safety", "应急办"), ("market", "市场监管所"))
SCENARIOS = ("notices", "safety")
CASES = 120
TITLES = {
    "safety.hazard": ("楼道堆放杂物", "电动车楼道充电", "燃气管道老化", "外墙瓷砖松动", "消防通道被占"),
    "safety.dispute": ("邻里漏水纠纷", "停车位纠纷", "装修噪音纠纷", "物业费纠纷", "宠物扰民"),
}
ATTRIBUTES = {
    "safety.hazard": lambda rng: {"hazard": rng.choice(("fire", "gas", "electric", "building", "other"))},
    "safety.dispute": lambda rng: {"dispute_kind": rng.choice(("neighbour", "family", "property", "labour"))},
}
#: how far each case gets: most are done, some wait at each step, a few were reworked or extended
PATHS = (
    ((), 12),
    (("accept",), 8),
    (("accept", "dispatch"), 10),
    (("accept", "dispatch", "start"), 14),
    (("accept", "dispatch", "start", "request_extension", "approve_extension"), 6),
    (("accept", "dispatch", "start", "resolve"), 10),
    (("accept", "dispatch", "start", "resolve", "verify"), 28),
    (("accept", "dispatch", "start", "resolve", "rework", "resolve", "verify"), 6),
    (("accept", "dispatch", "start", "resolve", "verify", "evaluate"), 20),
    (("reject",), 6),
)


def load_events(
    session: Session, settings: Settings, town: Area, manifests: list[Manifest], *, actor: str, seed: int = 5
) -> dict[str, int]:
    """Departments, scenario switches and :data:`CASES` events in ``town``; nothing when it has departments."""
    if session.exec(select(Department).where(col(Department.town_code) == town.code)).first():
        return {}
    for code, name in DEPARTMENTS:
        session.add(Department(town_code=town.code, code=code, name=name))
    session.flush()
    departments = {d.code: d for d in session.exec(select(Department).where(col(Department.town_code) == town.code))}
    for code in ("urban", "safety", "judicial"):
        session.add(DepartmentMember(department_id=departments[code].id, username="handler"))  # type: ignore[arg-type]
    for scenario in SCENARIOS:
        record_change(session, area_code=town.code, scenario_id=scenario, enabled=True, actor=actor)
    types = town_types(manifests, SCENARIOS, settings, town.code)
    grids = session.exec(
        select(Area).where(within(col(Area.path), [town.path]), col(Area.level) == AreaLevel.grid)
    ).all()
    people = _callers(session, ("grid_worker", "dispatcher", "handler", "resident"))
    rng = random.Random(seed)
    plan = [path for path, weight in PATHS for _ in range(weight)]
    now = utcnow()
    for i in range(CASES):
        code = rng.choice(sorted(TITLES))
        steps = plan[i % len(plan)]
        finished = steps[-1:] in (("verify",), ("evaluate",), ("reject",))
        reported = now - timedelta(days=rng.uniform(0.2, 40 if finished else 4))
        _walk(session, settings, types[code], rng.choice(grids), town, code, reported, steps, people, rng, now)
    return {"departments": len(DEPARTMENTS), "events": CASES}


def _callers(session: Session, usernames: tuple[str, ...]) -> dict[str, Caller]:
    authorizer = Authorizer()
    authorizer.refresh(session)
    return {u: Caller(get_user(session, u), authorizer.grants(session, u), "session") for u in usernames}


def _walk(
    session: Session,
    settings: Settings,
    event_type: EventTypeDecl,
    grid: Area,
    town: Area,
    code: str,
    reported: datetime,
    steps: tuple[str, ...],
    people: dict[str, Caller],
    rng: random.Random,
    now: datetime,
) -> Event:
    data = EventIn(type=code, title=rng.choice(TITLES[code]), area=grid.code, attributes=ATTRIBUTES[code](rng))
    event = intake(
        session,
        settings,
        data=data,
        area=grid,
        town=town,
        event_type=event_type,
        attributes=data.attributes,
        related=[],
        channel=Channel.grid,
        reporter="grid_worker",
        source="grid_worker",
        now=reported,
        suggested_department=event_type.department,
    )
    moment = reported
    for name in steps:
        moment = min(moment + timedelta(hours=rng.uniform(0.5, 30)), now)
        step = ActionIn(
            note=NOTES.get(name, ""), hours=16 if name == "request_extension" else None, rating=rng.randint(3, 5)
        )
        act(session, settings, people[ACTORS.get(name, "dispatcher")], event, name, step, event_type, now=moment)
    return event


ACTORS = {"start": "handler", "resolve": "handler", "request_extension": "handler", "evaluate": "grid_worker"}
NOTES = {
    "reject": "重复上报",
    "request_extension": "需协调物业",
    "resolve": "已现场处置",
    "rework": "现场复核未整改到位",
}
