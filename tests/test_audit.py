"""The audit log is a hash chain: any edit or deletion, the newest row included, is reported."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from jiceng.core import audit
from jiceng.core.db import transaction


@pytest.fixture
def five_entries(engine):
    with transaction(engine) as s:
        for i in range(5):
            audit.record(
                s,
                actor="tester",
                action="thing.done",
                target_type="thing",
                target_id=str(i),
                detail={"n": i, "名": "值"},
            )


def verdict(engine) -> audit.Verdict:
    with Session(engine) as s:
        return audit.verify(s)


def test_an_untouched_chain_verifies(engine, five_entries):
    result = verdict(engine)
    assert result.ok and result.checked == 5


@pytest.mark.parametrize(
    ("statement", "broken_at"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE id = 3", 3),
        ("UPDATE audit_log SET detail = '{\"n\": 99}' WHERE id = 2", 2),
        ("DELETE FROM audit_log WHERE id = 2", 3),
        ("UPDATE audit_log SET actor = 'mallory' WHERE id = 5", 5),
    ],
)
def test_tampering_is_found_at_the_right_entry(engine, five_entries, statement, broken_at):
    with engine.begin() as conn:
        conn.execute(text(statement))
    result = verdict(engine)
    assert not result.ok
    assert result.broken_at == broken_at


def test_deleting_the_newest_entry_is_found(engine, five_entries):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 5"))
    result = verdict(engine)
    assert not result.ok and result.reason == "head" and result.checked == 4


def test_cli_reports_tampering_and_exits_nonzero(engine, five_entries, cli):
    assert cli("audit", "verify").exit_code == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET target_id = '42' WHERE id = 4"))
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "4" in result.output and "its content was altered" in result.output and "内容被篡改" in result.output
