"""The command centre's set-up page: a town's departments with their members, and the dispatch rules.

Forms post back here and redirect (post/redirect/get); a refused change
re-renders the page with the message in both languages and the right status.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, within
from jiceng.core.errors import AppError, unauthorized
from jiceng.core.events import departments
from jiceng.core.events.types import town_types
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import OptionalCallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.scenario_mount import caller_towns, towns_to_pick
from jiceng.core.web.templating import render

router = APIRouter(prefix="/admin/events", include_in_schema=False)


def managed_towns(session: Session, caller: Caller) -> list[Area]:
    towns = [t for t in (session.get(Area, c) for c in caller_towns(caller)) if t is not None]
    towns += [t for t in towns_to_pick(caller, session) if t not in towns]
    return [t for t in towns if caller.grants.allows(departments.MANAGE, t.path)]


def page(
    request: Request,
    session: Session,
    settings: SettingsDep,
    caller: Caller,
    town_code: str | None,
    error: AppError | None = None,
) -> Response:
    towns = managed_towns(session, caller)
    if not towns:
        caller.require(departments.MANAGE)
    town = next((t for t in towns if t.code == town_code), towns[0] if towns else None)
    host: PluginHost = request.app.state.host
    context: dict[str, object] = {"towns": towns, "town": town, "error": error, "config_rules": settings.events.rules}
    if town is not None:
        host.enablement.refresh(session)
        context |= {
            "departments": departments.of_town(session, town.code),
            "rules": [r for r in departments.rules_in(session, caller) if r.area_path.startswith(town.path)],
            "types": town_types(host.manifests(), host.enablement.for_town(town.path).enabled, settings, town.code),
            "areas": session.exec(
                select(Area).where(within(col(Area.path), [town.path])).order_by(col(Area.code))
            ).all(),
        }
    return render(request, "admin_events.html", context, status_code=error.status if error else 200)


@router.get("")
def show(request: Request, caller: OptionalCallerDep, session: SessionDep, settings: SettingsDep) -> Response:
    if caller is None:
        return RedirectResponse("/login?next=/admin/events", status_code=303)
    return page(request, session, settings, caller, request.query_params.get("town"))


def change(request: Request, caller: Caller | None, session: Session, settings: SettingsDep, town: str, do) -> Response:  # type: ignore[no-untyped-def]
    """Run ``do(actor)``, commit and go back to the page; on a refusal show the page with the message."""
    if caller is None:
        raise unauthorized()
    try:
        do(departments.Actor(caller, client_address(request)))
        session.commit()
    except AppError as error:
        if error.status not in (409, 422):
            raise
        session.rollback()
        return page(request, session, settings, caller, town, error)
    return RedirectResponse(f"/admin/events?town={town}", status_code=303)


@router.post("/departments")
def create_department(
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    town: Annotated[str, Form(max_length=12)],
    code: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(max_length=100)],
) -> Response:
    return change(
        request,
        caller,
        session,
        settings,
        town,
        lambda a: departments.create(session, a, town, code.strip(), name.strip()),
    )


@router.post("/departments/{department_id}/members")
def add_member(
    department_id: int,
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    town: Annotated[str, Form(max_length=12)],
    username: Annotated[str, Form(max_length=64)],
) -> Response:
    return change(
        request,
        caller,
        session,
        settings,
        town,
        lambda a: departments.add_member(session, a, department_id, username.strip()),
    )


@router.post("/departments/{department_id}/members/{username}/remove")
def remove_member(
    department_id: int,
    username: str,
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    town: Annotated[str, Form(max_length=12)],
) -> Response:
    return change(
        request,
        caller,
        session,
        settings,
        town,
        lambda a: departments.remove_member(session, a, department_id, username),
    )


@router.post("/rules")
def add_rule(
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    town: Annotated[str, Form(max_length=12)],
    area: Annotated[str, Form(max_length=15)],
    department: Annotated[str, Form(max_length=32)],
    type: Annotated[str, Form(max_length=64)] = "*",
) -> Response:
    return change(
        request, caller, session, settings, town, lambda a: departments.add_rule(session, a, area, type, department)
    )


@router.post("/rules/{rule_id}/delete")
def delete_rule(
    rule_id: int,
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    town: Annotated[str, Form(max_length=12)],
) -> Response:
    return change(request, caller, session, settings, town, lambda a: departments.delete_rule(session, a, rule_id))
