"""Who am I: the caller's account and where they hold which roles."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from jiceng.core.permissions.catalog import BUILTIN_ROLES
from jiceng.core.web.deps import CallerDep

router = APIRouter(prefix="/api", tags=["me"])


class GrantOut(BaseModel):
    role: str
    role_label: str
    area_code: str


class MeOut(BaseModel):
    username: str
    display_name: str
    grants: list[GrantOut]


@router.get("/me", response_model=MeOut)
def me(caller: CallerDep) -> MeOut:
    return MeOut(
        username=caller.user.username,
        display_name=caller.user.display_name,
        grants=[
            GrantOut(
                role=g.role,
                role_label=BUILTIN_ROLES[g.role].label() if g.role in BUILTIN_ROLES else g.role,
                area_code=g.area_code,
            )
            for g in caller.grants.grants
        ],
    )
