"""Open311 GeoReport v2 as a 311 client meets it: services, definitions, posting with a key, following a request."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from jiceng.core.audit import AuditEntry
from jiceng.core.config import Settings
from jiceng.core.db import transaction
from jiceng.core.events.models import Event
from jiceng.core.open311.keys import create_client
from jiceng.core.sample_world import COMMUNITY_A1, GRID_B1, TOWN_A, TOWN_B

Client = Callable[..., TestClient]
BASE = "/open311/v2"

LOCAL_TYPES = [
    {
        "code": "local.pothole",
        "zh": "道路坑洼",
        "en": "Pothole",
        "category": "city_appearance",
        "deadline_hours": 16,
        "department": "urban",
        "public": True,
        "fields": [
            {"name": "size", "zh": "大小", "en": "Size", "kind": "choice", "choices": ["small", "large"]},
            {"name": "depth", "zh": "深度（厘米）", "en": "Depth (cm)", "kind": "number", "required": True},
            {"name": "seen_on", "zh": "发现日期", "en": "Seen on", "kind": "date"},
            {"name": "landmark", "zh": "参照物", "en": "Landmark"},
        ],
    },
    {"code": "local.noise", "zh": "噪音扰民", "en": "Noise", "category": "livelihood", "deadline_days": 2},
]
PHONE = "13812345678"


@pytest.fixture
def jiceng_settings(jiceng_settings: Settings) -> Settings:
    events = jiceng_settings.events.model_validate(jiceng_settings.events.model_dump() | {"types": LOCAL_TYPES})
    return jiceng_settings.model_copy(update={"events": events})


@pytest.fixture
def town(client_as: Client) -> dict[str, Any]:
    """Town A's department 城管办 (urban), with the handler in it."""
    admin = client_as("town_admin")
    urban = admin.post(f"/api/towns/{TOWN_A}/departments", json={"code": "urban", "name": "城管办"}).json()
    assert admin.post(f"/api/departments/{urban['id']}/members", json={"username": "handler"}).status_code == 201
    return urban


@pytest.fixture
def api_key(jiceng_world: None, jiceng_engine: Any) -> str:
    with transaction(jiceng_engine) as session:
        _, key = create_client(session, name="citizen-app", actor="test", area=None)
    return key


def post(client: TestClient, key: str | None, fmt: str = "json", **values: Any) -> Any:
    form = {
        "jurisdiction_id": TOWN_A,
        "service_code": "local.pothole",
        "lat": "29.5583",
        "long": "106.5770",
        "address_string": "民族路 100 号",
        "description": "人行道上一个深坑\n已有人绊倒",
        "attribute[depth]": "12",
        "attribute[size]": "large",
        "attribute[seen_on]": "2026-11-26T08:00:00+08:00",
        "phone": PHONE,
        "email": "someone@example.com",
        "first_name": "三",
        "last_name": "张",
        **({"api_key": key} if key is not None else {}),
        **values,
    }
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def descriptions(response: Any) -> str:
    return " | ".join(e["description"] for e in response.json())


def step(client: TestClient, event_id: int, action: str, **values: Any) -> dict[str, Any]:
    answer = client.post(f"/api/events/{event_id}/actions/{action}", json=values)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_services_and_their_definitions_in_json_and_xml(anonymous_client: TestClient) -> None:
    listed = anonymous_client.get(f"{BASE}/services.json", params={"jurisdiction_id": TOWN_A})
    assert listed.status_code == 200, listed.text
    (service,) = listed.json()  # the public type only: local.noise is not open to the public
    assert (service["service_code"], service["service_name"], service["metadata"], service["type"]) == (
        "local.pothole",
        "道路坑洼",
        True,
        "realtime",
    )
    english = anonymous_client.get(
        f"{BASE}/services.json", params={"jurisdiction_id": TOWN_A}, headers={"Accept-Language": "en"}
    )
    assert english.json()[0]["service_name"] == "Pothole"

    root = ET.fromstring(anonymous_client.get(f"{BASE}/services.xml", params={"jurisdiction_id": TOWN_A}).content)
    assert root.tag == "services" and [s.findtext("service_code") for s in root.findall("service")] == ["local.pothole"]
    assert root.find("service/metadata").text == "true"  # type: ignore[union-attr]

    missing = anonymous_client.get(f"{BASE}/services.json")  # two towns: the client must say which
    assert missing.status_code == 400 and "jurisdiction_id" in descriptions(missing)
    assert missing.json()[0]["code"] == 400 and " / " in missing.json()[0]["description"]  # Chinese / English
    unknown = anonymous_client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "999999999999"})
    assert unknown.status_code == 400
    error = ET.fromstring(unknown.content)
    assert error.tag == "errors" and error.findtext("error/code") == "400"
    assert "jurisdiction_id" in (error.findtext("error/description") or "")

    definition = anonymous_client.get(f"{BASE}/services/local.pothole.json", params={"jurisdiction_id": TOWN_A})
    assert definition.status_code == 200, definition.text
    body = definition.json()
    assert body["service_code"] == "local.pothole"
    shown = {a["code"]: a for a in body["attributes"]}
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3, 4]
    assert {c: a["datatype"] for c, a in shown.items()} == {
        "size": "singlevaluelist",
        "depth": "number",
        "seen_on": "datetime",
        "landmark": "string",
    }
    assert shown["depth"]["required"] is True and shown["size"]["required"] is False
    assert shown["size"]["values"] == [{"key": "small", "name": "small"}, {"key": "large", "name": "large"}]
    assert shown["size"]["description"] == "大小" and shown["size"]["variable"] is True

    xml = ET.fromstring(
        anonymous_client.get(f"{BASE}/services/local.pothole.xml", params={"jurisdiction_id": TOWN_A}).content
    )
    assert xml.tag == "service_definition"
    size = xml.find("attributes/attribute[code='size']")
    assert size is not None and size.findtext("datatype") == "singlevaluelist"
    assert [v.findtext("key") for v in size.findall("values/value")] == ["small", "large"]

    private = anonymous_client.get(f"{BASE}/services/local.noise.json", params={"jurisdiction_id": TOWN_A})
    assert private.status_code == 404 and private.json()[0]["code"] == 404
    assert anonymous_client.get(f"{BASE}/services.csv", params={"jurisdiction_id": TOWN_A}).status_code == 404

    found = ET.fromstring(anonymous_client.get(f"{BASE}/discovery.xml").content)
    assert found.tag == "discovery"
    assert found.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in found.findall("endpoints/endpoint/formats/format")] == ["application/json", "text/xml"]
    assert anonymous_client.get(f"{BASE}/discovery.json").json()["endpoints"][0]["url"].endswith("/open311/v2/")


def test_posting_needs_a_key_a_service_and_a_location(anonymous_client: TestClient, api_key: str) -> None:
    assert post(anonymous_client, None).status_code == 403
    wrong = post(anonymous_client, "o311_not-a-key")
    assert wrong.status_code == 403 and "api_key" in descriptions(wrong)
    xml_wrong = post(anonymous_client, "o311_not-a-key", fmt="xml")
    assert xml_wrong.status_code == 403 and ET.fromstring(xml_wrong.content).findtext("error/code") == "403"

    no_service = post(anonymous_client, api_key, service_code="")
    assert no_service.status_code == 400 and descriptions(no_service).startswith("service_code: ")
    private = post(anonymous_client, api_key, service_code="local.noise")
    assert private.status_code == 400 and "service_code" in descriptions(private)
    nowhere = post(anonymous_client, api_key, lat=None, long=None, address_string=None)
    assert nowhere.status_code == 400
    assert all(name in descriptions(nowhere) for name in ("lat", "address_string", "address_id"))
    half = post(anonymous_client, api_key, long=None, address_string=None)
    assert half.status_code == 400 and descriptions(half).startswith("long: ")

    cases = {
        "attribute[size]": {"attribute[size]": "huge"},
        "attribute[depth]": {"attribute[depth]": ""},
        "attribute[colour]": {"attribute[colour]": "red"},
        "lat": {"lat": "north"},
        "phone": {"phone": "12345"},
        "address_id": {"address_id": GRID_B1},  # a grid of another town
        "media_url": {"media_url": "ftp://example.com/a.jpg"},
    }
    for name, values in cases.items():
        answer = post(anonymous_client, api_key, **values)
        assert answer.status_code == 400, (name, answer.text)
        assert f"{name}: " in descriptions(answer), (name, answer.json())
        assert PHONE not in answer.text
    as_json = anonymous_client.post(f"{BASE}/requests.json", json={"api_key": api_key})
    assert as_json.status_code == 400
    assert anonymous_client.get(f"{BASE}/requests.json", params={"jurisdiction_id": TOWN_A}).json() == []


def test_a_request_is_followed_until_the_command_centre_closes_it(
    anonymous_client: TestClient, client_as: Client, town: dict[str, Any], api_key: str, jiceng_engine: Any
) -> None:
    posted = post(anonymous_client, api_key, media_url="https://example.com/pothole.jpg")
    assert posted.status_code == 201, posted.text
    (created,) = posted.json()
    code = created["service_request_id"]
    assert code.startswith("SJ-") and created["account_id"] is None and created["service_notice"]

    dispatcher = client_as("dispatcher")
    (event,) = dispatcher.get("/api/events", params={"q": code}).json()["data"]
    assert (event["channel"], event["reporter"], event["area_code"]) == ("open311", "citizen-app", TOWN_A)
    assert event["reporter_contact"] == "138****5678" and event["suggested_department"] == "urban"
    assert event["attributes"] == {"size": "large", "depth": 12.0, "seen_on": "2026-11-26"}
    assert event["title"] == "人行道上一个深坑" and "https://example.com/pothole.jpg" in event["description"]

    shown = anonymous_client.get(f"{BASE}/requests/{code}.json", params={"jurisdiction_id": TOWN_A})
    assert shown.status_code == 200, shown.text
    (request,) = shown.json()
    assert (request["status"], request["service_code"], request["lat"]) == ("open", "local.pothole", 29.5583)
    assert request["address"] == "民族路 100 号" and request["requested_datetime"].endswith("+08:00")
    for secret in (PHONE, "5678", "citizen-app", "someone@example.com", "张"):
        assert secret not in shown.text, secret

    handler = client_as("handler")
    step(dispatcher, event["id"], "accept")
    step(dispatcher, event["id"], "dispatch")
    step(handler, event["id"], "start")
    step(handler, event["id"], "resolve", note="已填平")
    working = anonymous_client.get(f"{BASE}/requests/{code}.json", params={"jurisdiction_id": TOWN_A}).json()[0]
    assert working["status"] == "open" and working["status_notes"] == "已填平"
    assert working["agency_responsible"] == "城管办" and working["expected_datetime"]
    step(dispatcher, event["id"], "verify")

    closed = anonymous_client.get(f"{BASE}/requests/{code}.xml", params={"jurisdiction_id": TOWN_A})
    root = ET.fromstring(closed.content)
    assert root.tag == "service_requests"
    request_xml = root.find("request")
    assert request_xml is not None and request_xml.findtext("status") == "closed"
    assert request_xml.findtext("service_request_id") == code
    assert request_xml.findtext("agency_responsible") == "城管办"
    assert {child.tag for child in request_xml} >= {
        "status_notes", "service_name", "requested_datetime", "updated_datetime", "expected_datetime",
        "address", "lat", "long", "media_url",
    }  # fmt: skip

    second = post(anonymous_client, api_key, fmt="xml", address_id=COMMUNITY_A1, lat=None, long=None)
    assert second.status_code == 201, second.text
    other = ET.fromstring(second.content).findtext("request/service_request_id")
    params = {"jurisdiction_id": TOWN_A}
    listing = anonymous_client.get(f"{BASE}/requests.json", params=params).json()
    assert [r["service_request_id"] for r in listing] == [other, code]
    assert listing[0]["address_id"] == COMMUNITY_A1
    assert [r["service_request_id"] for r in anonymous_client.get(
        f"{BASE}/requests.json", params=params | {"status": "closed"}
    ).json()] == [code]  # fmt: skip
    assert [r["service_request_id"] for r in anonymous_client.get(
        f"{BASE}/requests.json", params=params | {"status": "open", "service_code": "local.pothole"}
    ).json()] == [other]  # fmt: skip
    both = anonymous_client.get(f"{BASE}/requests.json", params=params | {"service_request_id": f"{code},{other}"})
    assert len(both.json()) == 2
    assert anonymous_client.get(f"{BASE}/requests.json", params=params | {"end_date": "2020-01-01"}).json() == []
    bad_date = anonymous_client.get(f"{BASE}/requests.json", params=params | {"start_date": "yesterday"})
    assert bad_date.status_code == 400 and descriptions(bad_date).startswith("start_date: ")
    bad_status = anonymous_client.get(f"{BASE}/requests.json", params=params | {"status": "pending"})
    assert bad_status.status_code == 400 and "status" in descriptions(bad_status)
    assert anonymous_client.get(f"{BASE}/requests.json", params={"jurisdiction_id": TOWN_B}).json() == []
    missing = anonymous_client.get(f"{BASE}/requests/SJ-20000101-0001.json", params=params)
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404

    with transaction(jiceng_engine) as session:  # the phone is kept, for the command centre only
        row = session.exec(select(Event).where(col(Event.code) == code)).one()
        assert row.reporter_contact == PHONE and row.source == "citizen-app"


def test_the_cli_issues_lists_and_revokes_keys(cli: Any, anonymous_client: TestClient, jiceng_engine: Any) -> None:
    issued = cli("open311", "key", "hotline-bridge")
    assert issued.exit_code == 0, issued.output
    key = issued.output.strip().splitlines()[-1]
    assert key.startswith("o311_")
    assert post(anonymous_client, key).status_code == 201
    assert cli("open311", "key", "hotline-bridge").exit_code == 1  # names are unique

    bound = cli("open311", "key", "town-b-hotline", "--area", TOWN_B).output.strip().splitlines()[-1]
    refused = post(anonymous_client, bound)  # to town A
    assert refused.status_code == 403
    assert refused.json() == [
        {
            "code": 403,
            "description": f"此 API 密钥不能在 {TOWN_A} 提交请求。 / This API key may not post requests in {TOWN_A}.",
        }
    ]
    assert post(anonymous_client, bound, jurisdiction_id=TOWN_B, service_code="local.pothole").status_code != 403

    listed = cli("open311", "list")
    assert "hotline-bridge" in listed.output and key not in listed.output and TOWN_B in listed.output
    assert cli("open311", "revoke", "hotline-bridge").exit_code == 0
    assert post(anonymous_client, key).status_code == 403
    assert cli("open311", "revoke", "nobody").exit_code == 1
    with transaction(jiceng_engine) as session:
        actions = session.exec(select(AuditEntry.action).where(col(AuditEntry.target_id) == "hotline-bridge")).all()
        assert list(actions) == ["open311.key", "open311.revoke"]
        assert key not in str(session.exec(select(AuditEntry.detail)).all())


def test_the_admin_page_creates_and_revokes_a_key(client_as: Client, anonymous_client: TestClient) -> None:
    assert client_as("grid_worker").get("/admin/open311").status_code == 403
    admin = client_as("town_admin")
    assert admin.get("/admin/open311").status_code == 200
    assert admin.post("/admin/open311", data={"name": "wechat-miniapp"}).status_code == 422  # which towns?
    assert admin.post("/admin/open311", data={"name": "wechat-miniapp", "area": TOWN_B}).status_code == 403
    created = admin.post("/admin/open311", data={"name": "wechat-miniapp", "area": TOWN_A})
    assert created.status_code == 201, created.text
    found = re.search(r'id="open311-key">([^<]+)<', created.text)
    assert found is not None
    key = found.group(1)
    assert post(anonymous_client, key).status_code == 201
    page = admin.get("/admin/open311").text
    assert "wechat-miniapp" in page and key not in page
    assert admin.post("/admin/open311", data={"name": "wechat-miniapp", "area": TOWN_A}).status_code == 409
    assert admin.post("/admin/open311", data={"name": "a b", "area": TOWN_A}).status_code == 422
    assert post(anonymous_client, key, jurisdiction_id=TOWN_B).status_code == 403  # bound to town A
    other_town = client_as("town_admin", TOWN_B)
    assert "wechat-miniapp" not in other_town.get("/admin/open311").text
    assert other_town.post("/admin/open311/wechat-miniapp/revoke").status_code == 404

    revoked = admin.post("/admin/open311/wechat-miniapp/revoke", follow_redirects=False)
    assert revoked.status_code == 303
    assert post(anonymous_client, key).status_code == 403
    cross_site = admin.post("/admin/open311", data={"name": "evil"}, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403


def test_unknown_addresses_answer_in_the_specifications_shape(anonymous_client: TestClient) -> None:
    as_json = anonymous_client.get(f"{BASE}/tokens.json")
    assert as_json.status_code == 404 and as_json.json()[0]["code"] == 404
    as_xml = anonymous_client.get(f"{BASE}/tokens.xml")
    assert as_xml.status_code == 404 and ET.fromstring(as_xml.content).findtext("error/code") == "404"
