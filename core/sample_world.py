"""A small real world for tests and checks: two towns of 渝中区 with communities, grids and a user per role.

Used by the vendors' pytest harness (``jiceng.sdk.testing``) and by
``jiceng plugin check``, which proves a scenario shows nothing in a town
where it is not enabled.
"""

from __future__ import annotations

from functools import cache

from sqlmodel import Session

from jiceng.core.area_import import AreaRow, import_rows
from jiceng.core.areas import AreaLevel
from jiceng.core.config import Settings
from jiceng.core.passwords import hash_password
from jiceng.core.permissions.service import grant_role
from jiceng.core.users import create_user

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

#: Where each built-in role's test user holds it, per town: a grid worker at a grid, a resident at a community.
ROLE_AREAS = {
    TOWN_A: {
        "admin": CITY,
        "leader": DISTRICT,
        "town_admin": TOWN_A,
        "dispatcher": TOWN_A,
        "handler": TOWN_A,
        "grid_worker": GRID_A1,
        "resident": COMMUNITY_A1,
    },
    TOWN_B: {
        "town_admin": TOWN_B,
        "dispatcher": TOWN_B,
        "handler": TOWN_B,
        "grid_worker": GRID_B1,
        "resident": COMMUNITY_B1,
    },
}


def username_for(role: str, town: str) -> str:
    return role if town == TOWN_A else f"{role}_b"


def make_tree(session: Session) -> None:
    """The area tree above, through the same import the CLI uses."""
    result = import_rows(
        session, [AreaRow(i, code, name, level, parent) for i, (code, name, level, parent) in enumerate(TREE, 1)]
    )
    assert not result.errors, result.errors


@cache
def password_hash() -> str:
    """One argon2 hash of ``PASSWORD`` for every sample user: hashing is slow by design, tests make many users."""
    return hash_password(PASSWORD)


def make_user(
    session: Session, settings: Settings, username: str, role: str | None = None, area: str | None = None
) -> None:
    user = create_user(session, username=username, display_name=username.replace("_", " ").title())
    user.password_hash = password_hash()
    if role and area:
        grant_role(session, settings, actor="test", username=username, role=role, area_code=area)


def make_world(session: Session, settings: Settings) -> None:
    """The tree and one user per role in each town (see ``ROLE_AREAS``), all with ``PASSWORD``."""
    make_tree(session)
    for town, roles in ROLE_AREAS.items():
        for role, area in roles.items():
            make_user(session, settings, username_for(role, town), role, area)
