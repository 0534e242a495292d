"""The Open311 clients page: list them, create one (its key shown once), revoke one.

For holders of ``events:manage`` anywhere: a client is not bound to a town,
its requests name the town themselves. Every creation and revocation is
audited (``open311.key``, ``open311.revoke``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from jiceng.core.errors import AppError, unauthorized
from jiceng.core.open311 import keys
from jiceng.core.web.deps import OptionalCallerDep, SessionDep, client_address
from jiceng.core.web.templating import render

router = APIRouter(tags=["open311"], include_in_schema=False)
PERM = "events:manage"
PAGE = "/admin/open311"


def page(request: Request, session: SessionDep, **extra: object) -> Response:
    status_code = int(extra.pop("status_code", 200))  # type: ignore[call-overload]
    context = {"clients": keys.list_clients(session), "key": None, "created": None, "problem": None} | extra
    return render(request, "admin_open311.html", context, status_code=status_code)


@router.get(PAGE)
def admin_page(request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        return RedirectResponse(f"/login?next={PAGE}", status_code=303)
    caller.require(PERM)
    return page(request, session)


@router.post(PAGE)
def create(
    request: Request, caller: OptionalCallerDep, session: SessionDep, name: Annotated[str, Form(max_length=100)]
) -> Response:
    """Create a client and show its key on this one answer; it is never shown again."""
    if caller is None:
        raise unauthorized()
    caller.require(PERM)
    try:
        client, key = keys.create_client(session, name=name, actor=caller.username, address=client_address(request))
    except AppError as error:
        session.rollback()
        return page(request, session, problem=error, name=name, status_code=error.status)
    session.commit()
    response = page(request, session, key=key, created=client.name, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(PAGE + "/{name}/revoke")
def revoke(name: str, request: Request, caller: OptionalCallerDep, session: SessionDep) -> Response:
    if caller is None:
        raise unauthorized()
    caller.require(PERM)
    keys.revoke_client(session, name=name, actor=caller.username, address=client_address(request))
    session.commit()
    return RedirectResponse(PAGE, status_code=303)
