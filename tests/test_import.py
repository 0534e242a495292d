"""Importing a messy ledger: the right counts, a readable error report, and nothing changes the second time."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import Session, select

from jiceng.core.records.importer import import_ledger
from jiceng.core.records.models import FieldChange, Person, PersonTag
from jiceng.core.records.tables import PEOPLE
from jiceng.core.records.validation import id_check_char
from jiceng.core.sample_world import GRID_A1, GRID_A2


def valid_id(birth: str, sequence: int) -> str:
    first17 = f"500103{birth}{sequence:03d}"
    return first17 + id_check_char(first17)


def messy_ledger(path: Path) -> None:
    a, b, c = valid_id("19850302", 11), valid_id("19600115", 22), valid_id("20010909", 31)
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in c)
    rows = [
        ["解放碑一社区实有人口台账"],  # a title row above the header
        ["序号", "*姓名", "身份证号码", "出生年月", "手机号码", "现住址", "人员类别", "所属网格", "备注"],
        ["1", "王芳", a, "1985年3月2日", "138 1234 5678", "民族路1号", "党员、低保", GRID_A1, ""],
        ["2", "李强", b, "1960/1/15", "023-63891234", "五一路2号", "高龄", GRID_A2, ""],
        ["3", "赵敏", full_width.lower(), "20010909", "", "新华路3号", "", GRID_A1, "全角数字"],
        ["4", "钱坤", "36042619910102009X", "1991.01.02", "", "", "", GRID_A1, "校验位错"],
        ["5", "孙丽", "5.00103E+17", "", "", "", "", GRID_A1, "科学计数法"],
        ["6", "", valid_id("19700101", 41), "", "", "", "", GRID_A1, "无姓名"],
        ["7", "王芳", a, "1985-03-02", "13812345678", "民族路1号", "党员、低保", GRID_A1, "重复行"],
        ["8", "周杰", valid_id("19900101", 51), "1990-01-01", "12345", "", "", "500103999001001", "网格不存在 电话错"],
    ]
    with path.open("w", encoding="gb18030", newline="") as fh:
        csv.writer(fh).writerows(rows)


def run(engine, settings, path: Path, tmp_path: Path):
    return import_ledger(
        engine, PEOPLE, path, actor="cli:test", settings=settings, error_report=tmp_path / "errors.csv", batch=3
    )


def test_a_messy_ledger_imports_with_the_right_counts_and_report(engine, settings, world, tmp_path):
    ledger = tmp_path / "人口台账.csv"
    messy_ledger(ledger)
    summary = run(engine, settings, ledger, tmp_path)
    assert (summary.read, summary.inserted, summary.updated, summary.unchanged, summary.rejected) == (
        8,
        3,
        0,
        1,
        4,
    )  # row 9 repeats row 3
    assert "序号" in summary.ignored_columns and "备注" in summary.ignored_columns

    report = list(csv.reader((tmp_path / "errors.csv").open(encoding="utf-8-sig")))
    assert report[0] == ["行号", "列", "字段", "值(已脱敏)", "原因", "reason"]
    by_row = {}
    for row in report[1:]:
        by_row.setdefault(int(row[0]), []).append(row)
    assert set(by_row) == {6, 7, 8, 10}
    assert any("mistyped" in r[5] for r in by_row[6])
    assert "lost its digits" in by_row[7][0][5]
    assert by_row[8][0][2] == "name"
    assert {r[2] for r in by_row[10]} >= {"phone"}
    assert by_row[6][0][3] == "360426********009X"  # the report never shows a whole ID number

    with Session(engine) as s:
        people = {p.name: p for p in s.exec(select(Person)).all()}
        assert set(people) == {"王芳", "李强", "赵敏"}
        assert people["王芳"].phone == "13812345678" and str(people["王芳"].birth_date) == "1985-03-02"
        assert people["赵敏"].id_number == valid_id("20010909", 31)
        tags = sorted(s.exec(select(PersonTag.tag).where(PersonTag.person_id == people["王芳"].id)).all())
        assert tags == ["低保", "党员"]
        created = s.exec(select(FieldChange).where(FieldChange.record_id == people["李强"].id)).one()
        assert created.source == "import" and created.source_ref == "人口台账.csv:4"

    again = run(engine, settings, ledger, tmp_path)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 4, 4)


def test_a_changed_ledger_updates_with_provenance(engine, settings, world, tmp_path):
    ledger = tmp_path / "v1.csv"
    ledger.write_text(
        f"姓名,公民身份号码,联系电话,所属网格\n王芳,{valid_id('19850302', 11)},13812345678,{GRID_A1}\n",
        encoding="utf-8-sig",
    )
    assert run(engine, settings, ledger, tmp_path).inserted == 1
    ledger.write_text(
        f"姓名,公民身份号码,联系电话,所属网格\n王芳,{valid_id('19850302', 11)},13900002222,{GRID_A1}\n",
        encoding="utf-8-sig",
    )
    summary = run(engine, settings, ledger, tmp_path)
    assert (summary.inserted, summary.updated) == (0, 1)
    with Session(engine) as s:
        change = s.exec(select(FieldChange).where(FieldChange.field == "phone")).one()
    assert (change.old, change.new, change.source, change.source_ref) == (
        "13812345678",
        "13900002222",
        "import",
        "v1.csv:2",
    )


def test_cli_import_prints_a_summary(engine, world, tmp_path, cli):
    ledger = tmp_path / "t.csv"
    messy_ledger(ledger)
    result = cli("import", "people", str(ledger))
    assert result.exit_code == 0, result.output
    assert "3" in result.output and "4" in result.output
    assert (tmp_path / "t.errors.csv").exists()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    refused = cli("import", "people", str(bad))
    assert refused.exit_code == 1


def test_grids_may_be_named_instead_of_coded(engine, settings, world, tmp_path):
    ledger = tmp_path / "names.csv"
    ledger.write_text(
        f"姓名,公民身份号码,所属网格\n王芳,{valid_id('19850302', 11)},解放碑一社区第2网格\n李强,{valid_id('19600115', 22)},没有这个网格\n",
        encoding="utf-8",
    )
    summary = run(engine, settings, ledger, tmp_path)
    assert (summary.inserted, summary.rejected) == (1, 1)
    with Session(engine) as s:
        assert s.exec(select(Person.area_code)).one() == GRID_A2


def test_new_people_get_ids_after_the_stored_ones_with_provenance_and_tags_naming_them(
    engine, settings, world, tmp_path
):
    """Ids are assigned in the batch, not read back: each row's provenance and tags must land on its own person."""
    first = tmp_path / "first.csv"
    first.write_text(
        f"姓名,公民身份号码,标签,所属网格\n甲,{valid_id('19800101', 1)},党员,{GRID_A1}\n", encoding="utf-8"
    )
    assert run(engine, settings, first, tmp_path).inserted == 1
    rows = [f"乙{n},{valid_id('19900101', n)},{'低保' if n % 2 else ''},{GRID_A2}" for n in range(10, 17)]
    second = tmp_path / "second.csv"
    second.write_text("姓名,公民身份号码,标签,所属网格\n" + "\n".join(rows) + "\n", encoding="utf-8")
    summary = run(engine, settings, second, tmp_path)  # batches of 3: 3 + 3 + 1
    assert (summary.inserted, summary.rejected) == (7, 0)
    with Session(engine) as s:
        people = {p.name: p for p in s.exec(select(Person)).all()}
        assert sorted(p.id for p in people.values()) == list(range(1, 9))
        for n in range(10, 17):
            person = people[f"乙{n}"]
            assert person.id_number == valid_id("19900101", n) and person.id_tail == person.id_number[-4:]
            created = s.exec(select(FieldChange).where(FieldChange.record_id == person.id)).one()
            assert created.source_ref == f"second.csv:{n - 8}"
            assert set(created.new.split(",")) == {"name", "id_number", "birth_date", "gender"}  # fields it gave
            tags = s.exec(select(PersonTag.tag).where(PersonTag.person_id == person.id)).all()
            assert tags == (["低保"] if n % 2 else [])


def test_the_import_leaves_the_connection_settings_as_it_found_them(engine, settings, world, tmp_path):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    ledger = tmp_path / "one.csv"
    ledger.write_text(f"姓名,公民身份号码,所属网格\n甲,{valid_id('19800101', 1)},{GRID_A1}\n", encoding="utf-8")
    with engine.connect() as connection:
        before = [
            connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in ("cache_size", "wal_autocheckpoint")
        ]
    run(engine, settings, ledger, tmp_path)
    with engine.connect() as connection:
        after = [
            connection.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in ("cache_size", "wal_autocheckpoint")
        ]
    assert after == before
