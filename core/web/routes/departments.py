"""Departments, their members and dispatch rules over HTTP (the admin page at ``/admin/events`` does the same).

(No ``from __future__ import annotations``: FastAPI must see the body models.)
"""

from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from jiceng.core.events import departments
from jiceng.core.events.departments import Actor
from jiceng.core.web.deps import CallerDep, SessionDep, client_address

router = APIRouter(prefix="/api", tags=["events"])
CODE = r"^[a-z][a-z0-9_]{1,31}$"


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=100)


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area: str = Field(min_length=1, max_length=15)
    type: str = Field("*", min_length=1, max_length=64)
    department: str = Field(pattern=CODE)


@router.get("/towns/{town}/departments")
def list_departments(town: str, session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    area = departments.town(session, town)
    if not caller.grants.reaches("events:view", area.path):
        caller.require("events:view", area.path)
    return [
        {"id": d.id, "code": d.code, "name": d.name, "members": members}
        for d, members in departments.of_town(session, town)
    ]


@router.post("/towns/{town}/departments", status_code=status.HTTP_201_CREATED)
def create_department(
    town: str, data: DepartmentIn, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    department = departments.create(session, Actor(caller, client_address(request)), town, data.code, data.name)
    session.commit()
    return {"id": department.id, "code": department.code, "name": department.name, "members": []}


@router.post("/departments/{department_id}/members", status_code=status.HTTP_201_CREATED)
def add_member(
    department_id: int, data: MemberIn, request: Request, session: SessionDep, caller: CallerDep
) -> dict[str, str]:
    department = departments.add_member(session, Actor(caller, client_address(request)), department_id, data.username)
    session.commit()
    return {"department": department.code, "username": data.username}


@router.delete("/departments/{department_id}/members/{username}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(department_id: int, username: str, request: Request, session: SessionDep, caller: CallerDep) -> None:
    departments.remove_member(session, Actor(caller, client_address(request)), department_id, username)
    session.commit()


@router.get("/dispatch-rules")
def list_rules(session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    """The database's rules in the caller's areas (config rules are on the admin page)."""
    return [r.model_dump(exclude={"area_path"}) for r in departments.rules_in(session, caller)]


@router.post("/dispatch-rules", status_code=status.HTTP_201_CREATED)
def create_rule(data: RuleIn, request: Request, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    rule = departments.add_rule(session, Actor(caller, client_address(request)), data.area, data.type, data.department)
    session.commit()
    return rule.model_dump(exclude={"area_path"})


@router.delete("/dispatch-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: int, request: Request, session: SessionDep, caller: CallerDep) -> None:
    departments.delete_rule(session, Actor(caller, client_address(request)), rule_id)
    session.commit()
