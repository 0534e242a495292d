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
    with Session(engine) as s:
        assert len(s.exec(select(User)).all()) == 7


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
