"""The command centre's set-up page: departments, members and dispatch rules, as a town administrator uses it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from jiceng.core.sample_world import COMMUNITY_A1, TOWN_A, TOWN_B

Client = Callable[..., TestClient]


def test_a_town_admin_sets_up_departments_members_and_rules(client_as: Client) -> None:
    admin = client_as("town_admin")
    page = admin.get("/admin/events")
    assert page.status_code == 200 and "部门与分拨规则" in page.text and "暂无部门" in page.text
    made = admin.post(
        "/admin/events/departments", data={"town": TOWN_A, "code": "urban", "name": "城管办"}, follow_redirects=False
    )
    assert made.status_code == 303
    again = admin.post("/admin/events/departments", data={"town": TOWN_A, "code": "urban", "name": "又一个"})
    assert again.status_code == 422 and "已有部门 urban" in again.text
    department = admin.get(f"/api/towns/{TOWN_A}/departments").json()[0]
    admin.post(f"/admin/events/departments/{department['id']}/members", data={"town": TOWN_A, "username": "handler"})
    assert admin.get(f"/api/towns/{TOWN_A}/departments").json()[0]["members"] == ["handler"]
    ruled = admin.post("/admin/events/rules", data={"town": TOWN_A, "area": COMMUNITY_A1, "department": "urban"})
    assert ruled.status_code == 200 and "任意类型" in ruled.text  # back on the page, the rule listed
    shown = admin.get("/admin/events").text
    assert "handler" in shown and COMMUNITY_A1 in shown
    ghost = admin.post("/admin/events/rules", data={"town": TOWN_A, "area": COMMUNITY_A1, "department": "ghost"})
    assert ghost.status_code == 422 and "没有部门 ghost" in ghost.text
    rule = admin.get("/api/dispatch-rules").json()[0]
    admin.post(f"/admin/events/rules/{rule['id']}/delete", data={"town": TOWN_A})
    assert admin.get("/api/dispatch-rules").json() == []
    admin.post(f"/admin/events/departments/{department['id']}/members/handler/remove", data={"town": TOWN_A})
    assert admin.get(f"/api/towns/{TOWN_A}/departments").json()[0]["members"] == []


def test_others_cannot_change_the_set_up(client_as: Client) -> None:
    assert client_as("dispatcher").get("/admin/events").status_code == 403
    other = client_as("town_admin", TOWN_B)
    refused = other.post("/admin/events/departments", data={"town": TOWN_A, "code": "urban", "name": "城管办"})
    assert refused.status_code == 403


def test_the_home_page_links_the_set_up_pages_for_those_who_may_use_them(client_as: Client) -> None:
    admin_home = client_as("town_admin").get("/").text
    assert 'href="/admin/events"' in admin_home and 'href="/admin/open311"' in admin_home
    assert 'href="/admin/scenarios"' in admin_home and 'href="/events/assessment"' in admin_home
    grid_home = client_as("grid_worker").get("/").text
    assert "/admin/" not in grid_home and 'href="/events/new"' in grid_home
