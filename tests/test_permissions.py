"""Who may do what where: area-scoped roles, deny by default, instant revocation, Casbin agreement."""

from __future__ import annotations

import random

from sqlmodel import Session

from jiceng.core.db import transaction
from jiceng.core.permissions.checker import Authorizer
from jiceng.core.permissions.service import grant_role, revoke_role
from jiceng.core.permissions.store import build_enforcer
from jiceng.core.sample_world import COMMUNITY_A1, GRID_A1, GRID_B1, TOWN_A, TOWN_B, TREE


def test_town_admin_reads_own_town_and_gets_403_for_sibling(user_with_role, login):
    user_with_role("zhang", "town_admin", TOWN_A)
    client = login("zhang")

    own = client.get(f"/api/areas/{COMMUNITY_A1}")
    assert own.status_code == 200
    assert own.json()["name"] == "解放碑一社区"

    sibling = client.get(f"/api/areas/{TOWN_B}")
    assert sibling.status_code == 403
    assert sibling.json()["error"]["code"] == "forbidden"
    assert "areas:read" in sibling.json()["error"]["message"]

    listed = client.get("/api/areas").json()
    codes = {a["code"] for a in listed["data"]}
    assert codes == {TOWN_A, COMMUNITY_A1, "500103003002", GRID_A1, "500103003001002"}
    assert listed["count"] == 5
    assert client.get("/api/areas", params={"under": TOWN_B}).status_code == 403


def test_revoking_takes_effect_on_the_next_request(user_with_role, login, engine):
    user_with_role("zhang", "town_admin", TOWN_A)
    client = login("zhang")
    assert client.get(f"/api/areas/{TOWN_A}").status_code == 200

    with transaction(engine) as s:
        revoke_role(s, actor="test", username="zhang", role="town_admin", area_code=TOWN_A)

    assert client.get(f"/api/areas/{TOWN_A}").status_code == 403
    assert client.get("/api/areas").status_code == 403


def test_grant_in_one_worker_reaches_another(user_with_role, engine, settings):
    """Two Authorizers stand for two worker processes sharing one database."""
    user_with_role("li")
    worker_a, worker_b = Authorizer(), Authorizer()
    with Session(engine) as s:
        for worker in (worker_a, worker_b):
            worker.refresh(s)
            assert not worker.grants(s, "li").holds_anywhere("areas:read")
    with transaction(engine) as s:
        grant_role(s, settings, actor="test", username="li", role="grid_worker", area_code=GRID_A1)
    with Session(engine) as s:
        worker_b.refresh(s)
        grants = worker_b.grants(s, "li")
    assert grants.allows("areas:read", f"/500000000000/500103000000/{TOWN_A}/{COMMUNITY_A1}/{GRID_A1}/")
    assert not grants.allows("areas:read", f"/500000000000/500103000000/{TOWN_A}/{COMMUNITY_A1}/")


def test_nobody_gets_anything_by_default(user_with_role, login):
    user_with_role("resident1", "resident", COMMUNITY_A1)
    user_with_role("nobody")
    for username in ("resident1", "nobody"):
        client = login(username)
        assert client.get("/api/areas").status_code == 403
        assert client.get(f"/api/areas/{COMMUNITY_A1}").status_code == 403


def test_grid_worker_sees_only_their_grid(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    client = login("wang")
    assert [a["code"] for a in client.get("/api/areas").json()["data"]] == [GRID_A1]
    assert client.get(f"/api/areas/{COMMUNITY_A1}").status_code == 403


def test_town_admin_cannot_mint_an_admin_or_grant_outside(user_with_role, login):
    user_with_role("zhang", "town_admin", TOWN_A)
    user_with_role("wang")
    client = login("zhang")

    ok = client.post("/api/grants", json={"username": "wang", "role": "grid_worker", "area_code": GRID_A1})
    assert ok.status_code == 200 and ok.json() == {"changed": True}
    assert (
        client.post("/api/grants", json={"username": "wang", "role": "admin", "area_code": TOWN_A}).status_code == 403
    )
    assert (
        client.post("/api/grants", json={"username": "wang", "role": "grid_worker", "area_code": GRID_B1}).status_code
        == 403
    )

    unknown = client.post("/api/grants", json={"username": "wang", "role": "wizard", "area_code": GRID_A1})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["fields"][0]["field"] == "role"

    wang = login("wang")
    assert wang.get(f"/api/areas/{GRID_A1}").status_code == 200
    revoked = client.post("/api/grants/revoke", json={"username": "wang", "role": "grid_worker", "area_code": GRID_A1})
    assert revoked.status_code == 200
    assert wang.get(f"/api/areas/{GRID_A1}").status_code == 403
    again = client.post("/api/grants/revoke", json={"username": "wang", "role": "grid_worker", "area_code": GRID_A1})
    assert again.status_code == 404


def test_fast_checker_agrees_with_casbin(user_with_role, engine, settings):
    """The compiled checker must give Casbin's own answer for every user, permission and area."""
    rng = random.Random(7)
    roles = ["admin", "town_admin", "dispatcher", "handler", "grid_worker", "leader", "resident"]
    codes = [code for code, *_ in TREE]
    for i in range(12):
        user_with_role(f"user{i}")
    with transaction(engine) as s:
        for i in range(12):
            for _ in range(rng.randint(0, 3)):
                grant_role(
                    s, settings, actor="test", username=f"user{i}", role=rng.choice(roles), area_code=rng.choice(codes)
                )
    enforcer = build_enforcer(engine)
    authorizer = Authorizer()
    perms = ["areas:read", "areas:manage", "users:read", "roles:grant", "pii:view", "audit:read"]
    paths = _paths()
    checked = 0
    with Session(engine) as s:
        authorizer.refresh(s)
        for i in range(12):
            grants = authorizer.grants(s, f"user{i}")
            for perm in perms:
                for path in paths.values():
                    assert grants.allows(perm, path) == enforcer.enforce(f"user{i}", path, perm), (i, perm, path)
                    checked += 1
    assert checked == 12 * len(perms) * len(TREE)


def _paths() -> dict[str, str]:
    parents = {code: parent for code, _name, _level, parent in TREE}
    paths = {}
    for code in parents:
        chain, cur = [], code
        while cur:
            chain.append(cur)
            cur = parents[cur]
        paths[code] = "/" + "/".join(reversed(chain)) + "/"
    return paths


def test_sql_scope_matches_the_check(user_with_role, engine, settings):
    """The list filter returns exactly the areas the per-area check allows."""
    from sqlmodel import col, select

    from jiceng.core.areas import Area

    user_with_role("mixed", "grid_worker", GRID_B1)
    with transaction(engine) as s:
        grant_role(s, settings, actor="test", username="mixed", role="handler", area_code=COMMUNITY_A1)
    authorizer = Authorizer()
    with Session(engine) as s:
        authorizer.refresh(s)
        grants = authorizer.grants(s, "mixed")
        visible = set(s.exec(select(Area.code).where(grants.filter("areas:read", col(Area.path)))).all())
        allowed = {a.code for a in s.exec(select(Area)).all() if grants.allows("areas:read", a.path)}
    assert visible == allowed == {GRID_B1, COMMUNITY_A1, GRID_A1, "500103003001002"}
