"""The area tree (行政区划): city → district → town → community → grid.

Every area carries its materialised path, ``/500000000000/500103000000/…/``,
so "everything under area X" is one range scan on an indexed column
(``path >= X.path AND path < X.path with the last '/' bumped to '0'``), which
both SQLite and PostgreSQL answer from the index, unlike ``LIKE 'x%'``.
Permissions use the same paths: a grant at an area covers the subtree whose
paths start with the area's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import ColumnElement, String, and_, false, func, or_
from sqlmodel import Field, Session, SQLModel, col, select

from jiceng.core.errors import not_found
from jiceng.core.i18n import _


class AreaLevel(StrEnum):
    city = "city"
    district = "district"
    town = "town"
    community = "community"
    grid = "grid"

    @property
    def depth(self) -> int:
        return LEVELS.index(self)

    def label(self) -> str:
        return {
            AreaLevel.city: _("City"),
            AreaLevel.district: _("District"),
            AreaLevel.town: _("Town"),
            AreaLevel.community: _("Community"),
            AreaLevel.grid: _("Grid"),
        }[self]


LEVELS = list(AreaLevel)


class AreaBase(SQLModel):
    code: str = Field(primary_key=True, max_length=15)
    name: str = Field(max_length=100)
    level: AreaLevel = Field(sa_type=String(12))
    parent_code: str | None = Field(default=None, foreign_key="area.code", index=True, max_length=15)


class Area(AreaBase, table=True):
    __tablename__ = "area"

    path: str = Field(max_length=96, unique=True)
    depth: int


class AreaPublic(AreaBase):
    path: str


class AreasPublic(SQLModel):
    data: list[AreaPublic]
    count: int


def child_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path or '/'}{code}/"


def path_upper_bound(prefix: str) -> str:
    """The smallest string greater than every path that starts with ``prefix`` (which ends in '/')."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def within(path_column: ColumnElement[str] | object, prefixes: Sequence[str]) -> ColumnElement[bool]:
    """SQL: the row's path lies under any of ``prefixes``; index-friendly ranges, ORed.

    An empty list matches nothing (deny by default).
    """
    ranges = [
        and_(path_column >= p, path_column < path_upper_bound(p))  # type: ignore[operator]
        for p in minimal_prefixes(prefixes)
    ]
    return or_(*ranges) if ranges else false()


def minimal_prefixes(prefixes: Sequence[str]) -> list[str]:
    """Drop prefixes covered by a shorter one, so a town grant swallows its grids' grants."""
    kept: list[str] = []
    for prefix in sorted(set(prefixes)):
        if not kept or not prefix.startswith(kept[-1]):
            kept.append(prefix)
    return kept


def get_area(session: Session, code: str) -> Area:
    area = session.get(Area, code)
    if area is None:
        raise not_found("No area with code {code}.", code=code)
    return area


def list_areas(
    session: Session,
    *,
    scope: ColumnElement[bool],
    parent_code: str | None = None,
    level: AreaLevel | None = None,
    under: Area | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Area], int]:
    """Areas visible to the caller (``scope``), filtered, in code order, with the total count."""
    conditions: list[ColumnElement[bool]] = [scope]
    if parent_code is not None:
        conditions.append(col(Area.parent_code) == parent_code)
    if level is not None:
        conditions.append(col(Area.level) == level)
    if under is not None:
        conditions.append(within(col(Area.path), [under.path]))
    count = session.exec(select(func.count()).select_from(Area).where(*conditions)).one()
    rows = session.exec(select(Area).where(*conditions).order_by(col(Area.code)).offset(offset).limit(limit)).all()
    return list(rows), count
