"""The portal's pages: the home page and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from jiceng.core.areas import Area
from jiceng.core.i18n import normalize_locale
from jiceng.core.permissions.catalog import BUILTIN_ROLES
from jiceng.core.web.deps import OptionalCallerDep, SessionDep
from jiceng.core.web.locale import LANG_COOKIE
from jiceng.core.web.routes.auth import safe_next
from jiceng.core.web.templating import render

router = APIRouter(include_in_schema=False)

#: The home page's groups: the four platforms, then the command centre and the grid.
GROUPS = ("party_building", "economy_ecology", "safety_rule_of_law", "public_services", "command_centre", "grid")


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
    return render(request, "home.html", {"roles": roles, "groups": GROUPS, "scenarios": {}})


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    found = normalize_locale(locale)
    if found:
        response.set_cookie(LANG_COOKIE, found, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
