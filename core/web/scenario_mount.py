"""Scenarios on the web: their routers and assets mounted, and the guard in front of every route.

The guard resolves the town of the request, answers 404 where the scenario is
not enabled, 401 without a login and 403 without the scenario's ``access``
permission in that town, then builds the :class:`ScenarioContext`. It is the
same dependency a route asks for with ``ScenarioContextDep``, so FastAPI
resolves it once per request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel, within
from jiceng.core.enablement import path_codes
from jiceng.core.errors import bad_request, forbidden, not_found, unauthorized
from jiceng.core.plugin_host import PluginHost
from jiceng.core.scenario_context import ScenarioContext
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import OptionalCallerDep, SessionDep
from jiceng.plugins.registrations import ScenarioRoutes

TOWN_PARAM = "town"
TOWN_DEPTH = 3  # /city/district/town/


def caller_towns(caller: Caller) -> list[str]:
    """Town codes the caller's grants sit in or under, in grant order."""
    towns: list[str] = []
    for grant in caller.grants.grants:
        codes = path_codes(grant.area_path)
        if len(codes) >= TOWN_DEPTH and codes[TOWN_DEPTH - 1] not in towns:
            towns.append(codes[TOWN_DEPTH - 1])
    return towns


def towns_to_pick(caller: Caller, session: Session) -> list[Area]:
    """For grants above town level (a district leader, the platform administrator): the towns under them to choose from."""
    wide = [g.area_path for g in caller.grants.grants if len(path_codes(g.area_path)) < TOWN_DEPTH]
    if not wide:
        return []
    query = select(Area).where(col(Area.level) == AreaLevel.town, within(col(Area.path), wide)).order_by(col(Area.code))
    return list(session.exec(query).all())


def resolve_town(request: Request, caller: Caller | None, session: Session) -> Area:
    """``?town=CODE`` (remembered in the session), else the last town chosen, else the caller's only town."""
    code = request.query_params.get(TOWN_PARAM) or request.session.get(TOWN_PARAM)
    if not code and caller is not None:
        towns = caller_towns(caller)
        code = towns[0] if len(towns) == 1 else None
    if not code:
        if caller is None:
            raise unauthorized()
        raise bad_request("Choose a town with ?town=CODE.", error_code="town_required")
    town = session.get(Area, code)
    if town is None or town.level != AreaLevel.town:
        raise not_found("No town with code {code}.", code=code)
    if request.query_params.get(TOWN_PARAM):
        request.session[TOWN_PARAM] = town.code
    return town


def scenario_id_of(request: Request) -> str:
    parts = request.url.path.split("/")
    return parts[3] if parts[1] == "api" else parts[2]


def scenario_context(request: Request, caller: OptionalCallerDep, session: SessionDep) -> ScenarioContext:
    host: PluginHost = request.app.state.host
    scenario = host.scenarios[scenario_id_of(request)]
    town = resolve_town(request, caller, session)
    base, state = host.town_context(town=town, caller=caller, session=session, request=request)
    if scenario.id not in state.enabled:
        raise not_found("There is nothing at this address.")
    if caller is None:
        raise unauthorized()
    if not caller.grants.reaches(scenario.manifest.access, town.path):
        raise forbidden("You do not have the permission {perm} here.", perm=scenario.manifest.access)
    bound = base.bind_scenario(scenario.id)
    assert isinstance(bound, ScenarioContext)
    return bound


ScenarioContextDep = Annotated[ScenarioContext, Depends(scenario_context)]


def mount_scenarios(app: FastAPI, host: PluginHost) -> None:
    """Include every scenario's routers behind the guard, and mount its static folder. Call before mounting /static."""
    guard = [Depends(scenario_context)]
    for sid, registered in host.manager.per_scenario("routes").items():
        if not isinstance(registered, ScenarioRoutes):
            continue
        if registered.pages is not None:
            app.include_router(registered.pages, prefix=f"/s/{sid}", dependencies=guard, include_in_schema=False)
        if registered.api is not None:
            app.include_router(registered.api, prefix=f"/api/s/{sid}", dependencies=guard, tags=[sid])
    for scenario in host.scenarios.values():
        if scenario.manifest.static is not None:
            app.mount(
                f"/static/s/{scenario.id}",
                StaticFiles(directory=scenario.manifest.static),
                name=f"static-{scenario.id}",
            )
