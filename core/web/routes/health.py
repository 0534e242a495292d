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
    ok = database == "ok"
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "version": __version__, "database": database},
        status_code=200 if ok else 503,
    )
