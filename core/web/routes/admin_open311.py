"""The Open311 clients page: list them, create one (its key shown once), revoke one.

For holders of ``events:manage``: each sees, creates and revokes the clients
of the areas where they hold it (a town's administrator, their town's). A client
made here is bound to one of those areas (:mod:`jiceng.core.open311.keys`);
one bound to no area (made on the command line) is shown to holders of the
permission at a top-level area. Every creation and revocation is audited
(``open311.key``, ``open311.revoke``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel
from jiceng.core.errors import AppError, invalid_field, not_found, unauthorized
from jiceng.core.events.models import Open311Client
from jiceng.core.open311 import keys
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import OptionalCallerDep, SessionDep, client_address
from jiceng.core.web.templating import render

router = APIRouter(tags=["open311"], include_in_schema=False)
PERM = "events:manage"
PAGE = "/admin/open311"


def manages(caller: Caller, client: Open311Client) -> bool:
    """The caller holds the permission at the client's area; for a client of no area, at a top-level area."""
    if client.area_path is not None:
        return caller.grants.allows(PERM, client.area_path)
    return any(path.count("/") == 2 for path in caller.grants.paths(PERM))


def areas(session: Session, caller: Caller) -> list[Area]:
    """The cities, districts and towns a new client may be bound to by this caller, in tree order."""
    levels = (AreaLevel.city, AreaLevel.district, AreaLevel.town)
    query = select(Area).where(caller.grants.filter(PERM, col(Area.path)), col(Area.level).in_(levels))
    return list(session.exec(query.order_by(col(Area.path))).all())


def page(request: Request, session: Session, caller: Caller, **extra: object) -> Response:
    status_code = int(extra.pop("status_code", 200))  # type: ignore[call-overload]
    clients = [c for c in keys.list_clients(session) if manages(caller, c)]
    codes = {c.area_code for c in clients if c.area_code}
    names = dict(session.exec(select(Area.code, Area.name).where(col(Area.code).in_(codes))).all()) if codes else {}
    context = {
        "clients": clients,
        "area_names": names,
        "areas": areas(session, caller),
        "key": None,
        "created": None,
        "problem": None,
    } | extra
    return render(request, "admin_open311.html", context, status_code=status_code)


@router.get(PAGE)
def admin_page(request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        return RedirectResponse(f"/login?next={PAGE}", status_code=303)
    caller.require(PERM)
    return page(request, session, caller)


@router.post(PAGE)
def create(
    request: Request,
    caller: OptionalCallerDep,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)],
    area: Annotated[str, Form(max_length=15)] = "",
) -> Response:
    """Create a client bound to one of the caller's areas and show its key on this one answer; never again."""
    if caller is None:
        raise unauthorized()
    caller.require(PERM)
    try:
        place = session.get(Area, area) if area else None
        if place is None:
            raise invalid_field("area", "Choose the area whose towns the client posts in.")
        caller.require(PERM, place.path)
        client, key = keys.create_client(
            session, name=name, actor=caller.username, area=place, address=client_address(request)
        )
    except AppError as error:
        session.rollback()
        return page(request, session, caller, problem=error, name=name, area=area, status_code=error.status)
    session.commit()
    response = page(request, session, caller, key=key, created=client.name, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(PAGE + "/{name}/revoke")
def revoke(name: str, request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        raise unauthorized()
    caller.require(PERM)
    if not manages(caller, keys.get_client(session, name)):
        raise not_found("No Open311 client {name}.", name=name)
    keys.revoke_client(session, name=name, actor=caller.username, address=client_address(request))
    session.commit()
    return RedirectResponse(PAGE, status_code=303)
