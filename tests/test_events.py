"""The event loop as its users meet it: report, accept, dispatch, handle, verify, rate; and every detour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiceng.core.config import Settings
from jiceng.core.db import transaction
from jiceng.core.sample_world import DISTRICT, GRID_A1, GRID_B1, TOWN_A, TOWN_B, make_user

Client = Callable[..., TestClient]

LOCAL_TYPES = [
    {
        "code": "local.pothole",
        "zh": "道路坑洼",
        "en": "Pothole",
        "category": "city_appearance",
        "deadline_hours": 16,
        "department": "urban",
        "public": True,
        "fields": [{"name": "size", "zh": "大小", "en": "Size", "kind": "choice", "choices": ["small", "large"]}],
    },
    {"code": "local.noise", "zh": "噪音扰民", "en": "Noise", "category": "livelihood", "deadline_days": 2},
]


@pytest.fixture
def jiceng_settings(jiceng_settings: Settings) -> Settings:
    events = jiceng_settings.events.model_validate(jiceng_settings.events.model_dump() | {"types": LOCAL_TYPES})
    return jiceng_settings.model_copy(update={"events": events})


@pytest.fixture
def town(client_as: Client) -> dict[str, Any]:
    """Town A's departments, made by its administrator: 城管 (urban) with the handler, 司法所 (judicial)."""
    admin = client_as("town_admin")
    urban = admin.post(f"/api/towns/{TOWN_A}/departments", json={"code": "urban", "name": "城管办"}).json()
    judicial = admin.post(f"/api/towns/{TOWN_A}/departments", json={"code": "judicial", "name": "司法所"}).json()
    assert admin.post(f"/api/departments/{urban['id']}/members", json={"username": "handler"}).status_code == 201
    return {"admin": admin, "urban": urban, "judicial": judicial}


def report(client: TestClient, **values: Any) -> Any:
    body = {"type": "local.pothole", "title": "人民路12号门前坑洼", "area": GRID_A1, **values}
    return client.post("/api/events", json=body)


def step(client: TestClient, event: dict[str, Any], action: str, **values: Any) -> Any:
    return client.post(f"/api/events/{event['id']}/actions/{action}", json=values)


def test_an_event_walks_every_state_with_the_right_people(client_as: Client, town: dict[str, Any]) -> None:
    grid, dispatcher, handler = client_as("grid_worker"), client_as("dispatcher"), client_as("handler")
    created = report(grid, attributes={"size": "large"}, description="坑深约十厘米")
    assert created.status_code == 201, created.text
    event = created.json()
    assert event["code"].startswith("SJ-") and event["code"].endswith("-0001")
    assert (event["state"], event["channel"], event["suggested_department"]) == ("reported", "grid", "urban")

    assert step(handler, event, "accept").status_code == 403  # only the command centre accepts
    assert step(dispatcher, event, "accept").json()["state"] == "accepted"
    dispatched = step(dispatcher, event, "dispatch").json()  # the proposal: urban
    assert (dispatched["state"], dispatched["department"]) == ("dispatched", "urban")
    deadline = dispatched["deadline"]

    assert step(handler, event, "start").json()["assignee"] == "handler"
    asked = step(handler, event, "request_extension", hours=8, note="等待沥青")
    assert asked.json()["pending_extension_hours"] == 8
    again = step(handler, event, "request_extension", hours=8, note="再等")
    assert again.status_code == 409
    approved = step(dispatcher, event, "approve_extension").json()
    assert approved["extension_count"] == 1 and approved["deadline"] > deadline

    assert step(handler, event, "resolve").status_code == 422  # a note is required
    assert step(handler, event, "resolve", note="已填平").json()["state"] == "resolved"
    reworked = step(dispatcher, event, "rework", note="边缘未压实").json()
    assert (reworked["state"], reworked["rework_count"]) == ("handling", 1)
    step(handler, event, "resolve", note="已压实")
    assert step(dispatcher, event, "verify").json()["state"] == "closed"
    assert step(dispatcher, event, "rework", note="太晚了").status_code == 409
    rated = step(grid, event, "evaluate", rating=4).json()
    assert (rated["state"], rated["rating"]) == ("evaluated", 4)

    illegal = step(dispatcher, event, "verify")
    assert illegal.status_code == 409
    assert illegal.json()["error"]["allowed"] == []
    shown = grid.get(f"/api/events/{event['id']}").json()
    assert [a["action"] for a in shown["timeline"]] == [
        "report", "accept", "dispatch", "start", "request_extension", "approve_extension",
        "resolve", "rework", "resolve", "verify", "evaluate",
    ]  # fmt: skip
    assert shown["timeline"][7]["actor"] == "dispatcher" and shown["timeline"][7]["note"] == "边缘未压实"


def test_return_reassign_and_escalation(
    client_as: Client, town: dict[str, Any], jiceng_engine: Any, jiceng_settings: Settings
) -> None:
    grid, dispatcher, handler = client_as("grid_worker"), client_as("dispatcher"), client_as("handler")
    event = report(grid, type="local.noise", title="夜间施工噪音").json()
    assert event["suggested_department"] == ""
    step(dispatcher, event, "accept")
    missing = step(dispatcher, event, "dispatch")
    assert missing.status_code == 422 and missing.json()["error"]["fields"][0]["field"] == "department"
    unknown = step(dispatcher, event, "dispatch", department="nope")
    assert unknown.json()["error"]["fields"][0]["field"] == "department"
    step(dispatcher, event, "dispatch", department="judicial")
    assert step(handler, event, "start").status_code == 403  # not a member of judicial
    moved = step(dispatcher, event, "reassign", department="urban", note="属城管职责").json()
    assert moved["department"] == "urban"
    returned = step(handler, event, "return", note="应由派出所处理").json()
    assert (returned["state"], returned["department"], returned["return_count"]) == ("accepted", None, 1)

    escalated = step(dispatcher, event, "escalate", note="涉及多个街道").json()
    assert (escalated["state"], escalated["escalation_count"]) == ("accepted", 1)
    assert step(dispatcher, event, "dispatch", department="urban").status_code == 403  # the district owns it now
    with transaction(jiceng_engine) as s:
        make_user(s, jiceng_settings, "district_centre", "dispatcher", DISTRICT)
    district = client_as_user(client_as, "district_centre")
    assert step(district, event, "dispatch", department="urban").json()["state"] == "dispatched"
    leader = client_as("leader")
    assert step(leader, event, "urge", note="请加快").json()["urge_count"] == 1
    assert step(grid, event, "urge", note="快点").status_code == 403


def client_as_user(client_as: Client, username: str) -> TestClient:
    """A client for a user made in the test (``client_as`` knows the sample users by role)."""
    from jiceng.core.sample_world import PASSWORD

    client = client_as("resident")  # any logged-in client, then log in again as the user
    client.post("/logout", follow_redirects=False)
    response = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    return client


def test_same_external_id_twice_makes_one_event(client_as: Client, town: dict[str, Any]) -> None:
    dispatcher = client_as("dispatcher")
    first = report(dispatcher, external_id="12345-2026-0001", channel="hotline", reporter_contact="13812345678")
    second = report(dispatcher, external_id="12345-2026-0001", channel="hotline", title="重复推送")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["title"] == "人民路12号门前坑洼"
    assert first.json()["channel"] == "hotline"
    assert len(dispatcher.get("/api/events").json()["data"]) == 1


def test_residents_report_public_types_and_see_only_their_own(client_as: Client, town: dict[str, Any]) -> None:
    resident = client_as("resident")
    types = resident.get(f"/api/towns/{TOWN_A}/event-types").json()
    assert [t["code"] for t in types] == ["local.pothole"]
    mine = report(resident, area="500103003001", reporter_contact="13812345678")
    assert mine.status_code == 201 and mine.json()["channel"] == "portal"
    private = report(resident, type="local.noise", area="500103003001")
    assert private.status_code == 422 and private.json()["error"]["fields"][0]["field"] == "type"
    report(client_as("grid_worker"), title="另一件事")
    assert [e["id"] for e in resident.get("/api/events").json()["data"]] == [mine.json()["id"]]
    dispatcher = client_as("dispatcher")
    assert dispatcher.get(f"/api/events/{mine.json()['id']}").json()["reporter_contact"] == "138****5678"
    assert client_as("town_admin").get(f"/api/events/{mine.json()['id']}").json()["reporter_contact"] == "13812345678"
    assert client_as("grid_worker", TOWN_B).get(f"/api/events/{mine.json()['id']}").status_code == 404


def test_bad_reports_name_the_field(client_as: Client, town: dict[str, Any]) -> None:
    grid = client_as("grid_worker")
    cases = {
        "title": {"title": ""},
        "type": {"type": "local.unknown"},
        "area": {"area": "999999999999"},
        "attributes.size": {"attributes": {"size": "huge"}},
        "attributes.colour": {"attributes": {"colour": "red"}},
        "latitude": {"latitude": 123},
        "reporter_contact": {"reporter_contact": "12345"},
    }
    for field, values in cases.items():
        answer = report(grid, **values)
        assert answer.status_code == 422, (field, answer.text)
        error = answer.json()["error"]
        assert error["fields"][0]["field"] == field, (field, error)
        assert error["message"] and error["message_en"]
    outside = report(grid, area=GRID_B1)
    assert outside.status_code == 403
    assert grid.get("/api/events").json()["count"] == 0


def test_dispatch_rules_beat_the_type_default(client_as: Client, town: dict[str, Any]) -> None:
    admin = town["admin"]
    rule = admin.post(
        "/api/dispatch-rules", json={"area": "500103003001", "type": "local.pothole", "department": "judicial"}
    )
    assert rule.status_code == 201, rule.text
    assert admin.post("/api/dispatch-rules", json={"area": TOWN_A, "department": "ghost"}).status_code == 422
    assert report(client_as("grid_worker")).json()["suggested_department"] == "judicial"
    assert (
        client_as("dispatcher").post("/api/dispatch-rules", json={"area": TOWN_A, "department": "urban"}).status_code
        == 403
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_photos_are_checked_by_content_and_served_to_those_who_see_the_event(
    client_as: Client, town: dict[str, Any]
) -> None:
    grid = client_as("grid_worker")
    event = report(grid).json()
    url = f"/api/events/{event['id']}/attachments"
    added = grid.post(url, files={"file": ("现场.png", PNG, "image/png")})
    assert added.status_code == 201, added.text
    assert (added.json()["content_type"], added.json()["size"]) == ("image/png", len(PNG))
    disguised = grid.post(url, files={"file": ("photo.jpg", b"MZ\x90\x00 not a photo", "image/jpeg")})
    assert disguised.status_code == 422 and disguised.json()["error"]["fields"][0]["field"] == "file"
    empty = grid.post(url, files={"file": ("empty.png", b"", "image/png")})
    assert empty.status_code == 422
    shown = grid.get(f"/api/events/{event['id']}").json()["attachments"]
    assert [a["filename"] for a in shown] == ["现场.png"]
    photo = grid.get(f"{url}/{shown[0]['id']}")
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert client_as("grid_worker", TOWN_B).get(f"{url}/{shown[0]['id']}").status_code == 404
    dispatcher = client_as("dispatcher")
    step(dispatcher, event, "reject", note="重复上报")
    assert grid.post(url, files={"file": ("late.png", PNG, "image/png")}).status_code == 409


def test_the_counts_by_state_follow_every_report_and_step_and_can_be_rebuilt(
    client_as: Client, town: dict[str, Any], jiceng_engine: Any
) -> None:
    from sqlmodel import Session

    from jiceng.core.events import counts

    grid, dispatcher = client_as("grid_worker"), client_as("dispatcher")
    first, second, third = (report(grid, title=f"第{i}件").json() for i in range(3))
    step(dispatcher, first, "accept")
    step(dispatcher, first, "dispatch")
    step(dispatcher, second, "reject", note="重复")
    step(dispatcher, first, "verify")  # illegal: counts must not move
    expected = {"reported": 1, "dispatched": 1, "rejected": 1}
    with Session(jiceng_engine) as s:
        kept = {k: v for k, v in counts.of_town(s, TOWN_A).items() if v}
        assert kept == expected
        counts.rebuild(s)
        s.commit()
        assert {k: v for k, v in counts.of_town(s, TOWN_A).items() if v} == expected
    board = dispatcher.get(f"/api/towns/{TOWN_A}/dashboard").json()
    assert {k: v for k, v in board["states"].items() if v} == expected
    assert third["state"] == "reported"
