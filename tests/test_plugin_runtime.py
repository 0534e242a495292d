"""Scenarios at run time: per-town enablement, guarded routes, isolation of failures and data, purpose limitation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel

from jiceng.core.config import Settings, TownScenarios
from jiceng.core.db import transaction
from jiceng.core.plugin_host import PluginHost
from jiceng.core.sample_world import DISTRICT, PASSWORD, TOWN_A, TOWN_B, make_world
from jiceng.core.web.app import create_app
from jiceng.sdk import FieldUse, ScenarioContextDep, ScenarioRoutes, hookimpl
from tests.scenario_kit import candidate, card_hook, module, page_hook


class GreetingSettings(BaseModel):
    model_config = {"extra": "forbid"}
    greeting: str = "你好"


@pytest.fixture
def platform(engine, database_url) -> Callable[..., Callable[..., TestClient]]:
    """``platform(modules, towns)`` builds the app and returns ``login(username)`` for it."""
    opened: list[TestClient] = []

    def build(modules: list[Any], towns: dict[str, TownScenarios]) -> Callable[..., TestClient]:
        settings = Settings(environment="development", secret_key="s" * 40, database_url=database_url, towns=towns)
        host = PluginHost.load(settings, candidates=[candidate(m) for m in modules])
        app = create_app(settings, engine, host=host)
        with transaction(engine) as s:
            make_world(s, settings)

        def login(username: str | None = None) -> TestClient:
            client = TestClient(app)
            client.__enter__()
            opened.append(client)
            if username:
                assert (
                    client.post(
                        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
                    ).status_code
                    == 303
                )
            return client

        login.app = app  # type: ignore[attr-defined]
        return login

    yield build
    for client in opened:
        client.__exit__(None, None, None)


def test_pages_and_api_answer_only_in_towns_that_enable_them(platform):
    login = platform(
        [module("hello", hooks={"routes": page_hook("hello")})], {TOWN_A: TownScenarios(scenarios=["hello"])}
    )
    admin = login("admin")
    assert admin.get("/s/hello/", params={"town": TOWN_A}).text == "<p>hello in 解放碑街道</p>"
    assert admin.get("/api/s/hello/whoami", params={"town": TOWN_A}).json()["town"] == TOWN_A
    assert admin.get("/s/hello/", params={"town": TOWN_B}).status_code == 404
    assert admin.get("/api/s/hello/whoami", params={"town": TOWN_B}).status_code == 404
    assert login().get("/api/s/hello/whoami", params={"town": TOWN_A}).status_code == 401
    worker = login("grid_worker")
    assert worker.get("/api/s/hello/whoami").json() == {
        "scenario": "hello",
        "town": TOWN_A,
        "user": "grid_worker",
        "settings": None,
    }
    assert login("resident").get("/s/hello/", params={"town": TOWN_A}).status_code == 403
    assert login("grid_worker_b").get("/s/hello/", params={"town": TOWN_B}).status_code == 404


def test_enabling_at_a_district_reaches_its_towns_unless_one_opts_out(platform):
    login = platform(
        [module("wide", hooks={"routes": page_hook("wide")})],
        {DISTRICT: TownScenarios(scenarios=["wide"]), TOWN_B: TownScenarios(exclude=["wide"])},
    )
    leader = login("leader")
    assert leader.get("/s/wide/", params={"town": TOWN_A}).status_code == 200
    assert leader.get("/s/wide/", params={"town": TOWN_B}).status_code == 404


def test_switching_on_takes_effect_without_restart_and_is_audited(platform, engine):
    login = platform([module("later", hooks={"routes": page_hook("later")})], {})
    admin = login("town_admin")
    assert admin.get("/s/later/", params={"town": TOWN_A}).status_code == 404
    switched = admin.post("/api/scenarios/later/switch", json={"town": TOWN_A, "enabled": True})
    assert switched.status_code == 200
    assert admin.get("/s/later/", params={"town": TOWN_A}).status_code == 200
    assert admin.post("/api/scenarios/later/switch", json={"town": TOWN_B, "enabled": True}).status_code == 403
    assert admin.post("/api/scenarios/later/switch", json={"town": TOWN_A, "enabled": False}).status_code == 200
    assert admin.get("/s/later/", params={"town": TOWN_A}).status_code == 404
    from sqlmodel import Session, select

    from jiceng.core.audit import AuditEntry

    with Session(engine) as s:
        actions = s.exec(select(AuditEntry.action).where(AuditEntry.target_id == "later")).all()
    assert actions == ["scenario.enable", "scenario.disable"]


def test_settings_reach_the_scenario_and_bad_ones_are_refused(platform):
    hooks = {"routes": page_hook("greet")}
    login = platform(
        [module("greet", hooks=hooks, settings=GreetingSettings)],
        {TOWN_A: TownScenarios(scenarios=["greet"], settings={"greet": {"greeting": "早上好"}})},
    )
    admin = login("town_admin")
    assert admin.get("/api/s/greet/whoami").json()["settings"] == {"greeting": "早上好"}
    bad = admin.post(
        "/api/scenarios/greet/switch", json={"town": TOWN_A, "enabled": True, "settings": {"greting": "hi"}}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "settings.greting"


def test_a_raising_hook_degrades_its_scenario_only(platform):
    @hookimpl
    def dashboard_cards(context: Any) -> list[Any]:
        raise RuntimeError("database of a vendor is down")

    login = platform(
        [
            module("flaky", hooks={"dashboard_cards": dashboard_cards}),
            module("steady", hooks={"dashboard_cards": card_hook("稳定卡片")}),
        ],
        {TOWN_A: TownScenarios(scenarios=["flaky", "steady"])},
    )
    client = login("town_admin")
    home = client.get("/")
    assert home.status_code == 200
    assert "稳定卡片" in home.text
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["scenarios"]["flaky"]["status"] == "degraded"
    assert health["scenarios"]["flaky"]["failures"] == 1
    assert "vendor is down" in health["scenarios"]["flaky"]["last_error"]
    assert health["scenarios"]["steady"]["status"] == "ok"


def test_a_hook_call_for_a_town_reaches_only_its_scenarios(platform):
    login = platform(
        [
            module("only_a", hooks={"dashboard_cards": card_hook("甲镇卡片")}),
            module("both", hooks={"dashboard_cards": card_hook("两镇卡片")}),
        ],
        {TOWN_A: TownScenarios(scenarios=["only_a", "both"]), TOWN_B: TownScenarios(scenarios=["both"])},
    )
    b_home = login("town_admin_b").get("/").text
    assert "两镇卡片" in b_home and "甲镇卡片" not in b_home
    a_home = login("town_admin").get("/").text
    assert "两镇卡片" in a_home and "甲镇卡片" in a_home


def test_purpose_limitation_names_the_undeclared_field(platform):
    api = APIRouter()

    @api.get("/people")
    def people(ctx: ScenarioContextDep) -> dict[str, bool]:
        ctx.check_fields("person", ["name", "phone"])
        return {"ok": True}

    @hookimpl
    def routes() -> ScenarioRoutes:
        return ScenarioRoutes(api=api)

    fields = (FieldUse(table="person", field="name", purpose_zh="核对姓名", purpose_en="check names"),)
    login = platform(
        [module("census", hooks={"routes": routes}, fields=fields)], {TOWN_A: TownScenarios(scenarios=["census"])}
    )
    response = login("town_admin").get("/api/s/census/people")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "undeclared_field"
    assert error["message_en"] == "Scenario census did not declare the field person.phone for read in its manifest."
    assert "person.phone" in error["message"]


def test_a_scenario_cannot_reach_tables_that_are_not_its_own(platform):
    from jiceng.core.users import User

    api = APIRouter()

    @api.get("/users")
    def users(ctx: ScenarioContextDep) -> int:
        return len(ctx.store.select(User))

    @hookimpl
    def routes() -> ScenarioRoutes:
        return ScenarioRoutes(api=api)

    login = platform([module("nosy", hooks={"routes": routes})], {TOWN_A: TownScenarios(scenarios=["nosy"])})
    response = login("town_admin").get("/api/s/nosy/users")
    assert response.status_code == 403
    assert "user_account" in response.json()["error"]["message_en"]


def test_hooks_get_only_their_own_settings(platform):
    seen: dict[str, Any] = {}

    def spy(sid: str) -> Any:
        @hookimpl
        def dashboard_cards(context: Any) -> list[Any]:
            seen[sid] = (context.scenario_id, context.settings)
            return []

        return dashboard_cards

    login = platform(
        [
            module("one", hooks={"dashboard_cards": spy("one")}, settings=GreetingSettings),
            module("two", hooks={"dashboard_cards": spy("two")}),
        ],
        {TOWN_A: TownScenarios(scenarios=["one", "two"], settings={"one": {"greeting": "秘密"}})},
    )
    login("town_admin").get("/")
    assert seen["one"] == ("one", GreetingSettings(greeting="秘密"))
    assert seen["two"] == ("two", None)


def test_admin_page_lists_scenarios_with_their_personal_data(platform):
    fields = (FieldUse(table="person", field="phone", purpose_zh="通知居民", purpose_en="notify residents"),)
    login = platform([module("notify", fields=fields)], {})
    page = login("town_admin").get("/admin/scenarios")
    assert page.status_code == 200
    assert "person.phone" in page.text and "通知居民" in page.text
    assert login("grid_worker").get("/admin/scenarios").status_code == 403


def test_the_notices_scenario(engine, database_url):
    settings = Settings(
        environment="development",
        secret_key="s" * 40,
        database_url=database_url,
        towns={TOWN_A: TownScenarios(scenarios=["notices"], settings={"notices": {"signature": "解放碑街道办事处"}})},
    )
    app = create_app(settings, engine)
    with transaction(engine) as s:
        make_world(s, settings)
    with TestClient(app) as dispatcher, TestClient(app) as resident:
        dispatcher.post("/login", data={"username": "dispatcher", "password": PASSWORD})
        resident.post("/login", data={"username": "resident", "password": PASSWORD})
        made = dispatcher.post("/api/s/notices/notices", json={"title": "停水通知", "body": "明日 9:00–12:00 停水。"})
        assert made.status_code == 201
        assert made.json()["body"].endswith("解放碑街道办事处")
        assert resident.post("/api/s/notices/notices", json={"title": "x", "body": "y"}).status_code == 403
        page = resident.get("/s/notices/")
        assert page.status_code == 200 and "停水通知" in page.text
        too_long = dispatcher.post("/api/s/notices/notices", json={"title": "长", "body": "字" * 2001})
        assert too_long.status_code == 422 and too_long.json()["error"]["message"] == "通知正文不能超过 2000 个字符。"
        assert dispatcher.get("/static/s/notices/notices.css").status_code == 200


def test_first_result_hooks_skip_failures_and_respect_the_town(engine):
    from jiceng.core.enablement import TownState

    def router(answer: str | None, fail: bool = False) -> Any:
        @hookimpl
        def route_event(event: Any, context: Any) -> str | None:
            if fail:
                raise ValueError("bad rule table")
            return answer

        return route_event

    calls: list[str] = []

    @hookimpl
    def event_changed(event: Any, change: Any, context: Any) -> None:
        calls.append(f"{event}:{change}")

    @hookimpl
    def startup(scenario_id: str) -> None:
        calls.append(f"started {scenario_id}")

    host = PluginHost.load(
        Settings(environment="development"),
        candidates=[  # pluggy asks the last registered first: broken, then silent, then city
            candidate(
                module(
                    "city", hooks={"route_event": router("城管办"), "event_changed": event_changed, "startup": startup}
                )
            ),
            candidate(module("silent", hooks={"route_event": router(None)})),
            candidate(module("broken", hooks={"route_event": router("never", fail=True)})),
        ],
    )
    host.start()
    assert calls == ["started city"]
    everywhere = host.hooks(TownState(frozenset({"silent", "broken", "city"})))
    assert everywhere.route_event(event="E1", context=object()) == "城管办"
    assert host.manager.health["broken"].failures == 1
    only_silent = host.hooks(TownState(frozenset({"silent"})))
    assert only_silent.route_event(event="E1", context=object()) is None
    only_silent.event_changed(event="E1", change="accepted", context=object())
    everywhere.event_changed(event="E2", change="closed", context=object())
    assert calls == ["started city", "E2:closed"]


def test_record_changed_reaches_enabled_scenarios():
    from jiceng.core.enablement import TownState

    seen: list[Any] = []

    @hookimpl
    def record_changed(record: Any, changes: Any, context: Any) -> None:
        seen.append((record, changes))

    host = PluginHost.load(
        Settings(environment="development"),
        candidates=[candidate(module("watch", hooks={"record_changed": record_changed}))],
    )
    host.hooks(TownState(frozenset())).record_changed(record="p1", changes=[], context=object())
    host.hooks(TownState(frozenset({"watch"}))).record_changed(
        record="p2", changes=[("phone", "1", "2", "portal")], context=object()
    )
    assert seen == [("p2", [("phone", "1", "2", "portal")])]


def test_home_page_groups_scenarios_by_platform_with_their_menus(platform):
    from jiceng.sdk import MenuEntry, Platform

    menu = (
        MenuEntry(zh="志愿活动", en="Volunteering", path="activities"),
        MenuEntry(zh="积分管理", en="Points", path="points", permission="party:manage"),
    )
    perms = (
        {"name": "party:use", "zh": "使用", "en": "Use", "roles": ("town_admin", "grid_worker")},
        {"name": "party:manage", "zh": "管理", "en": "Manage", "roles": ("town_admin",)},
    )
    login = platform(
        [
            module("party", platform=Platform.party_building, menu=menu, permissions=perms),
            module("safety", platform=Platform.safety_rule_of_law),
        ],
        {TOWN_A: TownScenarios(scenarios=["party", "safety"])},
    )
    admin_home = login("town_admin").get("/").text
    assert admin_home.index("党建统领") < admin_home.index("平安法治")
    assert f'href="/s/party/points?town={TOWN_A}"' in admin_home and "志愿活动" in admin_home
    assert f'href="/s/safety/?town={TOWN_A}"' in admin_home
    worker_home = login("grid_worker").get("/").text
    assert "志愿活动" in worker_home and "积分管理" not in worker_home


def test_scenarios_read_and_write_people_only_through_declared_fields(platform):
    api = APIRouter()

    @api.get("/people")
    def people(ctx: ScenarioContextDep, fields: str) -> list[dict[str, Any]]:
        return ctx.people.search(fields=fields.split(","))

    @api.post("/people/{pid}/phone")
    def set_phone(pid: int, phone: str, version: int, ctx: ScenarioContextDep) -> dict[str, Any]:
        outcome = ctx.people.update(pid, {"phone": phone}, version=version)
        ctx.commit()
        return {"changed": outcome.changed}

    @hookimpl
    def routes() -> ScenarioRoutes:
        return ScenarioRoutes(api=api)

    fields = (
        FieldUse(table="person", field="name", purpose_zh="核对姓名", purpose_en="check names"),
        FieldUse(table="person", field="phone", access="write", purpose_zh="通知", purpose_en="notify"),
    )
    login = platform(
        [module("care", hooks={"routes": routes}, fields=fields)], {TOWN_A: TownScenarios(scenarios=["care"])}
    )
    worker = login("grid_worker")
    made = worker.post(
        "/api/people", json={"area_code": "500103003001001", "name": "李华", "phone": "13800001111"}
    ).json()
    assert worker.get("/api/s/care/people", params={"fields": "name,phone"}).json() == [
        {"id": made["id"], "version": 1, "name": "李华", "phone": "138****1111"}
    ]
    refused = worker.get("/api/s/care/people", params={"fields": "name,id_number"})
    assert refused.status_code == 403 and "person.id_number" in refused.json()["error"]["message_en"]
    changed = worker.post(f"/api/s/care/people/{made['id']}/phone", params={"phone": "13900002222", "version": 1})
    assert changed.json() == {"changed": ["phone"]}
    history = worker.get(f"/api/people/{made['id']}/history").json()
    assert history[0]["field"] == "phone" and history[0]["source"] == "scenario" and history[0]["source_ref"] == "care"


def test_record_changes_reach_enabled_scenarios_with_declared_fields_only(platform):
    seen: dict[str, list[Any]] = {"watcher": [], "elsewhere": []}

    def watch(name: str) -> Any:
        @hookimpl
        def record_changed(record: Any, changes: Any, context: Any) -> None:
            seen[name].append((record, changes))

        return record_changed

    declared = (
        FieldUse(table="person", field="name", purpose_zh="名册", purpose_en="roll"),
        FieldUse(table="person", field="phone", purpose_zh="通知", purpose_en="notify"),
    )
    login = platform(
        [
            module("watcher", hooks={"record_changed": watch("watcher")}, fields=declared),
            module("elsewhere", hooks={"record_changed": watch("elsewhere")}, fields=declared),
        ],
        {TOWN_A: TownScenarios(scenarios=["watcher"]), TOWN_B: TownScenarios(scenarios=["elsewhere"])},
    )
    worker = login("grid_worker")
    made = worker.post(
        "/api/people",
        json={"area_code": "500103003001001", "name": "王五", "phone": "13800001111", "current_address": "民族路"},
    ).json()
    patched = worker.patch(
        f"/api/people/{made['id']}", json={"version": 1, "current_address": "五一路", "phone": "13900002222"}
    )
    assert patched.status_code == 200, patched.text
    assert seen["elsewhere"] == []
    assert worker.get("/health").json()["scenarios"]["watcher"]["last_error"] == ""
    (created, updated) = seen["watcher"]
    assert created == (
        ("person", made["id"]),
        [("name", None, "王五", "portal"), ("phone", None, "138****1111", "portal")],
    )
    assert updated == (("person", made["id"]), [("phone", "138****1111", "139****2222", "portal")])


def test_a_district_leader_picks_a_town_on_the_home_page(platform):
    login = platform(
        [module("wide", hooks={"routes": page_hook("wide")})], {DISTRICT: TownScenarios(scenarios=["wide"])}
    )
    leader = login("leader")
    home = leader.get("/").text
    assert 'name="town"' in home and "七星岗街道" in home
    picked = leader.get("/", params={"town": TOWN_B}).text
    assert f'href="/s/wide/?town={TOWN_B}"' in picked
    admin = login("admin")
    page = admin.get("/admin/scenarios", params={"town": TOWN_A})
    assert page.status_code == 200 and "解放碑街道" in page.text and 'name="town"' in page.text


def test_the_harness_makes_valid_records(make_record, engine):
    from sqlmodel import Session

    from jiceng.core.records.models import Organisation, Person
    from jiceng.sdk.testing import valid_id_number, valid_uscc

    pid = make_record("person", name="王芳", id_number=valid_id_number("19850302", 11), phone="13800001111")
    oid = make_record("organisation", name="小面馆", kind="individual_business", uscc=valid_uscc(7))
    with Session(engine) as s:
        assert s.get(Person, pid).gender == "male"
        assert s.get(Organisation, oid).uscc == valid_uscc(7)


def test_a_field_declared_after_the_town_approved_waits_for_a_new_approval(platform, engine):
    from jiceng.core.enablement import ScenarioChange

    api = APIRouter()

    @api.get("/names")
    def names(ctx: ScenarioContextDep) -> dict[str, bool]:
        ctx.check_fields("person", ["name"])
        return {"ok": True}

    @hookimpl
    def routes() -> ScenarioRoutes:
        return ScenarioRoutes(api=api)

    fields = (FieldUse(table="person", field="name", purpose_zh="核对姓名", purpose_en="check names"),)
    login = platform([module("census", hooks={"routes": routes}, fields=fields)], {})
    admin = login("town_admin")
    assert admin.post("/api/scenarios/census/switch", json={"town": TOWN_A, "enabled": True}).status_code == 200
    assert admin.get("/api/s/census/names").json() == {"ok": True}  # approved as declared when switched on
    with transaction(engine) as s:  # as if the town had approved an older version that read no base field
        s.add(ScenarioChange(area_code=TOWN_A, scenario_id="census", enabled=True, approved=[], actor="town_admin"))
    refused = admin.get("/api/s/census/names")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "unapproved_field"
    assert "person.name" in refused.json()["error"]["message"]
    page = admin.get("/admin/scenarios").text
    assert "批准新的数据使用" in page and "<code>person.name:read</code>" in page
    assert admin.post("/api/scenarios/census/switch", json={"town": TOWN_A, "enabled": True}).status_code == 200
    assert admin.get("/api/s/census/names").json() == {"ok": True}
    assert "批准新的数据使用" not in admin.get("/admin/scenarios").text


def test_a_switch_in_one_worker_reaches_another_on_its_next_request(engine, database_url):
    """Two apps stand for two worker processes: each caches the switches, and the request that resolves its caller
    reads whether they changed (with the grants' check, in one statement) before the page is guarded."""
    settings = Settings(environment="development", secret_key="s" * 40, database_url=database_url)
    modules = [module("later", hooks={"routes": page_hook("later")})]
    workers = [create_app(settings, engine, host=PluginHost.load(settings, candidates=[candidate(m) for m in modules]))]
    workers.append(
        create_app(settings, engine, host=PluginHost.load(settings, candidates=[candidate(m) for m in modules]))
    )
    with transaction(engine) as s:
        make_world(s, settings)
    with TestClient(workers[0]) as a, TestClient(workers[1]) as b:
        for client in (a, b):
            client.post("/login", data={"username": "town_admin", "password": PASSWORD})
            assert client.get("/s/later/", params={"town": TOWN_A}).status_code == 404
        assert a.post("/api/scenarios/later/switch", json={"town": TOWN_A, "enabled": True}).status_code == 200
        assert b.get("/s/later/", params={"town": TOWN_A}).status_code == 200
        assert b.post("/api/scenarios/later/switch", json={"town": TOWN_A, "enabled": False}).status_code == 200
        assert a.get("/s/later/", params={"town": TOWN_A}).status_code == 404
