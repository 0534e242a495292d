"""Every failure leaves as the one error shape (JSON) or a portal error page; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from jiceng.core.errors import AppError, describe_pydantic
from jiceng.core.i18n import N_
from jiceng.core.web.templating import render

log = logging.getLogger("jiceng.web")

_HTTP_MESSAGES = {
    400: ("bad_request", N_("The request is malformed.")),
    401: ("unauthorized", N_("Please log in first.")),
    403: ("forbidden", N_("You do not have permission to do this.")),
    404: ("not_found", N_("There is nothing at this address.")),
    405: ("method_not_allowed", N_("This method is not allowed here.")),
    413: ("too_large", N_("The request is too large.")),
    415: ("unsupported_media_type", N_("This content type is not supported.")),
}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/open311/", "/health")):
        return False
    return "text/html" in request.headers.get("accept", "")


def respond(request: Request, error: AppError) -> Response:
    if wants_html(request):
        return render(request, "error.html", {"error": error}, status_code=error.status)
    return JSONResponse(
        error.body(), status_code=error.status, headers={"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    )


async def app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return respond(request, exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, msgid = _HTTP_MESSAGES.get(exc.status_code, ("error", N_("The request could not be handled.")))
    return respond(request, AppError(exc.status_code, code, msgid))


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    error = AppError(422, "invalid", "Some fields are not valid.", fields=describe_pydantic(exc.errors()))
    return respond(request, error)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return respond(request, AppError(500, "internal", "Something went wrong on our side; it has been logged."))


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
