"""The bundled 矛盾纠纷与安全隐患 scenario: its event types, its routing proposal, the SDK's events service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiceng.core.sample_world import GRID_A1, TOWN_A, TOWN_B

Client = Callable[..., TestClient]


@pytest.fixture
def scenario_id() -> str:
    return "safety"


@pytest.fixture
def scenario_settings() -> dict[str, Any]:
    return {"fire_department": "fire"}


def hazard(client: TestClient, kind: str, area: str = GRID_A1) -> Any:
    body = {"type": "safety.hazard", "title": "楼道堆放杂物", "area": area, "attributes": {"hazard": kind}}
    return client.post("/api/events", json=body)


def test_types_come_from_the_enabled_scenario(client_as: Client) -> None:
    codes = [t["code"] for t in client_as("grid_worker").get(f"/api/towns/{TOWN_A}/event-types").json()]
    assert codes == ["safety.dispute", "safety.hazard"]
    assert client_as("resident").get(f"/api/towns/{TOWN_A}/event-types").json()[0]["code"] == "safety.hazard"
    assert client_as("grid_worker", TOWN_B).get(f"/api/towns/{TOWN_B}/event-types").json() == []


def test_route_event_proposes_the_fire_department_and_the_type_default_otherwise(client_as: Client) -> None:
    grid = client_as("grid_worker")
    fire = hazard(grid, "fire").json()
    assert fire["suggested_department"] == "fire" and fire["attributes"] == {"hazard": "fire"}
    assert "<dd>消防</dd>" in grid.get(f"/events/{fire['id']}").text.replace("\n", "").replace(" ", "")
    assert hazard(grid, "gas").json()["suggested_department"] == "safety"
    dispute = grid.post(
        "/api/events",
        json={
            "type": "safety.dispute",
            "title": "邻里漏水纠纷",
            "area": GRID_A1,
            "attributes": {"dispute_kind": "neighbour"},
        },
    )
    assert dispute.json()["suggested_department"] == "judicial"
    missing = grid.post("/api/events", json={"type": "safety.dispute", "title": "纠纷", "area": GRID_A1})
    assert missing.json()["error"]["fields"][0]["field"] == "attributes.dispute_kind"


def test_the_scenario_reports_and_lists_only_its_own_events(client_as: Client) -> None:
    grid = client_as("grid_worker")
    made = grid.post("/api/s/safety/hazards", json={"title": "电线裸露", "area": GRID_A1, "hazard": "electric"})
    assert made.status_code == 201, made.text
    assert made.json()["code"].startswith("SJ-")
    assert grid.get(f"/api/events/{made.json()['id']}").json()["channel"] == "scenario"
    hazard(grid, "gas")
    listed = grid.get("/api/s/safety/open").json()
    assert {e["title"] for e in listed} == {"电线裸露", "楼道堆放杂物"}
    page = grid.get("/s/safety/")
    assert page.status_code == 200 and "电线裸露" in page.text
    wrong = grid.post("/api/s/safety/hazards", json={"title": "x", "area": GRID_A1, "hazard": "meteor"})
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "attributes.hazard"


def test_extension_fields_are_typed_filterable_versioned_and_in_the_history(
    client_as: Client, make_record: Callable[..., int]
) -> None:
    town_admin = client_as("town_admin")
    house = make_record("house", address="民族路88号", use="residential")
    other = make_record("house", address="民权路2号", use="residential")
    set_level = town_admin.put(
        f"/api/s/safety/houses/{house}/hazard",
        json={"hazard_level": "high", "inspected_on": "2026-11-20", "version": 1},
    )
    assert set_level.status_code == 200, set_level.text
    assert set_level.json()["extra"] == {"hazard_level": "high", "inspected_on": "2026-11-20"}
    assert set_level.json()["changed"] == ["hazard_level", "inspected_on"]
    stale = town_admin.put(f"/api/s/safety/houses/{house}/hazard", json={"hazard_level": "low", "version": 1})
    assert stale.status_code == 409
    wrong = town_admin.put(f"/api/s/safety/houses/{other}/hazard", json={"hazard_level": "severe", "version": 1})
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "extra.hazard_level"
    bad_date = town_admin.put(
        f"/api/s/safety/houses/{other}/hazard", json={"hazard_level": "low", "inspected_on": "20.11.2026", "version": 1}
    )
    assert bad_date.json()["error"]["fields"][0]["field"] == "extra.inspected_on"
    town_admin.put(f"/api/s/safety/houses/{other}/hazard", json={"hazard_level": "low", "version": 1})
    high = town_admin.get("/api/s/safety/houses", params={"hazard_level": "high"}).json()
    assert [(h["id"], h["address"]) for h in high] == [(house, "民族路88号")]
    assert "民族路88号" in town_admin.get("/s/safety/").text
    history = town_admin.get(f"/api/houses/{house}/history").json()
    fields = {row["field"]: (row["new"], row["source"]) for row in history}
    assert fields["extra.safety.hazard_level"] == ("high", "scenario")
