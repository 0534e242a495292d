"""A town's departments, their members and the dispatch rules: the command centre's set-up, audited.

The JSON API and the admin page both come here, so the checks (who may,
what must exist) and the audit entries are the same whichever way a town
administrator works.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from jiceng.core import audit
from jiceng.core.areas import Area, AreaLevel, get_area
from jiceng.core.errors import invalid_field, not_found
from jiceng.core.events import dispatch
from jiceng.core.events.models import Department, DepartmentMember, DispatchRule
from jiceng.core.users import get_user
from jiceng.core.web.context import Caller

MANAGE = "events:manage"


@dataclass(frozen=True)
class Actor:
    """Who changes the set-up, and from where (for the audit log)."""

    caller: Caller
    address: str = ""

    def audit(self, session: Session, action: str, target_type: str, target_id: str, **detail: object) -> None:
        audit.record(
            session,
            actor=self.caller.username,
            action=action,
            target_type=target_type,
            target_id=target_id,
            address=self.address,
            detail=detail,
        )


def town(session: Session, code: str) -> Area:
    area = get_area(session, code)
    if area.level != AreaLevel.town:
        raise invalid_field("town", "{area} is not a town.", area=code)
    return area


def of_town(session: Session, town_code: str) -> list[tuple[Department, list[str]]]:
    """The town's departments in code order, each with its members' usernames."""
    rows = session.exec(
        select(Department).where(col(Department.town_code) == town_code).order_by(col(Department.code))
    ).all()
    members = session.exec(
        select(DepartmentMember).where(col(DepartmentMember.department_id).in_([d.id for d in rows]))
    ).all()
    return [(d, sorted(m.username for m in members if m.department_id == d.id)) for d in rows]


def create(session: Session, actor: Actor, town_code: str, code: str, name: str) -> Department:
    area = town(session, town_code)
    actor.caller.require(MANAGE, area.path)
    taken = session.exec(
        select(Department).where(col(Department.town_code) == town_code, col(Department.code) == code)
    ).first()
    if taken is not None:
        raise invalid_field("code", "The town already has a department {department}.", department=code)
    department = Department(town_code=town_code, code=code, name=name)
    session.add(department)
    session.flush()
    actor.audit(session, "department.create", "department", code, town=town_code, name=name)
    return department


def managed(session: Session, actor: Actor, department_id: int) -> Department:
    department = session.get(Department, department_id)
    if department is None:
        raise not_found("No department {id}.", id=department_id)
    actor.caller.require(MANAGE, get_area(session, department.town_code).path)
    return department


def add_member(session: Session, actor: Actor, department_id: int, username: str) -> Department:
    department = managed(session, actor, department_id)
    user = get_user(session, username)
    if session.get(DepartmentMember, (department_id, user.username)) is None:
        session.add(DepartmentMember(department_id=department_id, username=user.username))
        actor.audit(
            session,
            "department.add_member",
            "department",
            department.code,
            town=department.town_code,
            user=user.username,
        )
    return department


def remove_member(session: Session, actor: Actor, department_id: int, username: str) -> Department:
    department = managed(session, actor, department_id)
    member = session.get(DepartmentMember, (department_id, username))
    if member is None:
        raise not_found("{user} is not a member of {department}.", user=username, department=department.code)
    session.delete(member)
    actor.audit(
        session, "department.remove_member", "department", department.code, town=department.town_code, user=username
    )
    return department


def rules_in(session: Session, caller: Caller) -> list[DispatchRule]:
    """The database's rules in the caller's areas, by area then type."""
    return list(
        session.exec(
            select(DispatchRule)
            .where(caller.grants.filter("events:view", col(DispatchRule.area_path)))
            .order_by(col(DispatchRule.area_path), col(DispatchRule.type_code))
        ).all()
    )


def add_rule(session: Session, actor: Actor, area_code: str, type_code: str, department: str) -> DispatchRule:
    """A rule at a town or below; the department must exist in that town; one rule per area and type."""
    area = session.get(Area, area_code)
    if area is None:
        raise invalid_field("area", "No area with code {code}.", code=area_code)
    actor.caller.require(MANAGE, area.path)
    codes = [c for c in area.path.split("/") if c]
    if len(codes) < 3:
        raise invalid_field("area", "Choose a town, community or grid, not {area}.", area=area.code)
    dispatch.department(session, codes[2], department)
    duplicate = session.exec(
        select(DispatchRule).where(col(DispatchRule.area_code) == area.code, col(DispatchRule.type_code) == type_code)
    ).first()
    if duplicate is not None:
        raise invalid_field("type", "There is already a rule for {type} at {area}.", type=type_code, area=area.code)
    rule = DispatchRule(
        area_code=area.code,
        area_path=area.path,
        type_code=type_code,
        department=department,
        created_by=actor.caller.username,
    )
    session.add(rule)
    session.flush()
    actor.audit(session, "dispatch_rule.create", "dispatch_rule", f"{area.code}:{type_code}", department=department)
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    rule = session.get(DispatchRule, rule_id)
    if rule is None:
        raise not_found("No dispatch rule {id}.", id=rule_id)
    actor.caller.require(MANAGE, rule.area_path)
    session.delete(rule)
    actor.audit(
        session,
        "dispatch_rule.delete",
        "dispatch_rule",
        f"{rule.area_code}:{rule.type_code}",
        department=rule.department,
    )
