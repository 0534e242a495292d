"""Reading ledgers (台账): encodings, Excel's damage, header variants, row checks and the error report (no database).

Reasons are checked by the text a person reads in the error report, because
that text is what lets a community worker fix row 317.
"""

from __future__ import annotations

import csv
import json
import tracemalloc
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from jiceng.core.records.ledger import (
    FIELDS,
    HEADERS,
    HOUSE_USES,
    ORGANISATION_KINDS,
    Columns,
    LedgerError,
    ParsedRow,
    RowError,
    header_key,
    load_mapping,
    open_ledger,
    parse_row,
    resolve_columns,
    write_error_report,
)
from jiceng.core.records.models import HouseUse, OrganisationKind

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LOST = (
    "The number lost its digits in a spreadsheet (it reads {}); format the column as text and enter the number again."
)
REQUIRED = "This field is required."


def with_id_check(first17: str) -> str:
    """An ID number completed with its check character (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return first17 + ("X" if value == 10 else str(value))


def with_uscc_check(first17: str) -> str:
    """A credit code completed with its check character (GB 32100)."""
    total = sum(USCC_CHARSET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + USCC_CHARSET[(31 - total % 31) % 31]


WOMAN = "11010519491231002X"  # born 1949-12-31, female
MAN = with_id_check("50010319900101123")  # born 1990-01-01, 17th digit odd: male
USCC = with_uscc_check("91500103MA5U12345")


def reasons(parsed: ParsedRow) -> dict[str, str]:
    """field → the English reason of its error."""
    return {e.field: e.reason_en for e in parsed.errors}


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def rows_of(path: Path, **kwargs: Any) -> list[tuple[int, dict[str, Any]]]:
    return list(open_ledger(path, **kwargs))


# --- Headers -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("*姓名", "姓名"),
        (" 身份证号： ", "身份证号"),
        ("联系\n电话", "联系电话"),
        ("性别(男/女)", "性别"),
        ("出生日期（yyyy-mm-dd）", "出生日期"),
        ("ＩＤ Number", "idnumber"),
        ("(备注)", "(备注)"),
    ],
)
def test_headers_are_compared_without_decoration(header: str, key: str) -> None:
    assert header_key(header) == key


def test_every_header_variant_names_a_field_of_its_table() -> None:
    for table, variants in HEADERS.items():
        assert set(variants.values()) <= set(FIELDS[table]), table
    assert HEADERS["person"]["公民身份号码"] == HEADERS["person"]["证件号码"] == "id_number"
    assert HEADERS["person"]["出生年月"] == "birth_date"
    assert HEADERS["organisation"]["统一社会信用代码"] == "uscc"


def test_choices_are_the_enum_values() -> None:
    assert set(HOUSE_USES.values()) == {u.value for u in HouseUse}
    assert set(ORGANISATION_KINDS.values()) == {k.value for k in OrganisationKind}


def test_mixed_header_variants_resolve_and_unknown_ones_are_ignored() -> None:
    columns = resolve_columns("person", ["*姓名", "公民身份号码", "手机号码", "联系电话", "出生年月", "备注", "现住址"])
    assert columns.fields == {
        "*姓名": "name",
        "公民身份号码": "id_number",
        "手机号码": "phone",
        "联系电话": "phone",
        "出生年月": "birth_date",
        "现住址": "current_address",
    }
    assert columns.ignored == ("备注",)
    assert columns.missing == ()
    assert columns.by_field()["phone"] == ("手机号码", "联系电话")
    assert resolve_columns("house", ["房屋地址", "栋", "单元", "室", "用途"]).ignored == ()
    assert resolve_columns("organisation", ["地址"]).missing == ("name",)


def test_a_mapping_extends_and_overrides_the_known_headers() -> None:
    columns = resolve_columns("person", ["身份证明号", "姓名", "电话", "备注"], {"身份证明号": "id_number", "电话": ""})
    assert columns.fields == {"身份证明号": "id_number", "姓名": "name"}
    assert columns.ignored == ("电话", "备注")
    with pytest.raises(LedgerError) as info:
        resolve_columns("person", ["身份证明号"], {"身份证明号": "idcard"})
    assert info.value.texts()[1].startswith("The column mapping sends “身份证明号” to “idcard”, which is not a field")


def test_mapping_files_in_json_and_toml(tmp_path: Path) -> None:
    as_json = tmp_path / "map.json"
    as_json.write_text(json.dumps({"身份证明号": "id_number", " 居民姓名 ": "name"}, ensure_ascii=False), "utf-8")
    as_toml = tmp_path / "map.toml"
    as_toml.write_text('"身份证明号" = "id_number"\n" 居民姓名 " = "name"\n', "utf-8")
    assert load_mapping(as_json) == load_mapping(as_toml) == {"身份证明号": "id_number", "居民姓名": "name"}
    broken = tmp_path / "map.txt"
    broken.write_text("身份证明号 -> id_number", "utf-8")
    with pytest.raises(LedgerError) as info:
        load_mapping(broken)
    assert "JSON or TOML" in info.value.texts()[1]
    nested = tmp_path / "nested.json"
    nested.write_text('{"身份证明号": ["id_number"]}', "utf-8")
    with pytest.raises(LedgerError):
        load_mapping(nested)


# --- Reading CSV ---------------------------------------------------------------------------------------------------


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", [["姓名", "身份证号"], ["张三", MAN]], encoding="utf-8-sig")
    ledger = open_ledger(path)
    assert (ledger.format, ledger.encoding, ledger.headers, ledger.header_row) == (
        "csv",
        "utf-8-sig",
        ("姓名", "身份证号"),
        1,
    )
    assert list(ledger) == [(2, {"姓名": "张三", "身份证号": MAN})]


def test_gb18030_is_detected_even_after_a_long_ascii_start(tmp_path: Path) -> None:
    rows = (
        [["姓名", "身份证号", "现住址"]]
        + [["Li", MAN, "No. 1 Road"]] * 3000
        + [["欧阳娜娜", WOMAN, "重庆市渝中区解放碑𠀀号"]]
    )
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gb18030")
    assert path.stat().st_size > 64 * 1024
    ledger = open_ledger(path)
    assert ledger.encoding == "gb18030"
    *_, (number, last) = ledger
    assert number == 3002
    assert last == {"姓名": "欧阳娜娜", "身份证号": WOMAN, "现住址": "重庆市渝中区解放碑𠀀号"}


def test_plain_utf8_and_tab_separated(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["姓名", "电话"], ["王五", "13812345678"]], delimiter="\t")
    ledger = open_ledger(path)
    assert (ledger.encoding, ledger.delimiter) == ("utf-8", "\t")
    assert list(ledger) == [(2, {"姓名": "王五", "电话": "13812345678"})]


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "unicode.txt", [["姓名", "身份证号"], ["赵六", WOMAN]], encoding="utf-16", delimiter="\t"
    )
    ledger = open_ledger(path)
    assert (ledger.encoding, ledger.delimiter) == ("utf-16", "\t")
    assert list(ledger) == [(2, {"姓名": "赵六", "身份证号": WOMAN})]


def test_excels_separator_hint(tmp_path: Path) -> None:
    path = tmp_path / "sep.csv"
    path.write_text('sep=;\n姓名;"联系\n电话"\n张三;13812345678\n', "utf-8")
    ledger = open_ledger(path)
    assert (ledger.delimiter, ledger.header_row, ledger.headers) == (";", 2, ("姓名", "联系 电话"))
    assert parse_row("person", *next(iter(ledger))).values == {"name": "张三", "phone": "13812345678"}


def test_a_broken_csv_row_is_named(tmp_path: Path) -> None:
    # an unclosed quote swallows the rest of the file into one cell, until the csv module's limit
    path = tmp_path / "quote.csv"
    good = "".join(f"居民{i},幸福路{i}号\n" for i in range(20))
    path.write_text("姓名,现住址\n" + good + '李四,"幸福路' + "x" * 200_000 + "\n", "utf-8")
    ledger = open_ledger(path)
    with pytest.raises(LedgerError) as info:
        list(ledger)
    assert info.value.texts()[1] == "Row 22 of the file cannot be read as CSV."
    path.write_text('姓名,"现住址' + "x" * 200_000, "utf-8")
    with pytest.raises(LedgerError) as info:
        open_ledger(path)
    assert info.value.texts()[1] == "Row 1 of the file cannot be read as CSV."


def test_row_numbers_are_what_the_spreadsheet_shows(tmp_path: Path) -> None:
    rows = [
        ["XX社区实有人口台账", "", ""],
        ["姓名", "身份证号", "现住址"],
        ["张三", MAN, "幸福路1号\n2单元"],  # a line break inside a cell is still one row
        ["", "", ""],
        [" ", "", ""],
        ["李四", WOMAN, ""],
    ]
    ledger = open_ledger(write_csv(tmp_path / "title.csv", rows))
    assert ledger.header_row == 2
    assert [(n, r["姓名"]) for n, r in ledger] == [(3, "张三"), (6, "李四")]
    # iterating again reads the file afresh
    assert len(list(ledger)) == 2


def test_duplicate_and_blank_headers(tmp_path: Path) -> None:
    rows = [["姓名", "电话", "", "电话"], ["张三", "", "lost", "13812345678"]]
    ledger = open_ledger(write_csv(tmp_path / "dup.csv", rows))
    assert ledger.headers == ("姓名", "电话", "电话 (2)")
    [(_, raw)] = list(ledger)
    assert raw == {"姓名": "张三", "电话": None, "电话 (2)": "13812345678"}
    assert parse_row("person", 2, raw).values == {"name": "张三", "phone": "13812345678"}


def test_files_that_are_not_ledgers(tmp_path: Path) -> None:
    def refusal(path: Path) -> str:
        with pytest.raises(LedgerError) as info:
            open_ledger(path)
        return info.value.texts()[1]

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n\n")
    assert refusal(empty) == "The file is empty: there is no header row."
    garbage = tmp_path / "bad.csv"
    garbage.write_bytes("姓名\n".encode() + b"\xff\xfe\xfa\n")
    assert refusal(garbage).startswith("The file is neither UTF-8 nor GBK/GB18030 text")
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    assert refusal(fake).startswith("The Excel file cannot be opened")
    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    assert refusal(image) == "Only CSV and Excel files (.csv, .xlsx, .xls) can be read as a ledger."


# --- Reading Excel -------------------------------------------------------------------------------------------------


@pytest.fixture
def people_xlsx(tmp_path: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["*姓名", "证件号码", "出生日期", "手机号码", "性别(男/女)", "人员类别", "备注"])
    sheet.append(["张三", 5.00103199001011e17, datetime(1990, 1, 1), 13812345678.0, "男", "低保户、独居老人", "x"])
    sheet.append(["李四", "１１０１０５１９４９１２３１００２x", None, "138 1234 5678", None, None, None])
    sheet.append([])
    sheet.append([None, MAN, date(1990, 1, 1), None, "女", None, None])
    sheet.append(["王五", MAN, 32874, "+86 138-1234-5678", "M", None, None])  # 32874 is 1990-01-01 as a serial
    book.create_sheet("第二页").append(["不读"])
    book.save(tmp_path / "people.xlsx")
    return tmp_path / "people.xlsx"


def test_xlsx_cells_come_as_python_values(people_xlsx: Path) -> None:
    ledger = open_ledger(people_xlsx)
    assert ledger.format == "xlsx"
    rows = dict(ledger)
    assert sorted(rows) == [2, 3, 5, 6]
    assert rows[2]["证件号码"] == 5.00103199001011e17  # kept a float: the validator says it lost digits
    assert rows[2]["手机号码"] == 13812345678  # a whole number is an int
    assert rows[2]["出生日期"] == datetime(1990, 1, 1)
    assert rows[3]["出生日期"] is None


def test_xlsx_rows_are_checked(people_xlsx: Path) -> None:
    parsed = {n: parse_row("person", n, raw) for n, raw in open_ledger(people_xlsx)}

    assert parsed[2].values == {
        "name": "张三",
        "birth_date": date(1990, 1, 1),
        "phone": "13812345678",
        "gender": "male",
        "tags": ["低保户", "独居老人"],
    }
    assert parsed[2].errors == [
        RowError(
            row=2,
            column="证件号码",
            field="id_number",
            value_masked="5.0010**********e+17",
            reason_zh="这个号码在电子表格里丢了位数（显示为 5.00103199001011e+17）；请把该列设为文本格式后重新录入。",
            reason_en=LOST.format("5.00103199001011e+17"),
        )
    ]
    # full-width digits and a lower-case x; birth date and gender come from the ID number
    assert parsed[3].ok
    assert parsed[3].values == {
        "name": "李四",
        "id_number": WOMAN,
        "phone": "13812345678",
        "birth_date": date(1949, 12, 31),
        "gender": "female",
    }
    # no name, and a gender that contradicts the ID number: both reported
    assert reasons(parsed[5]) == {
        "name": REQUIRED,
        "gender": "The ID number belongs to a man, but the gender entered is female.",
    }
    assert [e.column for e in parsed[5].errors] == ["*姓名", "性别(男/女)"]
    assert parsed[6].ok, parsed[6].errors
    assert parsed[6].values["birth_date"] == date(1990, 1, 1)
    assert parsed[6].values["gender"] == "male"


def test_xls_from_wps_and_excel_2003(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt")
    pytest.importorskip("python_calamine")
    book = xlwt.Workbook()
    sheet = book.add_sheet("台账")
    sheet.write(0, 0, "人口台账")
    for column, header in enumerate(["姓名", "身份证号", "出生日期", "电话"]):
        sheet.write(1, column, header)
    sheet.write(2, 0, "张三")
    sheet.write(2, 1, 5.00103199001011e17)
    sheet.write(2, 2, date(1990, 1, 1), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    sheet.write(2, 3, 13812345678)
    sheet.write(4, 0, "李四")
    sheet.write(4, 1, WOMAN)
    book.save(str(tmp_path / "old.xls"))

    ledger = open_ledger(tmp_path / "old.xls")
    assert (ledger.format, ledger.header_row) == ("xls", 2)
    rows = list(ledger)
    assert [n for n, _ in rows] == [3, 5]
    first = parse_row("person", *rows[0])
    assert first.values == {"name": "张三", "birth_date": date(1990, 1, 1), "phone": "13812345678"}
    assert reasons(first) == {"id_number": LOST.format("5.00103199001011e+17")}
    assert parse_row("person", *rows[1]).values["gender"] == "female"


def test_a_custom_header_through_a_mapping_file(tmp_path: Path) -> None:
    mapping_file = tmp_path / "columns.toml"
    mapping_file.write_text('"身份证明号" = "id_number"\n"户主电话" = "phone"\n', "utf-8")
    mapping = load_mapping(mapping_file)
    path = write_csv(tmp_path / "custom.csv", [["居民", "身份证明号", "户主电话"], ["x", WOMAN, "023-63891234"]])
    ledger = open_ledger(path, table="person", mapping=mapping)
    assert ledger.header_row == 1
    columns = ledger.columns("person", mapping)
    assert columns.ignored == ("居民",)
    assert columns.missing == ("name",)
    [(number, raw)] = list(ledger)
    parsed = parse_row("person", number, raw, mapping)
    assert parsed.values == {
        "id_number": WOMAN,
        "phone": "023-63891234",
        "birth_date": date(1949, 12, 31),
        "gender": "female",
    }
    # the name has no column at all: the error names the header it would have had
    assert [(e.column, e.field, e.reason_en) for e in parsed.errors] == [("姓名", "name", REQUIRED)]
    assert parse_row("person", number, raw, columns).values == parsed.values


# --- Checking rows -------------------------------------------------------------------------------------------------


def test_a_person_row_with_everything_wrong_reports_everything() -> None:
    raw = {
        "姓名": "  ",
        "身份证号": "5.00103E+17",
        "出生日期": "03/02/1985",
        "电话": "6389123",
        "性别": "未知",
        "所属网格": "50010300100",
        "标签": "低保户，残疾 人/有-横线",
    }
    parsed = parse_row("person", 7, raw)
    assert parsed.values == {}
    assert reasons(parsed) == {
        "name": REQUIRED,
        "id_number": LOST.format("5.00103E+17"),
        "birth_date": "In “03/02/1985” the year comes last, so the day and month could be either way round; "
        "write the date year first, e.g. 1985-03-02.",
        "phone": "A landline number needs its area code, e.g. 023-63891234.",
        "gender": "The gender must be male or female, not “未知”.",
        "area_code": "An area code has 12 digits, or 15 for a grid; this one has 11.",
        "tags": "A tag is 1–20 letters or digits: 有-横线",
    }
    masked = {e.field: e.value_masked for e in parsed.errors}
    assert masked["id_number"] == "5.0010*E+17"
    assert masked["phone"] == "*****23"
    assert all(e.row == 7 for e in parsed.errors)
    assert {e.field: e.reason_zh for e in parsed.errors}["name"] == "此字段为必填项。"


def test_birth_dates_as_ledgers_write_them() -> None:
    def born(value: object, id_number: str | None = MAN) -> ParsedRow:
        raw = {"姓名": "张三", "出生年月": value} | ({"身份证号": id_number} if id_number else {})
        return parse_row("person", 2, raw)

    for value in ("1990-01-01", "1990/1/1", "1990.01.01", "19900101", "1990年1月1日", "1990年1月1号", 32874):
        assert born(value).values["birth_date"] == date(1990, 1, 1), value
    # 出生年月: a year and month agree with the ID number, which gives the day
    for value in ("1990.01", "1990年1月", "199001", 1990.01, 1990.1):
        assert born(value).values["birth_date"] == date(1990, 1, 1), value
    assert reasons(born("1990.02")) == {
        "birth_date": "The ID number gives the birth date 1990-01-01, but the birth date entered is 1990.02."
    }
    assert reasons(born("1990.01", id_number=None)) == {
        "birth_date": "“1990.01” gives only the year and month; enter the whole date, e.g. 1985-03-02."
    }
    assert reasons(born(1990, id_number=None)) == {
        "birth_date": "“1990” is not a date; write it year first, e.g. 1985-03-02."
    }
    assert reasons(born("1990-02-30", id_number=None)) == {"birth_date": "“1990-02-30” is not a real date."}
    assert reasons(born(date(1990, 1, 2))) == {
        "birth_date": "The ID number gives the birth date 1990-01-01, but the birth date entered is 1990-01-02."
    }


def test_a_person_row_that_is_right() -> None:
    raw = {
        "姓名": " 欧阳娜娜 ",
        "公民身份号码": "110105 19491231 002x",
        "性别": "Ｆ",
        "民族": "汉族",
        "联系方式": "",
        "手机号码": "１３８１２３４５６７８",
        "户籍地址": "北京市朝阳区",
        "现居住地址": "重庆市渝中区解放碑1号",
        "人员类型": "独居老人；低保户 独居老人",
        "网格编码": "500103001001001",
    }
    parsed = parse_row("person", 3, raw)
    assert parsed.ok, parsed.errors
    assert parsed.values == {
        "name": "欧阳娜娜",
        "id_number": WOMAN,
        "gender": "female",
        "ethnicity": "汉族",
        "phone": "13812345678",
        "hukou_address": "北京市朝阳区",
        "current_address": "重庆市渝中区解放碑1号",
        "tags": ["独居老人", "低保户"],
        "area_code": "500103001001001",
        "birth_date": date(1949, 12, 31),
    }


def test_a_grid_given_by_name_is_left_for_the_importer() -> None:
    parsed = parse_row("person", 2, {"姓名": "张三", "所属网格": " 第一网格 "})
    assert parsed.values == {"name": "张三", "area_code": "第一网格"}


def test_text_too_long_is_refused_and_truncated_in_the_report() -> None:
    parsed = parse_row("person", 2, {"姓名": "名" * 60})
    assert reasons(parsed) == {"name": "Too long: at most 50 characters."}
    assert parsed.errors[0].value_masked == "名" * 19 + "…"


def test_house_rows() -> None:
    good = parse_row(
        "house",
        4,
        {
            "房屋地址": "幸福路1号",
            "栋": 3,
            "单元": "2",
            "门牌号": "1201",
            "房屋用途": "出租",
            "纬度": "29.56",
            "经度": 106.57,
        },
    )
    assert good.ok, good.errors
    assert good.values == {
        "address": "幸福路1号",
        "building": "3",
        "unit": "2",
        "room": "1201",
        "use": "rental",
        "latitude": 29.56,
        "longitude": 106.57,
    }
    for typed, use in (("自住", "residential"), ("居住", "residential"), ("商铺", "commercial"), ("空置", "vacant")):
        assert parse_row("house", 2, {"地址": "幸福路1号", "用途": typed}).values["use"] == use
    bad = parse_row("house", 5, {"地址": "", "室": datetime(2024, 3, 2), "用途": "仓库", "纬度": "north", "经度": 200})
    assert reasons(bad) == {
        "address": REQUIRED,
        "room": "A spreadsheet turned this value into the date 2024-03-02; format the column as text and enter the "
        "value again.",
        "use": "The house use must be residential, commercial, rental or vacant, not “仓库”.",
        "latitude": "Must be a number.",
        "longitude": "Must be at most 136.",
    }


def test_organisation_rows() -> None:
    good = parse_row(
        "organisation",
        2,
        {
            "商户名称": "老王面馆",
            "统一社会信用代码": USCC.lower(),
            "类型": "个体户",
            "经营者": "王五",
            "联系电话": "023 6389 1234",
            "经营地址": "幸福路1号",
            "营业执照状态": "存续",
        },
    )
    assert good.ok, good.errors
    assert good.values == {
        "name": "老王面馆",
        "uscc": USCC,
        "kind": "individual_business",
        "legal_representative": "王五",
        "phone": "023-63891234",
        "registered_address": "幸福路1号",
        "licence_state": "存续",
    }
    kinds = {
        "企业": "enterprise",
        "社会组织": "social_organisation",
        "事业单位": "public_institution",
        "机关": "government",
    }
    for typed, kind in kinds.items():
        assert parse_row("organisation", 2, {"名称": "x", "类型": typed}).values["kind"] == kind
    bad = parse_row("organisation", 3, {"单位名称": "某公司", "信用代码": USCC[:-1] + "O", "单位类型": "合作社"})
    assert reasons(bad) == {
        "uscc": "Credit codes never use the letters I, O, S, V or Z; “O” at position 18 was probably mistyped.",
        "kind": "The organisation type must be enterprise, individual business, social organisation, public "
        "institution or government, not “合作社”.",
    }


def test_unknown_table() -> None:
    with pytest.raises(LedgerError) as info:
        parse_row("people", 2, {})
    assert info.value.texts()[1] == "“people” is not a table; the tables are: person, house, organisation."


# --- The error report ----------------------------------------------------------------------------------------------


def test_error_report_opens_in_excel(tmp_path: Path) -> None:
    errors = [
        RowError(3, "身份证号", "id_number", "500103********1234", "校验位不对。", "The check character is wrong."),
        RowError(9, "=HYPERLINK(1)", "name", "-1", "此字段为必填项。", REQUIRED),
    ]
    path = tmp_path / "errors.csv"
    assert write_error_report(path, iter(errors)) == 2
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["行号", "列", "字段", "值(已脱敏)", "原因", "reason"],
        ["3", "身份证号", "id_number", "500103********1234", "校验位不对。", "The check character is wrong."],
        ["9", "'=HYPERLINK(1)", "name", "'-1", "此字段为必填项。", REQUIRED],  # no formula runs in Excel
    ]


# --- Streaming -------------------------------------------------------------------------------------------------


def test_a_large_ledger_streams_in_flat_memory(tmp_path: Path) -> None:
    count = 200_000
    path = tmp_path / "big.csv"
    ids = [with_id_check(f"5001031990{m:02d}{d:02d}{s:03d}") for m, d, s in ((1, 1, 123), (2, 3, 456), (12, 31, 7))]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write("姓名,身份证号,联系电话,现住址\r\n")
        fh.writelines(f"居民{i},{ids[i % 3]},138{i:08d},幸福路{i}号\r\n" for i in range(count))
    assert path.stat().st_size > 10_000_000  # as Python objects, all its rows would take over 100 MB

    ledger = open_ledger(path)
    columns = ledger.columns("person")
    tracemalloc.start()
    try:
        rows = errors = 0
        last = 0
        for number, raw in ledger:
            rows += 1
            last = number
            if number % 100 == 0:  # every row would take a minute under tracemalloc; the memory is the point here
                errors += len(parse_row("person", number, raw, columns).errors)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (rows, last, errors) == (count, count + 1, 0)
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_columns_are_reusable_between_rows() -> None:
    columns = resolve_columns("person", ["姓名"])
    assert isinstance(columns, Columns)
    assert parse_row("person", 2, {"姓名": "甲"}, columns).values == {"name": "甲"}
    assert parse_row("person", 3, {"姓名": "乙"}, columns).values == {"name": "乙"}
