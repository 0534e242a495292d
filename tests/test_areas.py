"""The area tree: importing real statistical codes, refusing bad files whole, subtree queries."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from jiceng.core.area_import import import_areas
from jiceng.core.areas import Area, within
from jiceng.core.db import transaction
from jiceng.core.demo import CHONGQING

SHARED_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "areas-chongqing.csv"


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Area)).one()


def test_bundled_copy_is_the_shared_file():
    if SHARED_CSV.exists():
        assert CHONGQING.read_bytes() == SHARED_CSV.read_bytes()
    assert (CHONGQING.parent / "NOTICE.md").read_text(encoding="utf-8").count("CC BY 4.0") >= 1


def test_imports_all_of_chongqing_once(engine):
    with transaction(engine) as s:
        result = import_areas(s, CHONGQING)
    assert result.errors == []
    assert result.inserted == 1072
    with Session(engine) as s:
        assert count(s) == 1072
        yuzhong = s.get(Area, "500103000000")
        assert yuzhong is not None and yuzhong.name == "渝中区"
        streets = s.exec(select(Area.name).where(within(col(Area.path), [yuzhong.path]), Area.level == "town")).all()
        assert len(streets) == 11 and "解放碑街道" in streets
    with transaction(engine) as s:
        again = import_areas(s, CHONGQING)
    assert (again.inserted, again.renamed, again.unchanged) == (0, 0, 1072)


def test_bad_rows_are_all_reported_and_nothing_is_written(engine, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\n"
        "500000000000,重庆市,city,\n"  # line 2: fine
        "500103000000,渝中区,district,500000000000\n"  # line 3: fine
        "50010300300,短代码,town,500103000000\n"  # line 4: 11 digits
        "500103003000,,town,500103000000\n"  # line 5: no name
        "500103004000,两路口街道,village,500103000000\n"  # line 6: unknown level
        "500104001000,大渡口某街道,town,500103000000\n"  # line 7: prefix is not the parent's
        "500103005001,上清寺社区,community,500103000000\n"  # line 8: community under a district
        "500103007000,菜园坝街道,town,500199000000\n"  # line 9: unknown parent
        "500103000000,渝中区,district,500000000000\n",  # line 10: duplicate of line 3
        encoding="utf-8",
    )
    with transaction(engine) as s:
        result = import_areas(s, bad)
    lines = {(e.line, e.field) for e in result.errors}
    assert lines == {
        (4, "code"),
        (5, "name"),
        (6, "level"),
        (7, "code"),
        (8, "level"),
        (9, "parent_code"),
        (10, "code"),
    }
    by_line = {e.line: e for e in result.errors}
    assert "12" in by_line[4].message and "12 digits" in by_line[4].message_en
    assert by_line[9].message_en == "Parent 500199000000 is neither in the file nor in the database."
    with Session(engine) as s:
        assert count(s) == 0


def test_cli_import_prints_line_numbers_and_exits_nonzero(engine, tmp_path, cli):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,level,parent_code\n500000000000,重庆市,city,\n5001,渝中区,district,500000000000\n",
        encoding="utf-8-sig",
    )
    result = cli("areas", "import", str(bad))
    assert result.exit_code == 1
    assert "3" in result.output and "code" in result.output
    ok = cli("areas", "import", str(CHONGQING))
    assert ok.exit_code == 0, ok.output
    assert "1072" in ok.output


def test_paths_nest_and_subtree_is_one_range(engine):
    with transaction(engine) as s:
        import_areas(s, CHONGQING)
    with Session(engine) as s:
        town = s.get(Area, "500103003000")
        assert town is not None
        assert town.path == "/500000000000/500103000000/500103003000/"
        assert town.depth == 2
        district = s.get(Area, "500103000000")
        under = s.exec(select(func.count()).select_from(Area).where(within(col(Area.path), [district.path]))).one()
        assert under == 12  # the district and its 11 streets
