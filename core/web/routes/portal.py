"""The portal's pages: the home page and the language switch."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from jiceng.core.areas import Area
from jiceng.core.i18n import N_, _, normalize_locale
from jiceng.core.permissions.catalog import BUILTIN_ROLES
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import OptionalCallerDep, SessionDep
from jiceng.core.web.locale import LANG_COOKIE
from jiceng.core.web.routes.auth import safe_next
from jiceng.core.web.scenario_mount import caller_towns, towns_to_pick
from jiceng.core.web.templating import render
from jiceng.plugins.manifest import Manifest, Platform
from jiceng.plugins.registrations import DashboardCard

router = APIRouter(include_in_schema=False)

#: The home page's groups: the four platforms, then the command centre and the grid.
GROUPS = {
    Platform.party_building: N_("Party building"),
    Platform.economy_ecology: N_("Economy and ecology"),
    Platform.safety_rule_of_law: N_("Safety and rule of law"),
    Platform.public_services: N_("Public services"),
    Platform.command_centre: N_("Command centre"),
    Platform.grid: N_("Grid"),
}


@dataclass(frozen=True)
class Tile:
    """A link on the home page: one of a scenario's menu entries (or the scenario itself)."""

    zh: str
    en: str
    href: str


@dataclass
class TownHome:
    """One of the caller's towns on the home page: its scenarios' tiles by group, and the dashboard cards."""

    town: Area
    groups: list[tuple[str, list[Tile]]]
    cards: list[DashboardCard]


def tiles(manifest: Manifest, caller: Caller, town: Area) -> list[Tile]:
    """The scenario's menu entries the caller may open in ``town``; the scenario's home when it declares none."""
    entries = [e for e in manifest.menu if caller.grants.reaches(e.permission or manifest.access, town.path)]
    if not manifest.menu:
        return [Tile(manifest.name_zh, manifest.name_en, f"/s/{manifest.id}/?town={town.code}")]
    return [Tile(e.zh, e.en, f"/s/{manifest.id}/{e.path.lstrip('/')}?town={town.code}") for e in entries]


def town_home(host: PluginHost, caller: Caller, town: Area, session: Session, request: Request) -> TownHome:
    context, state = host.town_context(town=town, caller=caller, session=session, request=request)
    usable = [
        s.manifest
        for sid, s in host.scenarios.items()
        if sid in state.enabled and caller.grants.reaches(s.manifest.access, town.path)
    ]
    groups = [
        (
            _(label),
            [
                tile
                for m in sorted(usable, key=lambda m: m.id)
                if m.platform == platform
                for tile in tiles(m, caller, town)
            ],
        )
        for platform, label in GROUPS.items()
    ]
    cards = [
        card
        for batch in host.manager.hooks_for(frozenset(m.id for m in usable)).dashboard_cards(context=context)
        for card in batch or ()
        if isinstance(card, DashboardCard)
    ]
    return TownHome(town, [(label, group) for label, group in groups if group], cards)


@router.get("/")
def home(request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        return RedirectResponse("/login", status_code=303)
    request.state.caller = caller
    codes = {g.area_code for g in caller.grants.grants}
    names = dict(session.exec(select(Area.code, Area.name).where(col(Area.code).in_(codes))).all()) if codes else {}
    roles = [
        {
            "role": BUILTIN_ROLES[g.role].label() if g.role in BUILTIN_ROLES else g.role,
            "area": names.get(g.area_code, g.area_code),
        }
        for g in caller.grants.grants
    ]
    host: PluginHost = request.app.state.host
    towns = [t for t in (session.get(Area, code) for code in caller_towns(caller)) if t is not None]
    choices = towns_to_pick(caller, session)
    picked = request.query_params.get("town") or request.session.get("town")
    chosen = next((t for t in choices if t.code == picked), None)
    if chosen is not None and chosen not in towns:
        request.session["town"] = chosen.code
        towns.insert(0, chosen)
    homes = [town_home(host, caller, town, session, request) for town in towns]
    return render(request, "home.html", {"roles": roles, "homes": homes, "choices": choices, "chosen": chosen})


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    found = normalize_locale(locale)
    if found:
        response.set_cookie(LANG_COOKIE, found, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
