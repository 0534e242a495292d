"""Granting and revoking roles over the API.

Nobody can hand out more than they have: granting a role at an area needs
``roles:grant`` there *and* every permission the role carries, so a town
administrator cannot mint a platform administrator.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from jiceng.core.areas import get_area
from jiceng.core.permissions.service import desired_permissions, grant_role, revoke_role
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep, client_address

router = APIRouter(prefix="/api/grants", tags=["roles"])


class GrantIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=64)
    area_code: str = Field(min_length=1, max_length=15)


class GrantResult(BaseModel):
    changed: bool


@router.post("", response_model=GrantResult, status_code=status.HTTP_200_OK)
def grant(
    body: GrantIn, request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> GrantResult:
    area = get_area(session, body.area_code)
    caller.require("roles:grant", area.path)
    declared = request.app.state.host.declared_permissions()
    for perm in sorted(desired_permissions(settings, declared).get(body.role, ())):
        caller.require(perm, area.path)
    changed = grant_role(
        session,
        settings,
        actor=caller.username,
        username=body.username,
        role=body.role,
        area_code=area.code,
        address=client_address(request),
    )
    session.commit()
    return GrantResult(changed=changed)


@router.post("/revoke", response_model=GrantResult)
def revoke(body: GrantIn, request: Request, caller: CallerDep, session: SessionDep) -> GrantResult:
    area = get_area(session, body.area_code)
    caller.require("roles:grant", area.path)
    revoke_role(
        session,
        actor=caller.username,
        username=body.username,
        role=body.role,
        area_code=area.code,
        address=client_address(request),
    )
    session.commit()
    return GrantResult(changed=True)
