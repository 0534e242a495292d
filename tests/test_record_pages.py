"""The portal pages of the three tables: list, view, add, edit and reveal, as a grid worker and a town admin."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from jiceng.core.audit import AuditEntry
from jiceng.core.i18n import both
from jiceng.core.records import service, validation
from jiceng.core.sample_world import COMMUNITY_A1, GRID_A1, GRID_A2, TOWN_A, TOWN_B

ZHANG = "11010519491231002X"  # valid, female, born 1949-12-31
MASKED = "110105********002X"


def person(area: str, name: str, id_number: str | None = None, **extra):
    return {"area_code": area, "name": name, **({"id_number": id_number} if id_number else {}), **extra}


def field_block(html: str, name: str) -> str:
    """The markup of one form field: from its label to the end of its ``div.field``."""
    start = html.index(f'<label for="{name}"')
    return html[start : html.index("</div>", start)]


def created_id(response) -> int:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/records/\w+/(\d+)\?saved=1", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def test_pages_need_a_login(client):
    response = client.get("/records/people?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/records/people%3Fq%3Dx"
    assert (
        client.post("/records/people/1/reveal", follow_redirects=False)
        .headers["location"]
        .endswith("next=/records/people/1")
    )


def test_grid_worker_lists_only_their_grid_masked(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    user_with_role("boss", "town_admin", TOWN_A)
    admin = login("boss")
    for body in (
        person(GRID_A1, "张秀英", ZHANG, phone="13812345678", tags=["高龄"]),
        person(GRID_A2, "甲二"),
        person(COMMUNITY_A1, "社区直属"),
    ):
        assert admin.post("/api/people", json=body).status_code == 201

    worker = login("wang")
    page = worker.get("/records/people")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "张秀英" in page.text and MASKED in page.text and "138****5678" in page.text
    assert ZHANG not in page.text and "13812345678" not in page.text
    assert "甲二" not in page.text and "社区直属" not in page.text
    assert 'href="/records/people/new"' in page.text  # grid workers may add
    # the grid select offers only the worker's grid
    assert re.findall(r'<option value="(\d{12,15})"', page.text) == [GRID_A1]

    everything = admin.get("/records/people").text
    assert all(name in everything for name in ("张秀英", "甲二", "社区直属"))
    only_a2 = admin.get("/records/people", params={"area": GRID_A2}).text
    assert "甲二" in only_a2 and "张秀英" not in only_a2
    old = admin.get("/records/people", params={"age_min": "70", "age_max": "", "tag": "高龄"}).text
    assert "张秀英" in old and "甲二" not in old
    # a search reaches the community; rows the worker may not open are listed without a link
    found = worker.get("/records/people", params={"q": "甲"}).text
    assert "甲二" in found and "/records/people/" not in found.split("rec-list", 1)[1].split("</ul>")[0]

    for plural in ("houses", "organisations"):
        assert worker.get(f"/records/{plural}").status_code == 200


def test_pagination_keeps_the_filters(user_with_role, login):
    user_with_role("boss", "town_admin", TOWN_A)
    admin = login("boss")
    for i in range(52):
        assert admin.post("/api/houses", json={"area_code": GRID_A1, "address": f"民族路{i}号"}).status_code == 201
    first = admin.get("/records/houses", params={"q": "民族路"}).text
    assert "1–50" in first and "52" in first
    assert f'href="/records/houses?q={"%E6%B0%91%E6%97%8F%E8%B7%AF"}&amp;page=2"' in first
    second = admin.get("/records/houses", params={"q": "民族路", "page": "2"}).text
    assert "民族路1号" in second and "民族路0号" in second and "民族路51号" not in second


def test_add_through_the_form_then_view(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    worker = login("wang")
    form = worker.get("/records/people/new")
    assert form.status_code == 200
    assert f'<option value="{GRID_A1}" selected' in form.text  # the only place the worker can add to
    response = worker.post(
        "/records/people/new",
        data={
            "area_code": GRID_A1,
            "name": "张秀英",
            "id_number": ZHANG.lower(),
            "phone": "138 1234 5678",
            "tags": "党员、高龄",
        },
        follow_redirects=False,
    )
    record_id = created_id(response)
    page = worker.get(response.headers["location"])
    assert page.status_code == 200
    assert "张秀英" in page.text and MASKED in page.text and "1949-12-31" in page.text
    assert "党员" in page.text and "高龄" in page.text
    assert ZHANG not in page.text and "13812345678" not in page.text
    assert f'href="/records/people/{record_id}/edit"' in page.text
    assert "/reveal" not in page.text  # no pii:view, no form
    history = page.text.split("rec-history", 1)[1]
    assert "wang" in history and MASKED in history

    org = worker.post(
        "/records/organisations/new",
        data={"area_code": GRID_A1, "name": "解放碑小面馆", "kind": "individual_business", "uscc": ""},
        follow_redirects=False,
    )
    assert "解放碑小面馆" in worker.get(f"/records/organisations/{created_id(org)}").text
    house = worker.post(
        "/records/houses/new",
        data={"area_code": GRID_A1, "address": "民族路1号", "use": "rental"},
        follow_redirects=False,
    )
    assert both("Rented out")[0] in worker.get(f"/records/houses/{created_id(house)}").text


def test_bad_id_number_is_explained_next_to_the_field(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    worker = login("wang")
    bad = "110105194912310021"  # wrong check character
    response = worker.post("/records/people/new", data={"area_code": GRID_A1, "name": "张秀英", "id_number": bad})
    assert response.status_code == 422
    reason = both(validation.ID_CHECKSUM)[0]
    assert reason in field_block(response.text, "id_number")
    assert 'value="张秀英"' in field_block(response.text, "name")
    assert f'value="{bad}"' in field_block(response.text, "id_number")
    missing = worker.post("/records/people/new", data={"area_code": "", "name": ""})
    assert missing.status_code == 422
    assert both("This field is required.")[0] in field_block(missing.text, "name")
    assert both("This field is required.")[0] in field_block(missing.text, "area_code")

    worker.cookies.set("lang", "en")
    english = worker.post("/records/people/new", data={"area_code": GRID_A1, "name": "Zhang", "id_number": bad})
    assert both(validation.ID_CHECKSUM)[1] in field_block(english.text, "id_number")


def test_the_form_cannot_add_outside_the_callers_areas(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    response = login("wang").post("/records/people/new", data={"area_code": GRID_A2, "name": "越界"})
    assert response.status_code == 403 and "text/html" in response.headers["content-type"]


def test_edit_keeps_hidden_numbers_and_refuses_a_stale_version(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    user_with_role("boss", "town_admin", TOWN_A)
    worker, admin = login("wang"), login("boss")
    made = worker.post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, phone="13812345678")).json()
    form = worker.get(f"/records/people/{made['id']}/edit")
    assert form.status_code == 200
    assert 'name="version" value="1"' in form.text
    assert 'value=""' in field_block(form.text, "id_number") and ZHANG not in form.text and MASKED not in form.text
    assert 'value="13812345678"' not in form.text
    assert f'value="{ZHANG}"' in field_block(admin.get(f"/records/people/{made['id']}/edit").text, "id_number")

    fields = {"version": "1", "area_code": GRID_A1, "name": "张秀英", "id_number": "", "phone": "", "ethnicity": "汉族"}
    saved = worker.post(f"/records/people/{made['id']}/edit", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/records/people/{made['id']}?saved=1"
    now = admin.get(f"/api/people/{made['id']}").json()
    assert now["ethnicity"] == "汉族" and now["version"] == 2
    assert now["id_number"] == MASKED and now["phone"] == "138****5678"  # blank kept the hidden values

    stale = worker.post(f"/records/people/{made['id']}/edit", data={**fields, "name": "张秀兰"})
    assert stale.status_code == 409
    assert service.stale(2, 1).message in stale.text
    assert 'value="张秀兰"' in stale.text  # what was typed is not lost
    assert admin.get(f"/api/people/{made['id']}").json()["name"] == "张秀英"


def test_reveal_needs_pii_view_and_a_reason_and_is_audited(user_with_role, login, engine):
    user_with_role("wang", "grid_worker", GRID_A1)
    user_with_role("boss", "town_admin", TOWN_A)
    user_with_role("other", "town_admin", TOWN_B)
    made = login("wang").post("/api/people", json=person(GRID_A1, "张秀英", ZHANG, phone="13812345678")).json()
    url = f"/records/people/{made['id']}/reveal"

    refused = login("wang").post(url, data={"reason": "核实"})
    assert refused.status_code == 403 and ZHANG not in refused.text
    assert login("other").post(url, data={"reason": "核实"}).status_code == 403

    admin = login("boss")
    assert 'action="' + url + '"' in admin.get(f"/records/people/{made['id']}").text
    empty = admin.post(url, data={"reason": "  "})
    assert empty.status_code == 422 and ZHANG not in empty.text
    assert both("This field is required.")[0] in empty.text

    shown = admin.post(url, data={"reason": "核实低保申请"})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert ZHANG in shown.text and "13812345678" in shown.text
    with Session(engine) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.action == "pii.view")).all()
    assert [(r.actor, r.target_type, r.target_id, r.detail["reason"]) for r in rows] == [
        ("boss", "person", str(made["id"]), "核实低保申请")
    ]


def test_unknown_record_is_a_404_page(user_with_role, login):
    user_with_role("wang", "grid_worker", GRID_A1)
    response = login("wang").get("/records/houses/999")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]


def test_a_clerk_uploads_a_ledger_and_gets_the_error_report(user_with_role, login, engine):
    from sqlmodel import Session, select

    from jiceng.core.audit import AuditEntry
    from jiceng.core.records.models import Person
    from jiceng.sdk.testing import valid_id_number

    user_with_role("wang", "grid_worker", "500103003001001")
    client = login("wang")
    assert client.get("/records/import/people").status_code == 200
    ledger = (
        "姓名,身份证号码,所属网格\n"
        f"王芳,{valid_id_number('19850302', 11)},500103003001001\n"
        f"李强,{valid_id_number('19600115', 22)},500103003001002\n"  # another grid: not hers to change
        "赵敏,36042619910102009X,500103003001001\n"
    ).encode("gb18030")
    page = client.post("/records/import/people", files={"ledger": ("台账.csv", ledger, "text/csv")})
    assert page.status_code == 200
    assert "新增" in page.text and "下载错误报告" in page.text
    assert "行/秒" in page.text  # the rate of the finished import
    link = page.text.split('href="/records/import/jobs/')[1].split('"')[0]
    report = client.get(f"/records/import/jobs/{link}")
    assert report.status_code == 200
    text = report.content.decode("utf-8-sig")
    assert "500103003001002" in text and "mistyped" in text
    with Session(engine) as s:
        assert [p.name for p in s.exec(select(Person)).all()] == ["王芳"]
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "records.import")).one().detail["rejected"] == 2
    user_with_role("li", "grid_worker", "500103001001001")
    assert login("li").get(f"/records/import/jobs/{link}").status_code == 404
    job = link.split("/")[0]
    assert client.get(f"/api/import-jobs/{job}").json()["summary"]["rejected"] == 2
    bad = client.post(
        "/records/import/people", files={"ledger": ("x.bin", b"\x00\x01binary", "application/octet-stream")}
    )
    assert bad.status_code == 422 and "CSV" in bad.text


def test_a_running_import_shows_its_progress_and_rate(user_with_role, login, monkeypatch):
    import time

    from jiceng.core.records import import_jobs
    from jiceng.core.web.routes import record_import

    user_with_role("wang", "grid_worker", "500103003001001")
    client = login("wang")
    monkeypatch.setattr(record_import, "WAIT_SECONDS", 0)
    job = "a" * 32
    import_jobs.folder(record_import.JOBS, job).mkdir(parents=True, exist_ok=True)
    running = import_jobs.Status(owner="wang", table="person", file="台账.csv", read=250_000, total=1_000_000)
    running.started, running.seconds = time.time() - 10, 10.0
    import_jobs.write_status(record_import.JOBS, job, running)
    page = client.get(f"/records/import/jobs/{job}")
    assert page.status_code == 200
    assert '<progress max="100" value="25">' in page.text and 'http-equiv="refresh"' in page.text
    assert "已处理 250,000 行，共约 1,000,000 行，每秒 25,000 行" in page.text
    status = client.get(f"/api/import-jobs/{job}").json()
    assert (status["state"], status["read"], status["total"], status["rows_per_second"]) == (
        "running",
        250_000,
        1_000_000,
        25_000,
    )
    user_with_role("li", "grid_worker", "500103003001001")
    assert login("li").get(f"/api/import-jobs/{job}").status_code == 404  # not hers


def test_an_import_whose_process_stopped_says_so_and_how_to_finish_it(user_with_role, login, monkeypatch):
    import json
    import time

    from jiceng.core.records import import_jobs
    from jiceng.core.web.routes import record_import

    user_with_role("wang", "grid_worker", "500103003001001")
    client = login("wang")
    monkeypatch.setattr(record_import, "WAIT_SECONDS", 0)
    job = "b" * 32
    import_jobs.folder(record_import.JOBS, job).mkdir(parents=True, exist_ok=True)
    import_jobs.write_status(record_import.JOBS, job, import_jobs.Status(owner="wang", table="person", file="台账.csv"))
    assert client.get(f"/api/import-jobs/{job}").json()["state"] == "running"

    written = import_jobs.folder(record_import.JOBS, job) / "status.json"
    stopped = json.loads(written.read_text(encoding="utf-8")) | {"beat": time.time() - import_jobs.STALE - 1}
    written.write_text(json.dumps(stopped), encoding="utf-8")  # its process last wrote long ago
    page = client.get(f"/records/import/jobs/{job}")
    assert page.status_code == 200 and 'http-equiv="refresh"' not in page.text  # no longer waiting
    assert "导入在完成前中断" in page.text and "已保存的行不会改变" in page.text
    status = client.get(f"/api/import-jobs/{job}").json()
    assert status["state"] == "interrupted" and "import the same file again" in status["problem"]["message_en"]


def test_an_import_broken_by_the_server_fails_without_logging_values(user_with_role, login, monkeypatch, caplog):
    from jiceng.core.records import import_jobs

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database said: 11010519491231002X")

    monkeypatch.setattr(import_jobs, "import_ledger", broken)
    user_with_role("wang", "grid_worker", "500103003001001")
    client = login("wang")
    ledger = "姓名,身份证号码\n王芳,11010519491231002X\n".encode()
    page = client.post("/records/import/people", files={"ledger": ("台账.csv", ledger, "text/csv")})
    assert page.status_code == 422 and "导入因服务器错误而停止" in page.text
    assert "RuntimeError" in caplog.text and "11010519491231002X" not in caplog.text
