"""Logging in and out: the portal's session cookie and the API's bearer tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from jiceng.core import audit
from jiceng.core.config import Settings
from jiceng.core.errors import AppError
from jiceng.core.users import LoginLimits, User, authenticate, bad_credentials, issue_token
from jiceng.core.web.deps import OptionalCallerDep, SessionDep, SettingsDep, client_address
from jiceng.core.web.templating import render

router = APIRouter(tags=["auth"])


def limits(settings: Settings) -> LoginLimits:
    s = settings.security
    return LoginLimits(
        per_user=s.login_failures_per_user,
        per_address=s.login_failures_per_address,
        window=timedelta(minutes=s.login_window_minutes),
    )


def check_login(
    request: Request, session: SessionDep, settings: Settings, username: str, password: str, channel: str
) -> User:
    """Authenticate and audit; the failure row is committed even though the caller gets 401."""
    address = client_address(request)
    user = authenticate(session, username=username.strip(), password=password, address=address, limits=limits(settings))
    audit.record(
        session,
        actor=username.strip()[:64],
        action=f"login.{channel}.{'ok' if user else 'failed'}",
        address=address,
    )
    session.commit()
    if user is None:
        raise bad_credentials()
    return user


def safe_next(value: str | None) -> str:
    """Only local paths, so the login form cannot bounce a user to another site."""
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, caller: OptionalCallerDep, next: str = "/") -> Response:
    if caller is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next)})


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = check_login(request, session, settings, username, password, "portal")
    except AppError as error:
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": error, "username": username},
            status_code=error.status,
        )
    request.session.clear()
    request.session["uid"] = user.id
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


@router.post("/api/auth/token", response_model=TokenOut)
def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut:
    """OAuth2 password flow: trade a username and password for a bearer token (stored hashed)."""
    user = check_login(request, session, settings, username, password, "api")
    days = settings.security.token_days
    value = issue_token(session, user, name="oauth2", days=days)
    session.commit()
    return TokenOut(access_token=value, expires_in=days * 86400)
