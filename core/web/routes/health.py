"""``/health``: is the process up, can it reach its database, and how are the scenarios doing."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from jiceng.core import __version__

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> JSONResponse:
    database = "ok"
    try:
        with Session(request.app.state.engine) as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except SQLAlchemyError:
        database = "unreachable"
    host = request.app.state.host
    scenarios = {
        sid: {"status": h.status, "failures": h.failures, "last_error": h.last_error, "last_hook": h.last_hook}
        for sid, h in host.manager.health.items()
    }
    refused = [{"name": r.name, "code": r.code, "detail": r.detail} for r in host.manager.refused]
    degraded = database != "ok" or any(s["status"] != "ok" for s in scenarios.values())
    body = {
        "status": "degraded" if degraded else "ok",
        "version": __version__,
        "database": database,
        "scenarios": scenarios,
        "refused": refused,
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
