"""The area tree, as far as the caller may read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import col

from jiceng.core.areas import Area, AreaLevel, AreaPublic, AreasPublic, get_area, list_areas
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, require

router = APIRouter(prefix="/api/areas", tags=["areas"])
PERM = "areas:read"


@router.get("", response_model=AreasPublic)
def areas(
    caller: Annotated[Caller, Depends(require(PERM))],
    session: SessionDep,
    parent: Annotated[str | None, Query(max_length=15, description="only the children of this area")] = None,
    level: AreaLevel | None = None,
    under: Annotated[str | None, Query(max_length=15, description="only areas inside this one")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AreasPublic:
    """Areas the caller may read, filtered; asking inside an area out of reach is 403, not an empty page."""
    inside = get_area(session, under) if under else None
    if inside is not None:
        caller.require(PERM, inside.path)
    rows, count = list_areas(
        session,
        scope=caller.grants.filter(PERM, col(Area.path)),
        parent_code=parent,
        level=level,
        under=inside,
        offset=offset,
        limit=limit,
    )
    return AreasPublic(data=[AreaPublic.model_validate(a) for a in rows], count=count)


@router.get("/{code}", response_model=AreaPublic, dependencies=[Depends(require(PERM, area_param="code"))])
def area(request: Request) -> AreaPublic:
    return AreaPublic.model_validate(request.state.area)


@router.get("/{code}/children", response_model=AreasPublic)
def children(code: str, caller: CallerDep, session: SessionDep) -> AreasPublic:
    parent = get_area(session, code)
    caller.require(PERM, parent.path)
    rows, count = list_areas(
        session, scope=caller.grants.filter(PERM, col(Area.path)), parent_code=parent.code, limit=500
    )
    return AreasPublic(data=[AreaPublic.model_validate(a) for a in rows], count=count)
