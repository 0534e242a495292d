"""Demo data: Chongqing's real area tree, synthetic communities and grids in 渝中区, and demo users.

Idempotent: running it again adds nothing. The communities, grids and people
are made up; the city, districts and streets are the real statistical codes
(see ``demo_data/NOTICE.md`` for their source and licence).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from jiceng.core.area_import import AreaRow, import_areas, import_rows
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import Settings
from jiceng.core.demo_events import load_events
from jiceng.core.demo_records import load_records
from jiceng.core.errors import AppError
from jiceng.core.permissions.service import grant_role
from jiceng.core.users import User, create_user
from jiceng.plugins.manifest import Manifest

DATA = Path(__file__).with_name("demo_data")
CHONGQING = DATA / "areas-chongqing.csv"
DISTRICT = "500103000000"  # 渝中区
TOWN = "500103003000"  # 解放碑街道
DEMO_PASSWORD = "jiceng-demo-2026"
COMMUNITY_NAMES = ("一社区", "二社区", "三社区")
GRIDS_PER_COMMUNITY = 3


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    area_code: str


def demo_users() -> list[DemoUser]:
    community = TOWN[:9] + "001"
    return [
        DemoUser("admin", "平台管理员", "admin", "500000000000"),
        DemoUser("leader", "渝中区领导", "leader", DISTRICT),
        DemoUser("town_admin", "解放碑街道管理员", "town_admin", TOWN),
        DemoUser("dispatcher", "解放碑指挥中心", "dispatcher", TOWN),
        DemoUser("handler", "解放碑城管办", "handler", TOWN),
        DemoUser("grid_worker", "网格员王芳", "grid_worker", community + "001"),
        DemoUser("resident", "居民李明", "resident", community),
    ]


def synthetic_rows(session: Session) -> list[AreaRow]:
    """Three communities per street of the demo district, three grids per community."""
    streets = session.exec(select(Area).where(Area.parent_code == DISTRICT).order_by(col(Area.code))).all()
    rows = []
    for street in streets:
        short = street.name.removesuffix("街道")
        for i, suffix in enumerate(COMMUNITY_NAMES, start=1):
            community = street.code[:9] + f"{i:03d}"
            rows.append(AreaRow(len(rows) + 1, community, short + suffix, AreaLevel.community, street.code))
            for g in range(1, GRIDS_PER_COMMUNITY + 1):
                rows.append(
                    AreaRow(
                        len(rows) + 1, community + f"{g:03d}", f"{short}{suffix}第{g}网格", AreaLevel.grid, community
                    )
                )
    return rows


def load_demo(session: Session, settings: Settings, *, actor: str, manifests: list[Manifest]) -> dict[str, int]:
    """Load everything in the caller's transaction; returns counts of what was added.

    ``manifests`` are the installed scenarios': the demo town switches on the
    bundled ones and reports events of their types.
    """
    result = import_areas(session, CHONGQING)
    if result.errors:
        raise AppError(500, "demo_data", "The bundled area file failed validation.")
    synthetic = import_rows(session, synthetic_rows(session))
    if synthetic.errors:
        raise AppError(500, "demo_data", "The bundled area file failed validation.")
    users = grants = 0
    for demo in demo_users():
        user = session.exec(select(User).where(User.username == demo.username)).first()
        if user is None:
            create_user(session, username=demo.username, display_name=demo.display_name, password=DEMO_PASSWORD)
            users += 1
        grants += grant_role(
            session, settings, actor=actor, username=demo.username, role=demo.role, area_code=demo.area_code
        )
    district = session.get(Area, DISTRICT)
    records = load_records(session, district.path) if district else {}
    town = session.get(Area, TOWN)
    events = load_events(session, settings, town, manifests, actor=actor) if town else {}
    return {"areas": result.inserted + synthetic.inserted, "users": users, "grants": grants, **records, **events}
