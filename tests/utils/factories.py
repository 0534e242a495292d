"""Build the little world most tests need, through the same services the CLI uses."""

from __future__ import annotations

from sqlmodel import Session

from jiceng.core.area_import import AreaRow, import_rows
from jiceng.core.areas import AreaLevel
from jiceng.core.config import Settings
from jiceng.core.permissions.service import grant_role
from jiceng.core.users import User, create_user

PASSWORD = "correct-horse-9"

CITY = "500000000000"
DISTRICT = "500103000000"
TOWN_A = "500103003000"  # 解放碑街道
TOWN_B = "500103001000"  # 七星岗街道
COMMUNITY_A1 = "500103003001"
COMMUNITY_A2 = "500103003002"
COMMUNITY_B1 = "500103001001"
GRID_A1 = "500103003001001"
GRID_A2 = "500103003001002"
GRID_B1 = "500103001001001"

TREE = [
    (CITY, "重庆市", AreaLevel.city, None),
    (DISTRICT, "渝中区", AreaLevel.district, CITY),
    (TOWN_A, "解放碑街道", AreaLevel.town, DISTRICT),
    (TOWN_B, "七星岗街道", AreaLevel.town, DISTRICT),
    (COMMUNITY_A1, "解放碑一社区", AreaLevel.community, TOWN_A),
    (COMMUNITY_A2, "解放碑二社区", AreaLevel.community, TOWN_A),
    (COMMUNITY_B1, "七星岗一社区", AreaLevel.community, TOWN_B),
    (GRID_A1, "解放碑一社区第1网格", AreaLevel.grid, COMMUNITY_A1),
    (GRID_A2, "解放碑一社区第2网格", AreaLevel.grid, COMMUNITY_A1),
    (GRID_B1, "七星岗一社区第1网格", AreaLevel.grid, COMMUNITY_B1),
]


def make_tree(session: Session) -> None:
    result = import_rows(
        session, [AreaRow(i, code, name, level, parent) for i, (code, name, level, parent) in enumerate(TREE, 1)]
    )
    assert not result.errors, result.errors


def make_user(
    session: Session, settings: Settings, username: str, role: str | None = None, area: str | None = None
) -> User:
    user = create_user(session, username=username, display_name=username.title(), password=PASSWORD)
    if role and area:
        grant_role(session, settings, actor="test", username=username, role=role, area_code=area)
    return user
