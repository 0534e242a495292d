"""One error shape everywhere, in Chinese and English, with the right status and no traceback."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient

from jiceng.core.sample_world import TOWN_A


def assert_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "message_en", "fields"}
    assert body["error"]["code"] == code


def test_unknown_address_is_404_in_both_languages(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert_shape(response.json(), "not_found")
    assert response.json()["error"]["message"] == "该地址不存在。"
    assert response.json()["error"]["message_en"] == "There is nothing at this address."


def test_unknown_area_is_404_naming_the_code(user_with_role, login):
    user_with_role("zhang", "town_admin", TOWN_A)
    response = login("zhang").get("/api/areas/500103999000")
    assert response.status_code == 404
    assert "500103999000" in response.json()["error"]["message"]


def test_no_login_is_401(client):
    response = client.get("/api/areas")
    assert response.status_code == 401
    assert_shape(response.json(), "unauthorized")


def test_validation_errors_name_each_field(user_with_role, login):
    user_with_role("zhang", "town_admin", TOWN_A)
    client = login("zhang")
    response = client.get("/api/areas", params={"limit": 0, "level": "planet"})
    assert response.status_code == 422
    assert_shape(response.json(), "invalid")
    fields = {f["field"]: f for f in response.json()["error"]["fields"]}
    assert set(fields) == {"limit", "level"}
    assert fields["limit"]["message"] == "不能小于 1。"
    bad_json = client.post("/api/grants", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422
    missing = client.post("/api/grants", json={"username": "x"})
    assert {f["field"] for f in missing.json()["error"]["fields"]} == {"role", "area_code"}


def test_a_bug_is_a_500_without_traceback(app):
    router = APIRouter()

    @router.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    assert response.status_code == 500
    assert_shape(response.json(), "internal")
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_pages_get_an_html_error_page(client):
    response = client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "<html" in response.text and "该地址不存在。" in response.text


def test_english_is_chosen_by_cookie_or_header(client):
    assert "Log in" in client.get("/login", headers={"accept-language": "en-US,en;q=0.9"}).text
    client.get("/lang/en")
    assert "Log in" in client.get("/login").text
    client.get("/lang/zh_CN")
    assert "登录" in client.get("/login").text
