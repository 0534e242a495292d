"""Conflicts to review over HTTP and from the record page: accept the proposed value or keep the current one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from jiceng.core.errors import not_found
from jiceng.core.records import conflicts, service
from jiceng.core.records.tables import TABLES
from jiceng.core.web.deps import CallerDep, SessionDep, client_address

router = APIRouter(tags=["records"])
BY_PLURAL = {spec.plural: spec for spec in TABLES.values()}
DECISIONS = {"accept": True, "reject": False}


def decision(name: str) -> bool:
    if name not in DECISIONS:
        raise not_found("There is nothing at this address.")
    return DECISIONS[name]


@router.get("/api/{plural}/{record_id}/conflicts")
def list_conflicts(plural: str, record_id: int, session: SessionDep, caller: CallerDep) -> list[dict[str, Any]]:
    """The record's open conflicts, oldest first."""
    spec = BY_PLURAL.get(plural)
    if spec is None:
        raise not_found("There is nothing at this address.")
    record = service.get_record(session, spec, record_id)
    caller.require("records:view", record.area_path)
    reveal = caller.grants.allows("pii:view", record.area_path)
    return [conflicts.shown(spec, c, reveal=reveal) for c in conflicts.open_for(session, spec, record_id)]


@router.post("/api/conflicts/{conflict_id}/{choice}")
def decide(conflict_id: int, choice: str, request: Request, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """``accept`` applies the proposed value (with its original source); ``reject`` keeps the current one."""
    item = conflicts.resolve(session, caller, conflict_id, accept=decision(choice), address=client_address(request))
    session.commit()
    return {"id": item.id, "resolution": item.resolution}


@router.post("/records/conflicts/{conflict_id}/{choice}", include_in_schema=False)
def decide_from_page(
    conflict_id: int, choice: str, request: Request, session: SessionDep, caller: CallerDep
) -> Response:
    item = conflicts.resolve(session, caller, conflict_id, accept=decision(choice), address=client_address(request))
    session.commit()
    return RedirectResponse(f"/records/{TABLES[item.record_type].plural}/{item.record_id}", status_code=303)
