"""FastAPI dependencies as ``Annotated`` aliases, so a route's signature says what it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from jiceng.core.areas import Area, get_area
from jiceng.core.config import Settings
from jiceng.core.errors import AppError, forbidden, unauthorized
from jiceng.core.freshness import latest_policy_change
from jiceng.core.permissions.checker import Authorizer
from jiceng.core.users import User, user_for_token
from jiceng.core.web.context import Caller


async def get_settings(request: Request) -> Settings:
    """A coroutine although it does no I/O: FastAPI sends every sync dependency to the thread pool, one hop each."""
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; a route that writes calls ``session.commit()`` once, at the end.

    Reads and writes then share one transaction, and an error anywhere before
    the commit rolls everything back when the session closes. Opening a
    session does no I/O; closing one that holds a connection does (the
    connection's rollback), so that runs in the thread pool.

    The session and caller dependencies are coroutines that send their
    database work to the thread pool themselves: FastAPI would send every
    sync dependency there on its own, one handover per dependency. The
    database work never runs on the event loop, even on SQLite: waiting there
    for a pooled connection held by requests that need the loop to finish
    would stop every request at once.
    """
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():  # holds a connection, whose rollback is I/O
            await run_in_threadpool(session.close)
        else:  # committed and not used since: nothing to give back
            session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def optional_caller(request: Request, session: SessionDep) -> Caller | None:
    """The caller from a bearer token or the session cookie, or None; grants are brought up to date first.

    Every API request asks this, with a query or two, in the thread pool (see :func:`get_session`).
    """
    return await run_in_threadpool(_caller, request, session)


def _caller(request: Request, session: Session) -> Caller | None:
    authorizer: Authorizer = request.app.state.authorizer
    user: User | None = None
    via = "token"
    token = _bearer(request)
    if token is not None:
        user = user_for_token(session, token)
        if user is None:
            raise AppError(401, "bad_token", "The API token is invalid, expired or revoked.")
    else:
        via = "session"
        uid = request.session.get("uid")
        user = session.get(User, uid) if isinstance(uid, int) else None
        if user is not None and not user.is_active:
            request.session.clear()
            user = None
    if user is None:
        return None
    if via == "session" and request.method not in ("GET", "HEAD", "OPTIONS") and not _same_origin(request):
        raise forbidden("Cross-site requests are not accepted.")
    authorizer.refresh(session, latest_policy_change(session))
    caller = Caller(user=user, grants=authorizer.grants(session, user.username), via=via)
    request.state.caller = caller  # so every page, error pages included, knows who is logged in
    return caller


def _same_origin(request: Request) -> bool:
    """Cookie-authenticated writes must come from our own pages (SameSite=Lax is the first line)."""
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


async def current_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    """:func:`optional_caller`, or 401; a coroutine because it does no I/O (a sync one costs a thread-pool hop)."""
    if caller is None:
        raise unauthorized()
    return caller


def caller_in_thread(request: Request, session: Session) -> Caller:
    """:func:`current_caller` for a coroutine route that sends all its work to the thread pool in one trip.

    Resolving the caller as a dependency costs a trip of its own; the busiest write (event intake) saves it.
    """
    caller = _caller(request, session)
    if caller is None:
        raise unauthorized()
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
OptionalCallerDep = Annotated[Caller | None, Depends(optional_caller)]


def require(perm: str, *, area_param: str | None = None) -> Callable[..., Caller]:
    """A dependency: the caller must hold ``perm`` at the area named by the path parameter ``area_param``,
    or anywhere when there is none (list routes then scope their query with ``caller.grants.filter``)."""

    def dependency(request: Request, caller: CallerDep, session: SessionDep) -> Caller:
        area: Area | None = None
        if area_param is not None:
            area = get_area(session, request.path_params[area_param])
            request.state.area = area
        caller.require(perm, area.path if area else None)
        return caller

    dependency.__name__ = f"require_{perm.replace(':', '_')}"
    return dependency
