"""The command line as an administrator uses it."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlmodel import Session, select

from jiceng.core.users import User


def test_users_roles_and_tokens(engine, cli):
    assert cli("db", "current").exit_code == 0
    assert cli("areas", "import", _chongqing()).exit_code == 0
    added = cli("users", "add", "zhang", "--name", "张三", "--phone", "13800138000", input="s3cret-pass\ns3cret-pass\n")
    assert added.exit_code == 0, added.output
    duplicate = cli("users", "add", "zhang", "--name", "张三", "--password", "s3cret-pass")
    assert duplicate.exit_code == 1 and "zhang" in duplicate.output and "already exists" in duplicate.output
    short = cli("users", "add", "li", "--name", "李四", "--password", "short")
    assert short.exit_code == 1 and "password" in short.output

    granted = cli("roles", "grant", "zhang", "town_admin", "500103003000")
    assert granted.exit_code == 0, granted.output
    assert "500103003000" in cli("roles", "list", "zhang").output
    unknown_area = cli("roles", "grant", "zhang", "town_admin", "500103999000")
    assert unknown_area.exit_code == 1 and "500103999000" in unknown_area.output
    assert cli("roles", "revoke", "zhang", "town_admin", "500103003000").exit_code == 0
    assert cli("roles", "revoke", "zhang", "town_admin", "500103003000").exit_code == 1

    token = cli("users", "token", "zhang", "--name", "bridge")
    assert token.exit_code == 0
    assert token.output.strip().splitlines()[-1].startswith("jc_")
    with Session(engine) as s:
        assert s.exec(select(User.phone).where(User.username == "zhang")).one() == "13800138000"


def test_demo_is_idempotent(engine, cli):
    first = cli("demo")
    assert first.exit_code == 0, first.output
    assert "grid_worker" in first.output and "jiceng-demo-2026" in first.output
    second = cli("demo")
    assert second.exit_code == 0
    from jiceng.core.records.models import Organisation, Person
    from jiceng.core.records.validation import parse_id_number, parse_uscc

    with Session(engine) as s:
        assert len(s.exec(select(User)).all()) == 7
        people = s.exec(select(Person)).all()
        organisations = s.exec(select(Organisation)).all()
    assert len(people) > 2500 and len(organisations) > 250
    for p in people:
        parsed = parse_id_number(p.id_number)
        assert (parsed.birth_date, parsed.gender) == (p.birth_date, p.gender)
    assert all(parse_uscc(o.uscc) == o.uscc for o in organisations)
    from jiceng.core.events.models import Event, EventAction

    with Session(engine) as s:
        events = s.exec(select(Event)).all()
        steps = s.exec(select(EventAction)).all()
    assert len(events) == 120 and {e.state for e in events} >= {"reported", "handling", "closed", "evaluated"}
    assert all(e.code.startswith("SJ-") for e in events)
    assert len(steps) > 2 * len(events)  # reported, accepted, dispatched … each a timeline step


def test_help_reads_in_both_languages():
    for lang, expected in (("zh_CN", "数据库迁移"), ("en", "Database migrations")):
        env = {**os.environ, "JICENG_LANG": lang, "COLUMNS": "120"}
        out = subprocess.run(
            [sys.executable, "-m", "jiceng.core.cli", "--help"], capture_output=True, text=True, env=env, check=True
        ).stdout
        assert expected in out
        assert "Usage" in out


def _chongqing() -> str:
    from jiceng.core.demo import CHONGQING

    return str(CHONGQING)


def test_scenario_commands(engine, cli):
    from jiceng.core.db import transaction
    from jiceng.core.sample_world import TOWN_A, make_tree

    with transaction(engine) as s:
        make_tree(s)
    listed = cli("scenarios", "list")
    assert listed.exit_code == 0 and "notices" in listed.output
    shown = cli("scenarios", "show", "notices")
    assert shown.exit_code == 0
    assert "notices:publish" in shown.output and "signature" in shown.output
    assert cli("scenarios", "show", "nosuch").exit_code == 1
    safety = cli("scenarios", "show", "safety").output
    assert "safety.hazard" in safety and "house.extra.safety.hazard_level" in safety and "house.address" in safety

    enabled = cli("scenarios", "enable", "notices", "--town", TOWN_A, "--settings", '{"signature": "街道办"}')
    assert enabled.exit_code == 0, enabled.output
    assert TOWN_A in cli("scenarios", "list").output
    bad = cli("scenarios", "enable", "notices", "--town", TOWN_A, "--settings", '{"max_length": 1}')
    assert bad.exit_code == 1 and "settings.max_length" in bad.output
    assert cli("scenarios", "enable", "notices", "--town", "500103003001").exit_code == 1  # a community, not a town
    assert cli("scenarios", "disable", "notices", "--town", TOWN_A).exit_code == 0
    assert TOWN_A not in cli("scenarios", "list").output


def test_plugin_check_on_the_bundled_scenario(cli):
    result = cli("plugin", "check", "notices")
    assert result.exit_code == 0, result.output
    assert "✗" not in result.output
    missing = cli("plugin", "check", "no_such_scenario")
    assert missing.exit_code == 1


def test_password_and_deactivation(engine, cli, client):
    assert cli("users", "add", "zhao", "--name", "赵六", "--password", "first-pass-1").exit_code == 0
    assert cli("users", "password", "zhao", input="second-pass-2\nsecond-pass-2\n").exit_code == 0
    assert client.post("/api/auth/token", data={"username": "zhao", "password": "second-pass-2"}).status_code == 200
    assert cli("users", "deactivate", "zhao").exit_code == 0
    assert client.post("/api/auth/token", data={"username": "zhao", "password": "second-pass-2"}).status_code == 401
    assert cli("users", "activate", "zhao").exit_code == 0
    assert cli("users", "password", "zhao", "--password", "short").exit_code == 1


def test_authority_keys_are_checked(tmp_path, cli):
    bad = tmp_path / "j.toml"
    bad.write_text(
        'environment = "development"\n[records.authority]\n"person.phon" = ["visit", "portal"]\n', encoding="utf-8"
    )
    result = cli("config", "check", str(bad))
    assert result.exit_code == 1 and "person.phon" in result.output
