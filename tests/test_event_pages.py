"""The event loop's portal pages as their users meet them: the report form, the list, one event and its steps,
and the command centre's dashboard (with its JSON twin)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from jiceng.core.config import Settings
from jiceng.core.db import transaction, utcnow
from jiceng.core.events.models import Event
from jiceng.core.i18n import translate
from jiceng.core.sample_world import GRID_A1, GRID_A2, GRID_B1, TOWN_A, TOWN_B
from tests.test_events import LOCAL_TYPES, report, step, town  # noqa: F401 (town is a fixture)

Client = Callable[..., TestClient]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the signature is what the upload check reads
POTHOLE = "attr:local.pothole:size"


@pytest.fixture
def jiceng_settings(jiceng_settings: Settings, tmp_path: Path) -> Settings:
    events = jiceng_settings.events.model_validate(
        {"types": LOCAL_TYPES, "attachments": {"directory": str(tmp_path / "attachments")}}
    )
    return jiceng_settings.model_copy(update={"events": events})


def zh(msgid: str, **params: object) -> str:
    """A message as the Chinese page shows it (the English msgid until its translation is merged)."""
    return translate(msgid, "zh_CN", **params)


def form(**values: str) -> dict[str, str]:
    return {"town": TOWN_A, "type": "local.pothole", "title": "人民路12号门前坑洼", "area": GRID_A1, **values}


def field_block(html: str, name: str) -> str:
    """The markup of one form field: from its label to the end of its ``div.field``."""
    start = html.index(f'<label for="{name}"')
    return html[start : html.index("</div>", start)]


def created(response: Any) -> int:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/events/(\d+)\?done=report", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def step_actions(html: str) -> list[str]:
    """The steps the page offers, by the address their forms post to."""
    return re.findall(r'action="/events/\d+/steps/(\w+)"', html)


@pytest.mark.usefixtures("town")
def test_grid_worker_reports_through_the_form_and_sees_it(client_as: Client) -> None:
    grid = client_as("grid_worker")
    page = grid.get("/events/new")
    assert page.status_code == 200
    assert "道路坑洼" in page.text and "噪音扰民" in page.text  # staff see every type of the town
    assert "解放碑一社区第1网格" in page.text and "七星岗" not in page.text
    assert POTHOLE in page.text  # the type's own field

    answer = grid.post(
        "/events/new",
        data=form(description="坑深约十厘米", **{POTHOLE: "large"}, address="人民路12号", priority="urgent"),
        files=[("photos", ("hole.png", PNG, "image/png"))],
        follow_redirects=False,
    )
    event_id = created(answer)
    shown = grid.get(answer.headers["location"])
    assert shown.status_code == 200
    for text in (
        "人民路12号门前坑洼",
        "坑深约十厘米",
        "大小",
        "large",
        zh("Urgent"),
        zh("Waiting for acceptance"),
        zh("Reported."),
    ):
        assert text in shown.text, text
    photo = re.search(rf'src="(/api/events/{event_id}/attachments/\d+)"', shown.text)
    assert photo, "the photo is shown as a thumbnail"
    download = grid.get(photo.group(1))
    assert download.status_code == 200 and download.content == PNG
    assert step_actions(shown.text) == []  # a grid worker takes no step on a reported event

    listed = grid.get("/events")
    assert listed.status_code == 200
    assert "人民路12号门前坑洼" in listed.text and f'href="/events/{event_id}"' in listed.text
    assert zh("Waiting for acceptance") in listed.text and "道路坑洼" in listed.text
    assert grid.get("/api/events").json()["data"][0]["attributes"] == {"size": "large"}


@pytest.mark.usefixtures("town")
def test_errors_show_the_field_message_next_to_it(client_as: Client) -> None:
    grid = client_as("grid_worker")
    answer = grid.post(
        "/events/new",
        data=form(title="", reporter_contact="12345", **{POTHOLE: "huge"}),
        files=[("photos", ("notes.txt", b"just text", "text/plain"))],
    )
    assert answer.status_code == 422
    assert "此字段为必填项" in field_block(answer.text, "title")
    assert 'id="reporter_contact-error"' in field_block(answer.text, "reporter_contact")
    assert "必须是以下之一：small, large。" in field_block(answer.text, "attr-0-size")
    assert "只接受以下类型的文件" in field_block(answer.text, "photos")
    assert 'value="人民路12号门前坑洼"' not in answer.text and "解放碑一社区第1网格" in answer.text

    grid.cookies.set("lang", "en")
    english = grid.post("/events/new", data=form(area=GRID_B1))  # not one of the grid worker's areas
    assert english.status_code == 403
    assert "You do not have the permission events:report here." in english.text
    missing = grid.post("/events/new", data=form(type=""))
    assert missing.status_code == 422 and "This field is required." in field_block(missing.text, "type")
    assert grid.get("/api/events").json()["count"] == 0


@pytest.mark.usefixtures("town")
def test_resident_reports_public_types_sees_own_reports_and_rates_them(client_as: Client) -> None:
    resident, grid = client_as("resident"), client_as("grid_worker")
    page = resident.get("/events/new")
    assert "道路坑洼" in page.text and "噪音扰民" not in page.text
    private = resident.post("/events/new", data=form(type="local.noise", area=GRID_A2))
    assert private.status_code == 422 and "群众只能上报公开的事件类型" in field_block(private.text, "type")

    mine = created(
        resident.post("/events/new", data=form(area=GRID_A2, reporter_contact="13812345678"), follow_redirects=False)
    )
    report(grid, title="网格员看到的另一件事")
    listed = resident.get("/events")
    assert zh("My reports") in listed.text and "人民路12号门前坑洼" in listed.text and "另一件事" not in listed.text
    assert resident.get(f"/events/{mine}").status_code == 200
    assert "138****5678" in client_as("dispatcher").get(f"/events/{mine}").text

    dispatcher, handler = client_as("dispatcher"), client_as("handler")
    event = {"id": mine}
    for who, action, extra in (
        (dispatcher, "accept", {}),
        (dispatcher, "dispatch", {}),
        (handler, "start", {}),
        (handler, "resolve", {"note": "已填平"}),
        (dispatcher, "verify", {}),
    ):
        assert step(who, event, action, **extra).status_code == 200, action
    closed = resident.get(f"/events/{mine}")
    assert step_actions(closed.text) == ["evaluate"] and zh("Closed") in closed.text
    unrated = resident.post(f"/events/{mine}/steps/evaluate", data={})
    assert unrated.status_code == 422 and "请给出 1（非常不满意）到 5（非常满意）的评价。" in unrated.text
    rated = resident.post(f"/events/{mine}/steps/evaluate", data={"rating": "5"}, follow_redirects=False)
    assert rated.status_code == 303
    after = resident.get(rated.headers["location"])
    assert zh("Rated") in after.text and zh("{rating} of 5", rating=5) in after.text and step_actions(after.text) == []
    assert all(text in after.text for text in ("已填平", "Handler", "Dispatcher"))  # the timeline, with who did it


@pytest.mark.usefixtures("town")
def test_dispatcher_takes_steps_from_the_page_and_errors_show(client_as: Client) -> None:
    grid, dispatcher = client_as("grid_worker"), client_as("dispatcher")
    event = report(grid).json()
    page = dispatcher.get(f"/events/{event['id']}")
    assert step_actions(page.text) == ["accept", "reject", "escalate", "urge"]
    assert "不予立案" in page.text and "立案" in page.text

    no_note = dispatcher.post(f"/events/{event['id']}/steps/reject", data={"version": str(event["version"])})
    assert no_note.status_code == 422
    assert "请说明原因：此步骤需要填写意见。" in field_block(no_note.text, "reject-note")
    illegal = dispatcher.post(f"/events/{event['id']}/steps/verify", data={})
    assert illegal.status_code == 409 and "accept, reject, escalate, urge" in illegal.text

    accepted = dispatcher.post(f"/events/{event['id']}/steps/accept", data={"version": str(event["version"])})
    assert accepted.status_code == 200 and zh("Done: {step}", step="立案") in accepted.text  # followed the redirect
    dispatch_form = dispatcher.get(f"/events/{event['id']}").text
    assert '<option value="urban" selected>' in dispatch_form  # the suggested department
    stale = dispatcher.post(f"/events/{event['id']}/steps/dispatch", data={"version": str(event["version"])})
    assert stale.status_code == 409 and "事件已被他人修改" in stale.text
    sent = dispatcher.post(f"/events/{event['id']}/steps/dispatch", data={"department": "judicial"})
    assert zh("Done: {step}", step="派遣") in sent.text and "司法所" in sent.text


@pytest.mark.usefixtures("town")
def test_the_dispatcher_assigns_a_person_of_the_department_from_the_form(client_as: Client) -> None:
    grid, dispatcher = client_as("grid_worker"), client_as("dispatcher")
    event = report(grid).json()
    step(dispatcher, event, "accept")
    page = dispatcher.get(f"/events/{event['id']}").text
    choices = field_block(page, "dispatch-assignee")
    assert zh("Anyone in the department") in choices and '<optgroup label="城管办">' in choices
    assert '<option value="handler">Handler</option>' in choices  # the members, by the names they go by

    wrong = dispatcher.post(
        f"/events/{event['id']}/steps/dispatch", data={"department": "judicial", "assignee": "handler"}
    )
    assert wrong.status_code == 422
    assert zh("{user} is not a member of {department}.", user="handler", department="judicial") in field_block(
        wrong.text, "dispatch-assignee"
    )
    sent = dispatcher.post(f"/events/{event['id']}/steps/dispatch", data={"department": "urban", "assignee": "handler"})
    assert zh("Done: {step}", step="派遣") in sent.text and '城管办 <span class="muted">· Handler</span>' in sent.text


@pytest.mark.usefixtures("town")
def test_a_handler_outside_the_department_sees_no_step_forms(client_as: Client) -> None:
    grid, dispatcher, handler = client_as("grid_worker"), client_as("dispatcher"), client_as("handler")
    event = report(grid).json()
    step(dispatcher, event, "accept")
    step(dispatcher, event, "dispatch", department="judicial")
    page = handler.get(f"/events/{event['id']}")
    assert page.status_code == 200 and "司法所" in page.text
    assert step_actions(page.text) == []
    assert handler.post(f"/events/{event['id']}/steps/start", data={}).status_code == 403

    step(dispatcher, event, "reassign", department="urban", note="属城管职责")
    assert step_actions(handler.get(f"/events/{event['id']}").text) == ["start", "return", "request_extension"]
    asked = handler.post(f"/events/{event['id']}/steps/request_extension", data={"note": "等材料", "hours": "x"})
    assert asked.status_code == 422 and "必须是整数" in field_block(asked.text, "request_extension-hours")
    assert "approve_extension" not in step_actions(dispatcher.get(f"/events/{event['id']}").text)

    handler.post(f"/events/{event['id']}/steps/request_extension", data={"note": "等材料", "hours": "8"})
    assert step_actions(handler.get(f"/events/{event['id']}").text) == ["start", "return"]  # one request at a time
    waiting = dispatcher.get(f"/events/{event['id']}").text
    assert step_actions(waiting) == ["reassign", "approve_extension", "deny_extension", "escalate", "urge"]
    assert zh("{hours} more working hours asked for", hours=8) in waiting


@pytest.mark.usefixtures("town")
def test_the_dashboard_counts_a_scripted_town(client_as: Client, jiceng_engine: Engine) -> None:
    grid, dispatcher, handler = client_as("grid_worker"), client_as("dispatcher"), client_as("handler")
    waiting = report(grid, title="待立案的事").json()
    late = report(grid, title="超期的事").json()
    slow = report(dispatcher, title="要延期的事", area=GRID_A2).json()  # staff without records:edit: "portal"
    done = report(grid, title="待核查的事").json()
    report(client_as("grid_worker", TOWN_B), title="别的街道", area=GRID_B1)
    for event in (late, slow, done):
        step(dispatcher, event, "accept")
        step(dispatcher, event, "dispatch")
        step(handler, event, "start")
    step(handler, slow, "request_extension", hours=8, note="等材料")
    step(handler, done, "resolve", note="已处理")
    now = utcnow()
    with transaction(jiceng_engine) as s:
        s.execute(update(Event).where(Event.id == late["id"]).values(deadline=now - timedelta(hours=2)))
        s.execute(update(Event).where(Event.id == slow["id"]).values(deadline=now + timedelta(minutes=30)))

    board = dispatcher.get(f"/api/towns/{TOWN_A}/dashboard")
    assert board.status_code == 200, board.text
    data = board.json()
    assert data["today"]["total"] == 4 and data["today"]["by_channel"] == {"grid": 3, "portal": 1}
    assert {k: v for k, v in data["states"].items() if v} == {"reported": 1, "handling": 2, "resolved": 1}
    assert (data["deadlines"]["overdue"], data["deadlines"]["due_soon"]) == (1, 1)
    assert [(a["code"], a["open"], a["overdue"]) for a in data["areas"]] == [(GRID_A1, 3, 1), (GRID_A2, 1, 0)]
    assert [(d["code"], d["open"], d["overdue"]) for d in data["departments"]] == [("judicial", 0, 0), ("urban", 3, 1)]
    queues = {q["name"]: [e["id"] for e in q["events"]] for q in data["queues"]}
    assert queues == {
        "reported": [waiting["id"]],
        "resolved": [done["id"]],
        "extension": [slow["id"]],
        "overdue": [late["id"]],
    }

    page = dispatcher.get("/events/dashboard")
    assert page.status_code == 200
    assert "指挥中心" in page.text and "解放碑街道" in page.text
    for title in ("待立案的事", "超期的事", "要延期的事", "待核查的事"):
        assert title in page.text, title
    assert "别的街道" not in page.text and zh("Overdue") in page.text and zh("Due soon") in page.text

    late_only = dispatcher.get("/events?overdue=1").text
    assert "超期的事" in late_only and "待立案的事" not in late_only and zh("Overdue") in late_only
    assigned = handler.get("/events?mine=assigned&state=handling").text
    assert "超期的事" in assigned and "要延期的事" in assigned and "待核查的事" not in assigned
    assert "超期的事" not in dispatcher.get("/events?q=延期").text

    assert client_as("grid_worker").get("/events/dashboard").status_code == 403
    assert client_as("grid_worker").get(f"/api/towns/{TOWN_A}/dashboard").status_code == 403
    leader = client_as("leader").get(f"/events/dashboard?town={TOWN_B}")
    assert leader.status_code == 200 and "七星岗街道" in leader.text and "别的街道" in leader.text
    assert f'<option value="{TOWN_A}"' in leader.text  # a district leader picks the town


def test_home_links_to_the_event_pages(client_as: Client) -> None:
    grid = client_as("grid_worker").get("/").text
    assert 'href="/events"' in grid and 'href="/events/new"' in grid and "/events/dashboard" not in grid
    assert 'href="/events/dashboard"' in client_as("dispatcher").get("/").text
    assert zh("My reports") in client_as("resident").get("/").text


@pytest.mark.usefixtures("town")
def test_the_list_pages_through_newest_first(client_as: Client) -> None:
    grid = client_as("grid_worker")
    for n in range(21):
        assert report(grid, title=f"第{n}件事").status_code == 201
    first = grid.get("/events")
    assert first.text.index("第20件事") < first.text.index("第19件事") and "第0件事" not in first.text
    assert 'href="/events?page=2"' in first.text
    second = grid.get("/events?page=2")
    assert "第0件事" in second.text and "第1件事" not in second.text
    assert grid.get("/events?page=abc").status_code == 200  # a bad page number is page 1


@pytest.mark.usefixtures("town")
def test_a_caller_of_several_towns_picks_the_town_to_report_in(client_as: Client) -> None:
    leader = client_as("leader")  # holds events:report for the whole district
    first = leader.get("/events/new")
    assert f'<option value="{TOWN_A}"' in first.text and f'<option value="{TOWN_B}"' in first.text
    other = leader.get(f"/events/new?town={TOWN_B}")
    assert "七星岗一社区第1网格" in other.text and "解放碑一社区第1网格" not in other.text
    assert f'name="town" value="{TOWN_B}"' in other.text
    sent = leader.post("/events/new", data=form(town=TOWN_B, type="local.noise", area=GRID_B1), follow_redirects=False)
    assert "七星岗一社区第1网格" in leader.get(f"/events/{created(sent)}").text


@pytest.mark.usefixtures("town")
def test_photos_are_added_from_the_event_page_while_it_is_open(client_as: Client) -> None:
    grid, dispatcher = client_as("grid_worker"), client_as("dispatcher")
    event = report(grid).json()
    page = grid.get(f"/events/{event['id']}").text
    assert zh("Add photos") in page and 'enctype="multipart/form-data"' in page

    empty = grid.post(f"/events/{event['id']}/photos", files=[("photos", ("", b"", "application/octet-stream"))])
    assert empty.status_code == 422 and zh("This field is required.") in field_block(empty.text, "more-photos")
    text = grid.post(f"/events/{event['id']}/photos", files=[("photos", ("note.png", b"just text", "image/png"))])
    assert text.status_code == 422 and 'aria-invalid="true"' in field_block(text.text, "more-photos")

    added = grid.post(
        f"/events/{event['id']}/photos",
        files=[("photos", ("after.png", PNG, "image/png")), ("photos", ("wide.png", PNG, "image/png"))],
    )
    assert added.status_code == 200 and zh("Photos added.") in added.text  # followed the redirect
    assert added.text.count('alt="after.png"') == 1 and 'alt="wide.png"' in added.text

    step(dispatcher, event, "reject", note="不属实")
    closed = grid.get(f"/events/{event['id']}").text
    assert zh("Add photos") not in closed and 'alt="after.png"' in closed
    late = grid.post(f"/events/{event['id']}/photos", files=[("photos", ("late.png", PNG, "image/png"))])
    assert late.status_code == 409 and zh("Files can be attached only while the event is open.") in late.text
