"""Loading scenarios: every bad one is refused alone, with one clear message; the rest load."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jiceng.core import __version__
from jiceng.core.config import Settings
from jiceng.core.plugin_host import PluginHost
from jiceng.plugins.loader import Candidate
from jiceng.sdk import hookimpl
from tests.scenario_kit import candidate, card_hook, module


def load(*candidates: Candidate) -> PluginHost:
    return PluginHost.load(Settings(environment="development"), candidates=candidates)


def refusal(host: PluginHost, name: str) -> tuple[str, str, str]:
    (found,) = [r for r in host.manager.refused if r.name == name]
    zh, en = next(
        (zh, en) for (zh, en), r in zip(host.refusal_messages(), host.manager.refused, strict=True) if r is found
    )
    return found.code, zh, en


def test_a_scenario_needing_a_newer_core_is_refused_naming_both_versions():
    host = load(candidate(module("future", requires=">=9.0,<10")), candidate(module("fine")))
    code, zh, en = refusal(host, "future")
    assert code == "incompatible"
    assert en == f"Scenario future needs jiceng >=9.0,<10, but this is jiceng {__version__}."
    assert ">=9.0,<10" in zh and __version__ in zh
    assert list(host.scenarios) == ["fine"]


def test_duplicates_invalid_and_broken_packages_are_refused_one_by_one():
    def explode() -> Any:
        raise ImportError("No module named 'requests_oauth'")

    bad_manifest = module("x", manifest={"id": "Bad-Id", "version": "1"})
    host = load(
        candidate(module("twin"), source="jiceng-twin 1.0"),
        candidate(module("twin"), source="jiceng-twin-fork 2.0"),
        candidate(bad_manifest, name="badid"),
        Candidate("broken", "jiceng-broken 0.1", explode),
        candidate(module("good")),
    )
    assert sorted(host.scenarios) == ["good", "twin"]
    assert host.scenarios["twin"].source == "jiceng-twin 1.0"
    codes = {r.name: r.code for r in host.manager.refused}
    assert codes == {"twin": "duplicate", "badid": "invalid_manifest", "broken": "import_failed"}
    assert "jiceng-twin-fork 2.0" in refusal(host, "twin")[2]
    assert "requests_oauth" in refusal(host, "broken")[2]
    assert "id" in refusal(host, "badid")[2]


def test_manifest_rules():
    with pytest.raises(ValueError, match="upper bound"):
        module("open", requires=">=0.3")
    with pytest.raises(ValueError, match="must be named 'perm:<action>'"):
        module("perm", permissions=({"name": "other:use", "zh": "z", "en": "e"},))
    with pytest.raises(ValueError, match="access permission"):
        module("noaccess", permissions=())
    with pytest.raises(ValueError, match="event type"):
        module("ev", event_types=({"code": "wrong.code", "zh": "z", "en": "e"},))


def test_misspelled_async_and_defaulted_hooks_are_refused():
    @hookimpl
    def dashbord_cards(context: Any) -> None:
        return None

    @hookimpl
    async def route_event(event: Any, context: Any) -> None:
        return None

    @hookimpl
    def event_changed(event: Any, change: Any, context: Any = None) -> None:
        return None

    @hookimpl
    def startup(scenario_id: str, app: Any) -> None:
        return None

    host = load(
        candidate(module("typo", hooks={"dashbord_cards": dashbord_cards})),
        candidate(module("asyncy", hooks={"route_event": route_event})),
        candidate(module("defaulted", hooks={"event_changed": event_changed})),
        candidate(module("extra", hooks={"startup": startup})),
    )
    assert not host.scenarios
    details = {r.name: (r.code, r.detail) for r in host.manager.refused}
    assert details["typo"][0] == "unknown_hook" and "dashbord_cards" in details["typo"][1]
    assert details["asyncy"][0] == "async_hook"
    assert details["defaulted"][0] == "bad_hook" and "context" in details["defaulted"][1]
    assert details["extra"][0] == "bad_hook" and "app" in details["extra"][1]


def test_blocking_by_environment(monkeypatch):
    monkeypatch.setenv("JICENG_BLOCK_SCENARIOS", "noisy")
    host = load(candidate(module("noisy"), name="noisy"), candidate(module("quiet"), name="quiet"))
    assert list(host.scenarios) == ["quiet"]
    assert refusal(host, "noisy")[0] == "blocked"


def test_bundled_scenarios_load_with_the_default_discovery():
    host = PluginHost.load(Settings(environment="development"))
    assert "notices" in host.scenarios
    assert host.manager.refused == []


def test_hook_calls_are_traced_when_asked(monkeypatch, caplog):
    monkeypatch.setenv("JICENG_TRACE_HOOKS", "1")
    host = load(candidate(module("traced", hooks={"dashboard_cards": card_hook("T")})))
    with caplog.at_level(logging.WARNING, logger="jiceng.plugins"):
        host.manager.caller("dashboard_cards", frozenset({"traced"}))(context=object())
    assert any("dashboard_cards" in r.message and "traced" in r.message and "µs" in r.message for r in caplog.records)


def test_the_config_is_checked_against_the_scenarios(tmp_path):
    settings = Settings(
        environment="development",
        towns={
            "500103003000": {
                "scenarios": ["notices", "nosuch"],
                "settings": {"notices": {"max_length": 10, "colour": "red"}},
            },
        },
    )
    problems = {p.field: p.message_en for p in PluginHost.load(settings).check_config(settings)}
    assert set(problems) == {
        'towns."500103003000".scenarios[1]',
        'towns."500103003000".settings.notices.max_length',
        'towns."500103003000".settings.notices.colour',
    }
    assert problems['towns."500103003000".settings.notices.max_length'] == "Must be at least 50."


def test_config_check_names_unknown_role_permissions_and_tolerates_refused_scenarios(monkeypatch):
    monkeypatch.setenv("JICENG_BLOCK_SCENARIOS", "notices")
    settings = Settings(
        environment="development",
        roles={"volunteer": {"permissions": ["areas:read", "notices:read", "areas:raed"]}},
        towns={"500103003000": {"scenarios": ["notices"], "settings": {"notices": {"signature": "街道办"}}}},
    )
    host = PluginHost.load(settings)
    problems = {p.field: p.message_en for p in host.check_config(settings)}
    assert problems == {
        "roles.volunteer.permissions[1]": "Unknown permission notices:read.",
        "roles.volunteer.permissions[2]": "Unknown permission areas:raed.",
    }
