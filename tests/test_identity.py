"""Logging in: argon2 hashes, the session cookie, bearer tokens, and the brakes on guessing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from jiceng.core.audit import AuditEntry
from jiceng.core.db import transaction
from jiceng.core.sample_world import PASSWORD, TOWN_A
from jiceng.core.users import ApiToken, User, get_user, issue_token, revoke_tokens


def test_passwords_are_argon2_hashes(user_with_role, engine):
    user_with_role("zhang")
    with Session(engine) as s:
        user = get_user(s, "zhang")
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_sets_a_signed_httponly_samesite_cookie(user_with_role, client):
    user_with_role("zhang", "town_admin", TOWN_A)
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert "您好，Zhang" in home.text and "镇街管理员" in home.text and "解放碑街道" in home.text
    assert client.get("/api/me").json()["grants"] == [
        {"role": "town_admin", "role_label": "镇街管理员", "area_code": TOWN_A}
    ]

    client.post("/logout")
    assert client.get("/api/me").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_forged_cookie_is_ignored(user_with_role, client):
    user_with_role("zhang")
    client.cookies.set("jiceng_session", "eyJ1aWQiOiAxfQ==.forged.signature")
    assert client.get("/api/me").status_code == 401


def test_wrong_password_is_401_and_audited(user_with_role, client, engine):
    user_with_role("zhang")
    response = client.post("/login", data={"username": "zhang", "password": "nope-nope"})
    assert response.status_code == 401
    assert "用户名或密码错误。" in response.text
    api = client.post("/api/auth/token", data={"username": "ghost", "password": "whatever1"})
    assert api.status_code == 401
    assert api.json()["error"] == {
        "code": "bad_credentials",
        "message": "用户名或密码错误。",
        "message_en": "Wrong username or password.",
        "fields": [],
    }
    with Session(engine) as s:
        actions = s.exec(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["login.portal.failed", "login.api.failed"]


def test_failures_are_rate_limited_per_user(user_with_role, app, settings):
    user_with_role("zhang")
    limit = settings.security.login_failures_per_user
    with TestClient(app) as client:
        for _ in range(limit):
            assert (
                client.post("/api/auth/token", data={"username": "zhang", "password": "wrong-pass"}).status_code == 401
            )
        blocked = client.post("/api/auth/token", data={"username": "zhang", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_attempts"
    assert "15" in blocked.json()["error"]["message"]


def test_failures_are_rate_limited_per_address(user_with_role, app, settings):
    user_with_role("zhang")
    limit = settings.security.login_failures_per_address
    with TestClient(app) as client:
        for i in range(limit):
            client.post("/api/auth/token", data={"username": f"guess{i}", "password": "wrong-pass"})
        assert client.post("/api/auth/token", data={"username": "zhang", "password": PASSWORD}).status_code == 429
    with TestClient(app, client=("10.1.2.3", 5000)) as other:
        assert other.post("/api/auth/token", data={"username": "zhang", "password": PASSWORD}).status_code == 200


def test_oauth2_password_flow_gives_a_working_token(user_with_role, client, engine):
    user_with_role("zhang", "town_admin", TOWN_A)
    response = client.post("/api/auth/token", data={"username": "zhang", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert response.json()["token_type"] == "bearer"
    with Session(engine) as s:
        stored = s.exec(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "zhang"


def test_personal_tokens_can_be_revoked(user_with_role, client, engine):
    user_with_role("robot", "handler", TOWN_A)
    with transaction(engine) as s:
        token = issue_token(s, get_user(s, "robot"), name="12345-bridge", days=None)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/areas/{TOWN_A}", headers=headers).status_code == 200
    with transaction(engine) as s:
        assert revoke_tokens(s, get_user(s, "robot")) == 1
    response = client.get(f"/api/areas/{TOWN_A}", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_token"
    assert response.headers["www-authenticate"] == "Bearer"


def test_deactivated_user_is_logged_out(user_with_role, login, engine):
    user_with_role("zhang", "town_admin", TOWN_A)
    client = login("zhang")
    with transaction(engine) as s:
        user = s.exec(select(User).where(User.username == "zhang")).one()
        user.is_active = False
        s.add(user)
    assert client.get("/api/me").status_code == 401


def test_login_redirects_only_to_local_pages(user_with_role, client):
    user_with_role("zhang")
    response = client.post(
        "/login", data={"username": "zhang", "password": PASSWORD, "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_cross_site_cookie_writes_are_refused(user_with_role, login):
    user_with_role("zhang", "town_admin", TOWN_A)
    client = login("zhang")
    response = client.post(
        "/api/grants",
        json={"username": "zhang", "role": "handler", "area_code": TOWN_A},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
