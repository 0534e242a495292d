"""The three tables as a grid worker, a town administrator and a search see them."""

from __future__ import annotations

from sqlmodel import Session, select

from jiceng.core.audit import AuditEntry
from jiceng.core.sample_world import COMMUNITY_A1, COMMUNITY_B1, GRID_A1, GRID_A2, GRID_B1

ZHANG = "11010519491231002X"  # valid, female, born 1949-12-31


def person(area: str, name: str, id_number: str | None = None, **extra):
    return {"area_code": area, "name": name, **({"id_number": id_number} if id_number else {}), **extra}


def test_create_fills_birth_and_gender_and_masks(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    client = login("wang")
    made = client.post(
        "/api/people",
        json=person(
            GRID_A1, "张秀英", "１１０１０５１９４９１２３１００２ｘ", phone="138 1234 5678", tags=["党员", "高龄"]
        ),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["id_number"] == "110105********002X"
    assert body["phone"] == "138****5678"
    assert body["birth_date"] == "1949-12-31" and body["gender"] == "female"
    assert body["tags"] == ["党员", "高龄"] and body["version"] == 1


def test_bad_input_names_the_field_in_both_languages(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    client = login("wang")
    bad = client.post("/api/people", json=person(GRID_A1, "", "36042619910102009X", phone="12345"))
    assert bad.status_code == 422
    fields = {f["field"]: f for f in bad.json()["error"]["fields"]}
    assert set(fields) == {"name", "id_number", "phone"}
    assert fields["id_number"]["message"] != fields["id_number"]["message_en"]
    mismatch = client.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, birth_date="1950-01-01"))
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["fields"][0]["field"] == "birth_date"
    duplicate = client.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG))
    assert duplicate.status_code == 201
    again = client.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG))
    assert again.status_code == 409


def test_grid_worker_sees_own_grid_and_searches_the_community(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    user_with_role("boss", "town_admin", "500103003000")
    admin = login("boss")
    for area, name in ((GRID_A1, "甲一"), (GRID_A2, "甲二"), (COMMUNITY_A1, "社区直属")):
        assert admin.post("/api/people", json=person(area, name)).status_code == 201
    user_with_role("li", "town_admin", "500103001000")
    assert login("li").post("/api/people", json=person(GRID_B1, "乙一")).status_code == 201

    worker = login("wang")
    listed = worker.get("/api/people").json()
    assert [p["name"] for p in listed["data"]] == ["甲一"] and listed["count"] == 1
    found = worker.get("/api/people", params={"q": "甲"}).json()
    assert sorted(p["name"] for p in found["data"]) == ["甲一", "甲二"]
    assert worker.get("/api/people", params={"q": "乙"}).json()["count"] == 0
    other = admin.get("/api/people").json()["data"]
    second = next(p for p in other if p["name"] == "甲二")
    assert worker.get(f"/api/people/{second['id']}").status_code == 403
    assert worker.patch(f"/api/people/{second['id']}", json={"version": 1, "name": "改名"}).status_code == 403
    assert worker.post("/api/people", json=person(COMMUNITY_B1, "越界")).status_code == 403


def test_pii_view_shows_full_numbers_with_a_reason_and_is_audited(user_with_role, login, engine):
    user_with_role("wang", "grid_worker", GRID_A1)
    user_with_role("boss", "town_admin", "500103003000")
    created = login("wang").post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, phone="13812345678")).json()
    worker = login("wang")
    assert worker.get(f"/api/people/{created['id']}", params={"reveal": True, "reason": "核实"}).status_code == 403
    admin = login("boss")
    assert admin.get(f"/api/people/{created['id']}", params={"reveal": True}).status_code == 422
    full = admin.get(f"/api/people/{created['id']}", params={"reveal": True, "reason": "核实低保申请"}).json()
    assert full["id_number"] == ZHANG and full["phone"] == "13812345678"
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "pii.view")).one()
    assert (
        entry.actor == "boss" and entry.detail == {"reason": "核实低保申请"} and entry.target_id == str(created["id"])
    )
    assert ZHANG not in str(entry.detail)


def test_stale_edit_is_409_and_history_shows_every_change(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    first, second = login("wang"), login("wang")
    made = first.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, phone="13812345678")).json()
    url = f"/api/people/{made['id']}"
    ok = first.patch(url, json={"version": 1, "current_address": "解放碑街道民族路1号", "tags": ["低保"]})
    assert ok.status_code == 200
    assert sorted(ok.json()["changed"]) == ["current_address", "tags"] and ok.json()["record"]["version"] == 2
    stale = second.patch(url, json={"version": 1, "current_address": "别处"})
    assert stale.status_code == 409
    assert "2" in stale.json()["error"]["message"]
    history = first.get(f"{url}/history").json()
    assert [h["field"] for h in history][:1] == ["current_address"]
    assert {h["field"] for h in history} >= {"name", "id_number", "phone", "current_address"}
    phone = next(h for h in history if h["field"] == "phone")
    assert phone["new"] == "138****5678" and phone["source"] == "portal" and phone["actor"] == "wang"
    assert first.delete(url, params={"version": 1}).status_code == 409
    assert first.delete(url, params={"version": 2}).status_code == 204
    assert first.get(url).status_code == 404


def test_search_by_id_tail_and_filters(user_with_role, login):
    user_with_role("boss", "town_admin", "500103003000")
    admin = login("boss")
    admin.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, tags=["高龄"]))
    admin.post("/api/people", json=person(GRID_A1, "小明", birth_date="2015-06-01"))
    assert [p["name"] for p in admin.get("/api/people", params={"q": "002X"}).json()["data"]] == ["张秀英"]
    assert [p["name"] for p in admin.get("/api/people", params={"q": ZHANG.lower()}).json()["data"]] == ["张秀英"]
    assert [p["name"] for p in admin.get("/api/people", params={"tag": "高龄"}).json()["data"]] == ["张秀英"]
    assert [p["name"] for p in admin.get("/api/people", params={"age_max": 18}).json()["data"]] == ["小明"]
    assert [p["name"] for p in admin.get("/api/people", params={"age_min": 70}).json()["data"]] == ["张秀英"]
    assert admin.get("/api/people", params={"kind": "enterprise"}).status_code == 422


def test_organisations_and_houses(user_with_role, login):
    user_with_role("boss", "town_admin", "500103003000")
    admin = login("boss")
    org = admin.post(
        "/api/organisations",
        json={"area_code": GRID_A1, "name": "渝中某公司", "kind": "enterprise", "uscc": "91110000600037341l"},
    )
    assert org.status_code == 201, org.text
    assert org.json()["uscc"] == "91110000600037341L"
    bad = admin.post(
        "/api/organisations",
        json={"area_code": GRID_A1, "name": "坏代码", "kind": "enterprise", "uscc": "91110000600037341M"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "uscc"
    house = admin.post(
        "/api/houses",
        json={"area_code": GRID_A1, "address": "民族路1号", "building": "1", "room": "101", "use": "rental"},
    )
    assert house.status_code == 201
    assert admin.get("/api/houses", params={"use": "rental"}).json()["count"] == 1
    assert admin.get("/api/organisations", params={"kind": "enterprise", "q": "渝中"}).json()["count"] == 1


def test_a_lower_authority_source_makes_a_conflict_not_a_change(engine, settings, user_with_role):
    from fastapi.testclient import TestClient

    from jiceng.core.records.models import FieldConflict
    from jiceng.core.web.app import create_app

    user_with_role("wang", "grid_worker", GRID_A1)
    ranked = settings.model_copy(
        update={"records": settings.records.model_copy(update={"authority": {"person.phone": ["portal", "api"]}})}
    )
    app = create_app(ranked, engine)
    with TestClient(app) as portal, TestClient(app) as api_client:
        portal.post("/login", data={"username": "wang", "password": "correct-horse-9"})
        token = api_client.post("/api/auth/token", data={"username": "wang", "password": "correct-horse-9"}).json()[
            "access_token"
        ]
        made = portal.post("/api/people", json=person(GRID_A1, "赵六", phone="13800001111")).json()
        headers = {"Authorization": f"Bearer {token}"}
        result = api_client.patch(
            f"/api/people/{made['id']}",
            json={"version": 1, "phone": "13900002222", "current_address": "新地址"},
            headers=headers,
        ).json()
        assert result["conflicts"] == ["phone"] and result["changed"] == ["current_address"]
        assert result["record"]["phone"] == "138****1111"
    with Session(engine) as s:
        conflict = s.exec(select(FieldConflict)).one()
    assert (conflict.field, conflict.current, conflict.proposed, conflict.source) == (
        "phone",
        "13800001111",
        "13900002222",
        "api",
    )


def test_export_returns_the_callers_records_masked_and_is_audited(user_with_role, login, engine):
    import csv
    import io

    from openpyxl import load_workbook

    user_with_role("boss", "town_admin", "500103003000")
    user_with_role("wang", "grid_worker", GRID_A1)
    admin = login("boss")
    admin.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, phone="13812345678", tags=["党员"]))
    admin.post("/api/people", json=person(GRID_A2, "李四"))
    assert login("wang").get("/api/people/export").status_code == 403
    exported = admin.get("/api/people/export")
    assert exported.status_code == 200 and exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["所属网格", "公民身份号码", "姓名"]
    zhang = next(r for r in rows if r[2] == "张秀英")
    assert zhang[1] == ZHANG and "党员" in zhang[-1]  # the town administrator holds pii:view
    xlsx = admin.get("/api/people/export", params={"format": "xlsx", "grid": GRID_A2})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][2] == "李四" and sheet.max_row == 2
    with Session(engine) as s:
        exports = s.exec(select(AuditEntry).where(AuditEntry.action == "records.export")).all()
    assert [e.detail["rows"] for e in exports] == [2, 1]


def test_quality_report(user_with_role, login):
    user_with_role("boss", "town_admin", "500103003000")
    admin = login("boss")
    admin.post("/api/people", json=person(GRID_A1, "重名", birth_date="1980-01-01", phone="13812345678"))
    admin.post("/api/people", json=person(GRID_A2, "重名", birth_date="1980-01-01"))
    report = admin.get("/api/quality", params={"area": "500103003000"}).json()
    people = report["tables"]["person"]
    assert people["total"] == 2
    assert people["fields"]["phone"] == {"filled": 1, "share": 0.5}
    assert people["fields"]["name"]["share"] == 1.0
    assert people["not_updated"] == 0
    assert report["duplicates"][0]["name"] == "重名" and report["duplicates"][0]["count"] == 2
    assert admin.get("/api/quality", params={"area": "500103001000"}).status_code == 403


def test_pages_count_the_whole_list_wherever_they_start(user_with_role, login):
    """The total is counted only when the page cannot tell it: it must be the same from every page."""
    user_with_role("boss", "town_admin", "500103003000")
    admin = login("boss")
    for n in range(5):
        assert admin.post("/api/people", json=person(GRID_A1, f"人{n}")).status_code == 201
    pages = {
        (offset, limit): admin.get("/api/people", params={"offset": offset, "limit": limit}).json()
        for offset, limit in ((0, 2), (2, 2), (4, 2), (0, 10), (3, 10), (9, 2))
    }
    assert {body["count"] for body in pages.values()} == {5}
    assert [len(pages[key]["data"]) for key in pages] == [2, 2, 1, 5, 2, 0]
    assert [p["name"] for p in pages[(2, 2)]["data"]] == ["人2", "人3"]
    found = admin.get("/api/people", params={"q": "人", "limit": 2}).json()
    assert found["count"] == 5 and len(found["data"]) == 2
