"""The town's open disputes and hazards, as a page and an API; reports go through the event loop."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from jiceng.sdk import EventInfo, ScenarioContextDep

pages = APIRouter()
api = APIRouter()
OPEN = ["reported", "accepted", "dispatched", "handling", "resolved"]


class HazardIn(BaseModel):
    """A hazard as the scenario's quick-report API takes it: fewer fields than the general event form."""

    title: str = Field(min_length=1, max_length=120)
    area: str = Field(min_length=1, max_length=15)
    hazard: str = Field(min_length=1, max_length=20)
    address: str = Field("", max_length=200)


def shown(event: EventInfo) -> dict[str, Any]:
    return {
        "id": event.id,
        "code": event.code,
        "type": event.type_code,
        "title": event.title,
        "state": event.state,
        "department": event.department,
        "deadline": event.deadline,
    }


class HazardLevelIn(BaseModel):
    """A house's hazard level after an inspection, stored in the house's extension fields."""

    hazard_level: str = Field(max_length=10)
    inspected_on: str = Field("", max_length=10)
    version: int = Field(ge=1)


@pages.get("/", response_class=HTMLResponse)
def index(ctx: ScenarioContextDep) -> HTMLResponse:
    events = ctx.events.list(states=OPEN, limit=100)
    return ctx.render(
        "safety/index.html",
        {
            "disputes": [e for e in events if e.type_code == "safety.dispute"],
            "hazards": [e for e in events if e.type_code == "safety.hazard"],
            "houses": ctx.houses.search(fields=["address"], extra={"hazard_level": "high"}),
        },
    )


@api.get("/houses")
def houses_by_level(ctx: ScenarioContextDep, hazard_level: str = "high") -> list[dict[str, Any]]:
    """Houses of the town with the given hazard level, with their address (declared in the manifest)."""
    return ctx.houses.search(fields=["address"], extra={"hazard_level": hazard_level}, limit=200)


@api.put("/houses/{house_id}/hazard")
def set_hazard_level(house_id: int, body: HazardLevelIn, ctx: ScenarioContextDep) -> dict[str, Any]:
    values = {"hazard_level": body.hazard_level, "inspected_on": body.inspected_on}
    changed = ctx.houses.set_extra(house_id, values, version=body.version)
    ctx.commit()
    return {"changed": changed, **ctx.houses.get(house_id, fields=["address"])}


@api.get("/open")
def open_cases(ctx: ScenarioContextDep) -> list[dict[str, Any]]:
    return [shown(e) for e in ctx.events.list(states=OPEN, limit=200)]


@api.post("/hazards", status_code=201)
def report_hazard(body: HazardIn, ctx: ScenarioContextDep) -> dict[str, Any]:
    event = ctx.events.report(
        type="safety.hazard", title=body.title, area=body.area, address=body.address, attributes={"hazard": body.hazard}
    )
    return shown(event)
