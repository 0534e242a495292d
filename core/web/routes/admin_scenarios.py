"""Switching scenarios on and off per town: the admin page and its API.

A town administrator sees every installed scenario with its health, the
towns that use it, and the personal data it declares and why; enabling one
for a town is recorded (who, when) and takes effect on the next request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from jiceng.core.areas import Area, get_area
from jiceng.core.errors import unauthorized
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, OptionalCallerDep, SessionDep, client_address
from jiceng.core.web.scenario_mount import caller_towns, towns_to_pick
from jiceng.core.web.templating import render

router = APIRouter(tags=["scenarios"])
PERM = "scenarios:manage"


class SwitchIn(BaseModel):
    town: str = Field(min_length=12, max_length=12)
    enabled: bool
    settings: dict[str, Any] | None = None


class SwitchOut(BaseModel):
    scenario: str
    town: str
    enabled: bool


def switch_scenario(
    session: Session,
    host: PluginHost,
    caller: Caller,
    *,
    scenario_id: str,
    town_code: str,
    enabled: bool,
    settings: dict[str, Any] | None,
    address: str,
) -> None:
    """The caller must hold ``scenarios:manage`` at the town."""
    town = get_area(session, town_code)
    caller.require(PERM, town.path)
    host.switch(
        session,
        scenario_id=scenario_id,
        town=town,
        enabled=enabled,
        actor=caller.username,
        settings=settings,
        address=address,
    )


@router.post("/api/scenarios/{scenario_id}/switch", response_model=SwitchOut)
def switch(scenario_id: str, body: SwitchIn, request: Request, caller: CallerDep, session: SessionDep) -> SwitchOut:
    switch_scenario(
        session,
        request.app.state.host,
        caller,
        scenario_id=scenario_id,
        town_code=body.town,
        enabled=body.enabled,
        settings=body.settings,
        address=client_address(request),
    )
    session.commit()
    return SwitchOut(scenario=scenario_id, town=body.town, enabled=body.enabled)


@router.get("/admin/scenarios", include_in_schema=False)
def admin_page(request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        return RedirectResponse("/login?next=/admin/scenarios", status_code=303)
    caller.require(PERM)
    host: PluginHost = request.app.state.host
    towns = [t for t in (session.get(Area, code) for code in caller_towns(caller)) if t is not None]
    choices = towns_to_pick(caller, session)
    chosen = next((t for t in choices if t.code == request.query_params.get("town")), None)
    if chosen is not None and chosen not in towns:
        towns.insert(0, chosen)
    towns = [t for t in towns if caller.grants.allows(PERM, t.path)]
    host.enablement.refresh(session)
    states = {t.code: host.enablement.for_town(t.path) for t in towns}
    context = {"scenarios": list(host.scenarios.values()), "towns": towns, "states": states, "host": host}
    return render(request, "admin_scenarios.html", context | {"choices": choices, "chosen": chosen})


@router.post("/admin/scenarios/{scenario_id}", include_in_schema=False)
def admin_switch(
    scenario_id: str,
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    town: Annotated[str, Form(max_length=12)],
    enabled: Annotated[bool, Form()],
) -> Response:
    if caller is None:
        raise unauthorized()
    switch_scenario(
        session,
        request.app.state.host,
        caller,
        scenario_id=scenario_id,
        town_code=town,
        enabled=enabled,
        settings=None,
        address=client_address(request),
    )
    session.commit()
    return RedirectResponse(f"/admin/scenarios?town={town}", status_code=303)
