"""Reading ledgers (台账): the spreadsheets communities keep about people, houses and organisations.

The reading side of the ledger import, pure and without a database: open a
CSV or Excel file, find its header row, stream its rows, and turn each row
into checked, normalised values for one table, with every problem of the row
as a :class:`RowError` a person can act on ("row 317, column 身份证号: the
number lost its digits in a spreadsheet"). Writing to the database is the
importer's business.

Files are streamed: CSV through :mod:`csv` (the encoding, UTF-8 with or
without BOM or GBK/GB18030, is found by decoding the file in chunks), XLSX
through openpyxl's read-only mode, so memory does not grow with the number of
rows. Old ``.xls`` files (Excel 97–2003, WPS) are read whole by
python-calamine; the format itself stops at 65,536 rows.

Headers are matched after :func:`header_key` (NFKC, no spaces, colons or the
asterisks that mark required columns, no trailing hint in brackets such as
``性别(男/女)``), against :data:`HEADERS` and a mapping file
(:func:`load_mapping`) for the rest. Columns that match nothing are ignored
and listed in :attr:`Columns.ignored`.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from jiceng.core.errors import InvalidValue
from jiceng.core.i18n import N_
from jiceng.core.records import validation
from jiceng.core.records.schemas import TAG
from jiceng.core.records.validation import REQUIRED

__all__ = [
    "FIELDS",
    "HEADERS",
    "Columns",
    "Ledger",
    "LedgerError",
    "ParsedRow",
    "RowError",
    "RowParser",
    "header_key",
    "load_mapping",
    "open_ledger",
    "parse_row",
    "resolve_columns",
    "write_error_report",
]

# --- Tables, fields and the headers ledgers give them --------------------------------------------------------

FIELDS: dict[str, tuple[str, ...]] = {
    "person": (
        "id_number",
        "name",
        "gender",
        "birth_date",
        "ethnicity",
        "phone",
        "hukou_address",
        "current_address",
        "tags",
        "area_code",
    ),
    "house": ("address", "building", "unit", "room", "use", "owner_id", "latitude", "longitude", "area_code"),
    "organisation": (
        "uscc",
        "name",
        "kind",
        "legal_representative",
        "phone",
        "registered_address",
        "licence_state",
        "area_code",
    ),
}
# A row without these cannot become a record; the others may be blank.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {"person": ("name",), "house": ("address",), "organisation": ("name",)}


def _variants(pairs: Mapping[str, str | tuple[str, ...]]) -> dict[str, str]:
    """``{field: variants}`` written the readable way round, turned into ``{variant: field}``."""
    found: dict[str, str] = {}
    for name, variants in pairs.items():
        for variant in (variants,) if isinstance(variants, str) else variants:
            found[variant] = name
    return found


# The headers ledgers use, per table: Chinese as communities write them, English as exports and foreigners do,
# and each field's own name so that a file exported by the platform reads back.
HEADERS: dict[str, dict[str, str]] = {
    "person": _variants(
        {
            "id_number": (
                "公民身份号码",
                "身份证号",
                "身份证号码",
                "证件号码",
                "身份证",
                "ID number",
                "ID card number",
                "id_number",
            ),
            "name": ("姓名", "名字", "Name", "name"),
            "gender": ("性别", "Gender", "Sex", "gender"),
            "birth_date": ("出生日期", "出生年月", "生日", "Date of birth", "Birth date", "birth_date"),
            "ethnicity": ("民族", "Ethnicity", "ethnicity"),
            "phone": ("联系电话", "手机号码", "手机号", "手机", "电话", "联系方式", "Phone", "Mobile", "phone"),
            "hukou_address": ("户籍地址", "户籍地", "户口所在地", "Hukou address", "hukou_address"),
            "current_address": ("现住址", "居住地址", "现居住地址", "住址", "Current address", "current_address"),
            "tags": ("标签", "人员类别", "人员类型", "Tags", "tags"),
            "area_code": ("所属网格", "网格", "网格编码", "区划代码", "Area code", "area_code"),
        }
    ),
    "house": _variants(
        {
            "address": ("地址", "房屋地址", "详细地址", "Address", "address"),
            "building": ("楼栋", "栋", "楼栋号", "Building", "building"),
            "unit": ("单元", "单元号", "Unit", "unit"),
            "room": ("房号", "门牌号", "室", "房间号", "Room", "room"),
            "use": ("房屋用途", "用途", "Use", "use"),
            "owner_id": ("owner_id",),
            "latitude": ("纬度", "Latitude", "latitude"),
            "longitude": ("经度", "Longitude", "longitude"),
            "area_code": ("所属网格", "网格", "网格编码", "区划代码", "Area code", "area_code"),
        }
    ),
    "organisation": _variants(
        {
            "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "USCC", "Unified social credit code", "uscc"),
            "name": ("单位名称", "名称", "企业名称", "商户名称", "Name", "name"),
            "kind": ("单位类型", "类型", "Kind", "Type", "kind"),
            "legal_representative": (
                "法定代表人",
                "负责人",
                "经营者",
                "Legal representative",
                "legal_representative",
            ),
            "phone": ("联系电话", "电话", "Phone", "phone"),
            "registered_address": ("注册地址", "经营地址", "Registered address", "registered_address"),
            "licence_state": ("执照状态", "营业执照状态", "Licence state", "licence_state"),
            "area_code": ("所属网格", "网格", "网格编码", "区划代码", "Area code", "area_code"),
        }
    ),
}

GENDERS = {
    "男": "male",
    "男性": "male",
    "male": "male",
    "m": "male",
    "女": "female",
    "女性": "female",
    "female": "female",
    "f": "female",
}
HOUSE_USES = {
    "自住": "residential",
    "居住": "residential",
    "住宅": "residential",
    "商用": "commercial",
    "商铺": "commercial",
    "出租": "rental",
    "空置": "vacant",
    "闲置": "vacant",
}
HOUSE_USES |= {use: use for use in ("residential", "commercial", "rental", "vacant")}
ORGANISATION_KINDS = {
    "企业": "enterprise",
    "个体工商户": "individual_business",
    "个体户": "individual_business",
    "社会组织": "social_organisation",
    "事业单位": "public_institution",
    "机关": "government",
    "政府机关": "government",
    "机关单位": "government",
}
ORGANISATION_KINDS |= {
    kind: kind
    for kind in ("enterprise", "individual_business", "social_organisation", "public_institution", "government")
}

# Longest text per field, as the input models allow.
MAX_LENGTH = {
    "person": {"name": 50, "ethnicity": 20, "hukou_address": 200, "current_address": 200},
    "house": {"address": 200, "building": 20, "unit": 20, "room": 20},
    "organisation": {"name": 100, "legal_representative": 50, "registered_address": 200, "licence_state": 20},
}
MAX_TAGS = 20

# --- Messages ------------------------------------------------------------------------------------------------

NOT_A_LEDGER = N_("Only CSV and Excel files (.csv, .xlsx, .xls) can be read as a ledger.")
BROKEN_EXCEL = N_("The Excel file cannot be opened; it may be damaged. Open it in Excel or WPS and save it again.")
NO_SHEET = N_("The Excel file has no worksheet.")
UNKNOWN_ENCODING = N_(
    "The file is neither UTF-8 nor GBK/GB18030 text; save it from Excel or WPS as “CSV UTF-8” and try again."
)
BAD_CSV_ROW = N_("Row {row} of the file cannot be read as CSV.")
NO_HEADER = N_("The file is empty: there is no header row.")
XLS_UNSUPPORTED = N_("Old .xls files cannot be read here; save the file as .xlsx or CSV and try again.")
BAD_MAPPING = N_(
    "The column mapping file must be JSON or TOML that pairs each ledger header with a field name, e.g. 身份证明号 = id_number."
)
MAPPING_FIELD = N_(
    "The column mapping sends “{header}” to “{field}”, which is not a field here; the fields are: {fields}."
)
UNKNOWN_TABLE = N_("“{table}” is not a table; the tables are: {tables}.")
TURNED_INTO_DATE = N_(
    "A spreadsheet turned this value into the date {value}; format the column as text and enter the value again."
)
MONTH_ONLY = N_("“{value}” gives only the year and month; enter the whole date, e.g. 1985-03-02.")
USE_UNKNOWN = N_("The house use must be residential, commercial, rental or vacant, not “{value}”.")
KIND_UNKNOWN = N_(
    "The organisation type must be enterprise, individual business, social organisation, public institution or government, not “{value}”."
)
AREA_CODE_LENGTH = N_("An area code has 12 digits, or 15 for a grid; this one has {length}.")
TOO_MANY_TAGS = N_("At most {count} tags; this cell has {given}.")
TOO_LONG = N_("Too long: at most {max_length} characters.")
NOT_A_NUMBER = N_("Must be a number.")
NOT_A_WHOLE_NUMBER = N_("Must be a whole number.")
AT_LEAST = N_("Must be at least {ge}.")
AT_MOST = N_("Must be at most {le}.")
BAD_TAG = N_("A tag is 1–20 letters or digits: {tag}")


class LedgerError(InvalidValue):
    """The file as a whole cannot be read (format, encoding, mapping); its texts say what to do about it."""


# --- Headers -------------------------------------------------------------------------------------------------

_HEADER_NOISE = re.compile(r"[\s:*]+")
_HEADER_HINT = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")


@lru_cache(maxsize=4096)
def header_key(header: str) -> str:
    """The form headers are compared in: ``" *身份证号： "`` and ``身份证号`` are one header, ``性别(男/女)`` is 性别.

    NFKC (full-width letters, ``：`` and ``（）`` become ASCII), lower case, and
    no whitespace, colons or asterisks anywhere. A trailing hint in brackets
    is dropped unless it is all there is.
    """
    text = _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", str(header))).lower()
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    bare = _HEADER_HINT.sub("", text)
    return bare or text


_KNOWN: dict[str, dict[str, str]] = {
    table: {header_key(variant): name for variant, name in variants.items()} for table, variants in HEADERS.items()
}
# The header an error names when the ledger has no column for a required field: the first, Chinese, variant.
_DEFAULT_HEADER: dict[str, dict[str, str]] = {
    table: {name: variant for variant, name in reversed(variants.items())} for table, variants in HEADERS.items()
}


def _table(table: str) -> str:
    if table not in FIELDS:
        raise LedgerError(UNKNOWN_TABLE, table=table, tables=", ".join(FIELDS))
    return table


def load_mapping(path: str | Path) -> dict[str, str]:
    """Read a column mapping file: ``{"原表头": "field"}`` as JSON or TOML (``"身份证明号" = "id_number"``).

    It adds headers :data:`HEADERS` does not know and overrides those it does;
    an empty field name ignores the column. Field names are checked against
    the table when the mapping is used (:func:`resolve_columns`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise LedgerError(BAD_MAPPING) from None
    loaded: object = None
    loaders: tuple[Callable[[str], object], ...] = (json.loads, tomllib.loads)
    if path.suffix.lower() == ".toml":
        loaders = loaders[::-1]
    for load in loaders:
        try:
            loaded = load(text)
            break
        except ValueError:
            continue
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in loaded.items()
    ):
        raise LedgerError(BAD_MAPPING)
    return {str(k).strip(): (v or "").strip() for k, v in loaded.items()}


@dataclass(frozen=True)
class Columns:
    """How a ledger's columns map to one table's fields.

    ``fields`` is header → field for the columns that are used, in the file's
    order; when two columns give one field (联系电话 and 手机号码), the first
    that is not blank in a row wins. ``ignored`` are the headers that match no
    field; ``missing`` the required fields no column gives.
    """

    table: str
    fields: dict[str, str]
    ignored: tuple[str, ...]
    missing: tuple[str, ...]
    _parser: RowParser | None = field(default=None, init=False, repr=False, compare=False)

    def by_field(self) -> dict[str, tuple[str, ...]]:
        """field → the headers that give it, in the file's order."""
        found: dict[str, list[str]] = {}
        for header, name in self.fields.items():
            found.setdefault(name, []).append(header)
        return {name: tuple(headers) for name, headers in found.items()}


def resolve_columns(table: str, headers: Iterable[str], mapping: Mapping[str, str] | None = None) -> Columns:
    """Match a ledger's headers to the fields of ``table`` (person, house, organisation); see :class:`Columns`."""
    fields = FIELDS[_table(table)]
    custom = {header_key(k): v for k, v in (mapping or {}).items()}
    for header, name in (mapping or {}).items():
        if name and name not in fields:
            raise LedgerError(MAPPING_FIELD, header=header, field=name, fields=", ".join(fields))
    known = _KNOWN[table]
    used: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        key = header_key(header)
        name = custom[key] if key in custom else known.get(key, "")
        if name:
            used[header] = name
        else:
            ignored.append(header)
    missing = tuple(name for name in REQUIRED_FIELDS[table] if name not in used.values())
    return Columns(table, used, tuple(ignored), missing)


# --- Reading files -------------------------------------------------------------------------------------------

Format = Literal["csv", "xlsx", "xls"]
HEADER_SCAN = 10  # non-blank rows searched for the header, for ledgers with a title row or two above it
_CHUNK = 1 << 20
_EXACT = 10**15  # doubles hold 15 significant digits for certain


def _cell(value: Any) -> Any:
    """A spreadsheet cell as Python: blanks are None, whole numbers that are exact are ints.

    A float of 10^15 or more stays a float, so that the validators can say
    the number lost its digits rather than see a wrong check character.
    """
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < _EXACT:
        return int(value)
    return value


def _blank(cells: Iterable[Any]) -> bool:
    """True for a row with nothing in it but empty cells and spaces."""
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _blank_text(cells: list[str]) -> bool:
    """:func:`_blank` for a CSV row, whose cells are all text, without allocating."""
    for cell in cells:  # noqa: SIM110 (a loop allocates no generator)
        if cell and not cell.isspace():
            return False
    return True


def _detect_format(path: Path) -> Format:
    try:
        with path.open("rb") as fh:
            start = fh.read(4096)
    except OSError:
        raise LedgerError(NOT_A_LEDGER) from None
    magic = start[:8]
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if b"\0" in start and not start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # binary, not text
        raise LedgerError(NOT_A_LEDGER)
    return "csv"


def _decodes(path: Path, encoding: str) -> bool:
    """True if the whole file is valid ``encoding``, decoded in chunks so memory stays flat."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: str | Path) -> str:
    """The text encoding of a CSV file: a BOM says it; else UTF-8 if the whole file is UTF-8; else GB18030.

    GB18030 is a superset of GBK and GB2312, which is what Excel and WPS
    write on Chinese Windows when "CSV" is chosen. The whole file is checked,
    not its start, because a ledger whose first rows are ASCII can still
    hold GBK names further down.
    """
    path = Path(path)
    with path.open("rb") as fh:
        start = fh.read(4)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text": UTF-16 with tabs
    for encoding in ("utf-8", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    raise LedgerError(UNKNOWN_ENCODING)


def _delimiter(path: Path, encoding: str) -> str:
    """Comma, tab or semicolon: as a ``sep=;`` line (Excel's hint) says, else whichever the first line has most of."""
    with path.open(encoding=encoding, newline="") as fh:
        start = fh.read(65536)
    for line in start.splitlines():
        if line.strip():
            if line.lower().startswith("sep=") and len(line.strip()) == 5:
                return line.strip()[4]
            counts = {d: line.count(d) for d in (",", "\t", ";")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


@dataclass(frozen=True)
class Ledger:
    """An opened ledger: where its header is and what it says. Iterating streams the data rows.

    Each iteration reads the file afresh, so a ledger can be checked in one
    pass and written in another; it yields ``(row_number, {header: value})``
    with the row number a spreadsheet shows (1 is the first line of the
    file), skipping rows that are entirely blank. Values are ``str`` from
    CSV; from Excel also ``int``, ``float`` (only those that may have lost
    digits, or have a fraction), ``datetime`` or ``bool``; an empty cell is ``None``.

    Two columns with the same header are told apart as ``电话``, ``电话 (2)``;
    columns without a header are left out.
    """

    path: Path
    format: Format
    headers: tuple[str, ...]
    header_row: int
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only
    _positions: tuple[int, ...] = field(default=(), repr=False)  # the cell index of each header

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        headers, positions = self.headers, self._positions
        for number, cells in self.cells():
            yield number, {h: None if (c := cells[i]) == "" else c for h, i in zip(headers, positions, strict=True)}

    def cells(self) -> Iterator[tuple[int, list[Any]]]:
        """The data rows as lists of cells, as the file has them: ``(row_number, cells)``, blank rows skipped.

        What iterating gives, without a dict per row: a CSV cell is ``str``,
        ``""`` when empty; an Excel cell as :meth:`__iter__` gives it. Every
        row has a cell for each header (see :meth:`parser`).
        """
        width = max(self._positions, default=-1) + 1
        if self.format == "csv":  # the common case, kept lean: tracemalloc and big files feel every allocation
            with self.path.open(encoding=self.encoding, newline="") as fh:
                number = 0  # records, not lines: a quoted cell with line breaks is still one row
                try:
                    for cells in csv.reader(fh, delimiter=self.delimiter or ","):
                        number += 1
                        if number <= self.header_row or _blank_text(cells):
                            continue
                        if len(cells) < width:
                            cells += [""] * (width - len(cells))
                        yield number, cells
                except (csv.Error, UnicodeDecodeError):
                    raise LedgerError(BAD_CSV_ROW, row=number + 1) from None
            return
        for number, cells in _raw_rows(self.path, self.format, self.encoding, self.delimiter):
            if number <= self.header_row or _blank(cells):
                continue
            row = [_cell(c) for c in cells]
            if len(row) < width:
                row += [None] * (width - len(row))
            yield number, row

    def parser(self, columns: Columns) -> RowParser:
        """The row parser for this ledger's :meth:`cells` and ``columns`` (resolved from its headers): once per file."""
        return RowParser(columns, dict(zip(self.headers, self._positions, strict=True)))

    def columns(self, table: str, mapping: Mapping[str, str] | None = None) -> Columns:
        """How this ledger's headers map to ``table``'s fields (see :func:`resolve_columns`)."""
        return resolve_columns(table, self.headers, mapping)


def _raw_rows(path: Path, fmt: Format, encoding: str | None, delimiter: str | None) -> Iterator[tuple[int, list[Any]]]:
    """Every row of the file or first sheet, numbered from 1 as a spreadsheet numbers them, blank ones too."""
    if fmt == "csv":
        yield from _csv_rows(path, encoding or "utf-8", delimiter or ",")
    elif fmt == "xlsx":
        yield from _xlsx_rows(path)
    else:
        yield from _xls_rows(path)


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        number = 0  # records, not lines: a quoted cell with line breaks is still one row
        try:
            for cells in reader:
                number += 1
                yield number, cells
        except (csv.Error, UnicodeDecodeError):
            raise LedgerError(BAD_CSV_ROW, row=number + 1) from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises zipfile, KeyError and its own errors for files that are not XLSX
        raise LedgerError(BROKEN_EXCEL) from None
    try:
        if not book.worksheets:
            raise LedgerError(NO_SHEET)
        sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # some writers record a wrong size; read what is there
        # openpyxl yields the missing rows between two stored ones, so counting gives the row number
        for number, cells in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, list(cells)
    finally:
        book.close()


def _xls_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """Excel 97–2003 files, read whole by python-calamine (the format holds at most 65,536 rows)."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        raise LedgerError(XLS_UNSUPPORTED) from None
    try:
        book = CalamineWorkbook.from_path(str(path))
        if not book.sheet_names:
            raise LedgerError(NO_SHEET)
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except LedgerError:
        raise
    except Exception:
        raise LedgerError(BROKEN_EXCEL) from None
    yield from enumerate(rows, 1)


def _header_score(cells: list[Any], keys: set[str]) -> int:
    return sum(1 for c in cells if isinstance(c, str) and header_key(c) in keys)


def open_ledger(path: str | Path, *, table: str | None = None, mapping: Mapping[str, str] | None = None) -> Ledger:
    """Open a ledger: find its format, encoding and header row; rows are read when it is iterated.

    The header row is the one among the first non-blank rows that has the
    most known headers (of ``table`` if given, else of any table, and the
    ``mapping``'s), so a title such as “XX社区实有人口台账” above it is
    skipped; if none has any, it is the first non-blank row.
    """
    path = Path(path)
    fmt = _detect_format(path)
    encoding = delimiter = None
    if fmt == "csv":
        encoding = detect_encoding(path)
        delimiter = _delimiter(path, encoding)
    keys = {header_key(k) for k in (mapping or {})}
    for name in [_table(table)] if table else list(FIELDS):
        keys |= set(_KNOWN[name])
    best: tuple[int, int, list[Any]] | None = None  # score, row number, cells
    seen = 0
    rows = _raw_rows(path, fmt, encoding, delimiter)
    try:
        for number, cells in rows:
            if _blank(cells):
                continue
            score = _header_score(cells, keys)
            if best is None or score > best[0]:
                best = (score, number, cells)
            seen += 1
            if seen >= HEADER_SCAN:
                break
    finally:
        rows.close()
    if best is None:
        raise LedgerError(NO_HEADER)
    _, header_row, cells = best
    headers: list[str] = []
    positions: list[int] = []
    counts: dict[str, int] = {}
    for index, cell in enumerate(cells):
        text = " ".join(_shown(cell).split())  # a header written on two lines in its cell reads as one
        if not text:
            continue
        counts[text] = counts.get(text, 0) + 1
        headers.append(text if counts[text] == 1 else f"{text} ({counts[text]})")
        positions.append(index)
    return Ledger(path, fmt, tuple(headers), header_row, encoding, delimiter, tuple(positions))


# --- Rows ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one cell, as the error report shows it; the value is masked if it is personal."""

    row: int
    column: str  # the ledger's own header
    field: str
    value_masked: str
    reason_zh: str
    reason_en: str


@dataclass(slots=True)
class ParsedRow:
    """One data row made into a table's values; a field with an error is left out of ``values``.

    ``values`` holds only the fields the row gives, and birth date and
    gender taken from the ID number when the ledger has no such column or
    leaves it blank; blank cells are left out, so the importer's defaults
    (or the stored record's values) apply.
    """

    row: int
    values: dict[str, Any]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors


def _shown(value: Any) -> str:
    """A cell's text as the person typed or sees it."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT:
            return str(int(value))
        return format(value, ".15g") if value.is_integer() else repr(value)
    return str(value)


def _masked(name: str, value: Any) -> str:
    text = _shown(value).strip()
    if name == "id_number":
        return validation.mask_id_number(text)
    if name == "phone":
        return validation.mask_phone(text)
    return text if len(text) <= 20 else text[:19] + "…"


def _no_date(value: Any) -> None:
    """Refuse a date where text or a code belongs: Excel makes 3-2 into 2 March and 1-1001 into a date too."""
    if isinstance(value, date | datetime):
        raise InvalidValue(TURNED_INTO_DATE, value=_shown(value))


def _text(limit: int) -> Callable[[Any], str]:
    """The parser of a text field of at most ``limit`` characters."""

    def parse(value: Any) -> str:
        if type(value) is str:  # a CSV cell, as most are: no date to refuse, nothing to show differently
            text = value.strip()
        else:
            _no_date(value)
            text = _shown(value).strip()
        if not text.isprintable():  # zero-width spaces and BOMs pasted from chat apps; line breaks become spaces
            text = " ".join(text.split())
            text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        if len(text) > limit:
            raise InvalidValue(TOO_LONG, max_length=limit)
        return text

    return parse


def _key(value: Any) -> str:
    """A choice as typed (``男``, ``Ｍ``, ``自住 ``) in the form looked up: NFKC, no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", _shown(value)).split()).lower()


def _gender(value: Any) -> str:
    found = GENDERS.get(value) if type(value) is str else None  # 男 or 女 as typed, the usual case
    if found is None:
        found = GENDERS.get(_key(value))
    if found is None:
        raise InvalidValue(validation.GENDER_UNKNOWN, value=_shown(value).strip())
    return found


def _choice(table: Mapping[str, str], msgid: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        found = table.get(_key(value))
        if found is None:
            raise InvalidValue(msgid, value=_shown(value).strip())
        return found

    return parse


_YEARS = (1800, 2200)
_YEAR_MONTH = re.compile(r"(\d{4})(?:[-/.]|年)(\d{1,2})月?|(\d{4})(\d{2})")


@dataclass(frozen=True, slots=True)
class _Month:
    """A birth date given as year and month only (出生年月: 1985.03, 1985年3月, 198503)."""

    year: int
    months: frozenset[int]  # 1985.1 from a number cell is January or October: Excel dropped the 0
    text: str


def _birth_date(value: Any) -> date | _Month:
    if isinstance(value, str):
        value = value.strip()
        if value.endswith("号"):  # 1985年3月2号, as people say it
            value = value[:-1] + "日"
    elif isinstance(value, int | float) and not isinstance(value, bool | date):
        if isinstance(value, float) and not value.is_integer():
            month = _month(value)  # 1985.03 in a number cell: a year and month, not an Excel serial
            if month is not None:
                return month
        elif _YEARS[0] <= value <= _YEARS[1]:
            raise InvalidValue(validation.DATE_FORMAT, value=_shown(value))  # a year, not day 1985 of 1900
    try:
        return validation.parse_date(value)
    except InvalidValue:
        month = _month(value)
        if month is None:
            raise
        return month


def _month(value: Any) -> _Month | None:
    text = _shown(value).strip()
    found = _YEAR_MONTH.fullmatch(validation.normalize(text))
    if not found:
        return None
    year, month = (int(g) for g in (found.group(1, 2) if found.group(1) else found.group(3, 4)))
    months = {month}
    if isinstance(value, float) and text.endswith(".1"):
        months.add(10)
    if not (1 <= month <= 12 and validation.EARLIEST_BIRTH.year <= year):
        raise InvalidValue(validation.DATE_IMPOSSIBLE, value=text)
    return _Month(year, frozenset(months), text)


def _area_code(value: Any) -> str:
    """A 12-digit area or 15-digit grid code; text that is not digits is a name, which the importer looks up."""
    usual = type(value) is str and value.isascii() and value.isdigit()  # no need to undo keyboards and Excel
    if not usual:
        _no_date(value)
    text = value if usual else validation._cell_text(value)
    if text.isascii() and text.isdigit():
        if len(text) not in (12, 15):
            raise InvalidValue(AREA_CODE_LENGTH, length=len(text))
        return text
    return _shown(value).strip()


_TAG_SEPARATORS = re.compile(r"[、,;/|\s]+")
_TAG = re.compile(TAG)


def _tags(value: Any) -> list[str]:
    _no_date(value)
    tags: list[str] = []
    for tag in _TAG_SEPARATORS.split(unicodedata.normalize("NFKC", _shown(value))):
        if tag and tag not in tags:
            if not _TAG.fullmatch(tag):
                raise InvalidValue(BAD_TAG, tag=tag)
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidValue(TOO_MANY_TAGS, count=MAX_TAGS, given=len(tags))
    return tags


def _number(low: float | None, high: float | None, whole: bool = False) -> Callable[[Any], float | int]:
    def parse(value: Any) -> float | int:
        _no_date(value)
        if isinstance(value, bool):
            raise InvalidValue(NOT_A_NUMBER)
        try:
            number = float(validation.normalize(_shown(value)))
        except ValueError:
            raise InvalidValue(NOT_A_WHOLE_NUMBER if whole else NOT_A_NUMBER) from None
        if whole:
            if not number.is_integer():
                raise InvalidValue(NOT_A_WHOLE_NUMBER)
            number = int(number)
        if low is not None and number < low:
            raise InvalidValue(AT_LEAST, ge=low)
        if high is not None and number > high:
            raise InvalidValue(AT_MOST, le=high)
        return number

    return parse


_Parsed = TypeVar("_Parsed")


def _code(parse: Callable[[Any], _Parsed]) -> Callable[[Any], _Parsed]:
    def checked(value: Any) -> _Parsed:
        if type(value) is not str:  # a CSV cell is text, never a date
            _no_date(value)
        return parse(value)

    return checked


def _parsers(table: str) -> dict[str, Callable[[Any], Any]]:
    limits = MAX_LENGTH[table]
    parsers: dict[str, Callable[[Any], Any]] = {name: _text(limit) for name, limit in limits.items()}
    parsers["area_code"] = _area_code
    if table == "person":
        parsers |= {
            "id_number": _code(validation.check_id_number),
            "gender": _gender,
            "birth_date": _birth_date,
            "phone": _code(validation.parse_phone),
            "tags": _tags,
        }
    elif table == "house":
        parsers |= {
            "use": _choice(HOUSE_USES, USE_UNKNOWN),
            "owner_id": _number(1, None, whole=True),
            "latitude": _number(3, 54),
            "longitude": _number(73, 136),
        }
    else:
        parsers |= {
            "uscc": _code(validation.parse_uscc),
            "kind": _choice(ORGANISATION_KINDS, KIND_UNKNOWN),
            "phone": _code(validation.parse_phone),
        }
    return parsers


_PARSERS = {table: _parsers(table) for table in FIELDS}
# The parsers of a text cell where one is quicker: the codes' own, without the check for a date cell.
_TEXT_PARSERS = {
    "id_number": validation.check_id_number,
    "phone": validation.parse_phone,
    "uscc": validation.parse_uscc,
}
# Fields whose cells repeat from row to row (男, 汉族, a grid's code, birthdays) and whose parsed values cannot be
# changed: a row parser keeps what their text cells parsed to, so most of those cells are a dict look-up. Only
# values that parse are kept, so an error's texts are made afresh each time.
_REPEATING = frozenset(
    ("gender", "birth_date", "ethnicity", "area_code", "use", "kind", "licence_state", "building", "unit")
)
_KEPT = 100_000  # parsed values kept per field: the birthdays of a million people are some 40,000 days


# A field's step: its name; the first cell that may give it, and the others, tried in order when it is blank; its
# parser, and that of a text cell; the values kept (see _REPEATING).
_Step = tuple[str, int, tuple[int, ...], Callable[[Any], Any], Callable[[str], Any], dict[str, Any] | None]


def _first_given(cells: Sequence[Any], indexes: tuple[int, ...]) -> int:
    """The index of the first of these cells that is not blank or only spaces; -1 if there is none."""
    for index in indexes:
        value = cells[index]
        if value is not None and (type(value) is not str or (value and not value.isspace())):
            return index
    return -1


class RowParser:
    """One table's row checks compiled for one layout of cells: which cells give each field, and how it is parsed.

    Built once per file (:meth:`Ledger.parser`), it parses a row from its
    list of cells as the file gives them, with no ``{header: value}`` dict
    built per row; :func:`parse_row` lays a dict's values out in the order of
    :attr:`headers`. ``positions`` is the cell index of each header, by
    default that order.
    """

    __slots__ = ("cells_of", "headers", "person", "required", "steps", "where")

    def __init__(self, columns: Columns, positions: Mapping[str, int] | None = None) -> None:
        self.headers = tuple(columns.fields)  # the columns used, in the file's order
        if positions is None:
            positions = {header: index for index, header in enumerate(self.headers)}
        parsers = _PARSERS[columns.table]
        by_field = columns.by_field()
        self.where = {positions[header]: header for header in self.headers}  # cell index → the header errors name
        # field → the cells that may give it, in the order they are tried
        self.cells_of = {name: tuple(positions[h] for h in headers) for name, headers in by_field.items()}
        self.steps: tuple[_Step, ...] = tuple(
            (
                name,
                indexes[0],
                indexes[1:],
                parsers[name],
                _TEXT_PARSERS.get(name, parsers[name]),
                {} if name in _REPEATING else None,
            )
            for name, indexes in self.cells_of.items()
        )
        # field, and the column its absence is reported in
        self.required = tuple(
            (name, by_field[name][0] if name in by_field else _DEFAULT_HEADER[columns.table][name])
            for name in REQUIRED_FIELDS[columns.table]
        )
        self.person = columns.table == "person"

    def __call__(self, row_number: int, cells: Sequence[Any]) -> ParsedRow:
        """Check and normalise one row given as its cells; see :func:`parse_row`."""
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        for name, index, others, parse, parse_text, kept in self.steps:
            value = cells[index]
            if type(value) is not str or not value or value.isspace():  # not the usual text cell
                if value is None or type(value) is str:  # blank: the field's other columns, if any
                    index = _first_given(cells, others) if others else -1
                    if index < 0:
                        continue
                    value = cells[index]
                if type(value) is not str:  # from Excel: a number, a date, a bool
                    try:
                        values[name] = parse(value)
                    except InvalidValue as error:
                        errors.append(_row_error(row_number, self.where[index], name, value, error))
                    continue
            if kept is not None:
                known = kept.get(value)
                if known is not None:
                    values[name] = known
                    continue
            try:
                parsed = parse_text(value)
            except InvalidValue as error:
                errors.append(_row_error(row_number, self.where[index], name, value, error))
                continue
            values[name] = parsed
            if kept is not None:
                if len(kept) >= _KEPT:
                    kept.clear()
                kept[value] = parsed
        for name, column in self.required:
            if name not in values and not self._given(cells, name):
                errors.append(_row_error(row_number, column, name, None, InvalidValue(REQUIRED)))
        if self.person:
            self._check_person(row_number, cells, values, errors)
        return ParsedRow(row_number, values, errors)

    def _given(self, cells: Sequence[Any], name: str) -> bool:
        """Whether the row has a cell for the field that is not blank: parsed, or refused."""
        return _first_given(cells, self.cells_of.get(name, ())) >= 0

    def _refuse(
        self, row_number: int, cells: Sequence[Any], values: dict[str, Any], name: str, error: InvalidValue
    ) -> RowError:
        """Take a parsed field out of the row again, for a reason found in another field."""
        del values[name]
        index = _first_given(cells, self.cells_of[name])
        return _row_error(row_number, self.where[index], name, cells[index], error)

    def _check_person(
        self, row_number: int, cells: Sequence[Any], values: dict[str, Any], errors: list[RowError]
    ) -> None:
        """Take birth date and gender from the ID number, or hold the ledger's against it; a month only needs the ID."""
        number = values.get("id_number")  # (number, birth date) from validation.check_id_number
        born = values.get("birth_date")
        if number is None:
            if isinstance(born, _Month):
                errors.append(
                    self._refuse(row_number, cells, values, "birth_date", InvalidValue(MONTH_ONLY, value=born.text))
                )
            return
        text, birth = number
        values["id_number"] = text
        if born is not None:
            if born == birth or (isinstance(born, _Month) and born.year == birth.year and birth.month in born.months):
                values["birth_date"] = birth
            else:
                shown = born.text if isinstance(born, _Month) else born.isoformat()
                error = InvalidValue(validation.ID_BIRTH_MISMATCH, expected=birth.isoformat(), given=shown)
                errors.append(self._refuse(row_number, cells, values, "birth_date", error))
        elif not self._given(cells, "birth_date"):
            values["birth_date"] = birth
        gender = validation.id_gender(text)
        said = values.get("gender")
        if said is not None:
            if said != gender:
                mismatch = validation.ID_MALE_MISMATCH if gender == "male" else validation.ID_FEMALE_MISMATCH
                errors.append(self._refuse(row_number, cells, values, "gender", InvalidValue(mismatch)))
        elif not self._given(cells, "gender"):
            values["gender"] = gender


def _row_error(row_number: int, column: str, name: str, value: Any, error: InvalidValue) -> RowError:
    zh, en = error.texts()
    return RowError(row_number, column, name, _masked(name, value), zh, en)


_ROW_PARSERS: dict[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], RowParser] = {}


def _row_parser(table: str, raw: Mapping[str, Any], mapping: Mapping[str, str] | Columns | None) -> RowParser:
    """The parser for a row's headers: the resolved ``Columns``' own, or one cached per header set and mapping."""
    if isinstance(mapping, Columns):
        if mapping.table != table:
            raise ValueError(f"columns resolved for {mapping.table}, not {table}")
        if mapping._parser is None:
            object.__setattr__(mapping, "_parser", RowParser(mapping))
        return mapping._parser  # type: ignore[return-value]
    headers = tuple(raw)
    key = (table, headers, tuple(sorted((mapping or {}).items())))
    parser = _ROW_PARSERS.get(key)
    if parser is None:
        if len(_ROW_PARSERS) >= 64:
            _ROW_PARSERS.clear()
        parser = _ROW_PARSERS[key] = RowParser(resolve_columns(table, headers, mapping))
    return parser


def parse_row(
    table: str, row_number: int, raw: Mapping[str, Any], mapping: Mapping[str, str] | Columns | None = None
) -> ParsedRow:
    """Check and normalise one ledger row for ``table``; every problem of the row is collected, not just the first.

    ``raw`` is a row as :class:`Ledger` yields it; ``mapping`` is a mapping
    file's ``{header: field}`` (see :func:`load_mapping`) or the
    :class:`Columns` already resolved, which is quicker for many rows
    (quicker still: :meth:`Ledger.parser` on the ledger's cells).
    Values come out in the form the input models take: ID numbers, credit
    codes and phones normalised (:mod:`validation`), dates as ``date``,
    gender, house use and organisation kind as their enum values, tags as a
    list. The ID number fills in birth date and gender when the ledger does
    not give them and must agree with them when it does.
    """
    parser = _row_parser(_table(table), raw, mapping)
    return parser(row_number, [raw.get(header) for header in parser.headers])


# --- The error report ----------------------------------------------------------------------------------------

REPORT_COLUMNS = ("行号", "列", "字段", "值(已脱敏)", "原因", "reason")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    """Text that Excel shows as text: a cell starting with = + - @ would run as a formula (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA) else text


def write_error_report(path: str | Path, errors: Iterable[RowError]) -> int:
    """Write the errors as CSV, UTF-8 with BOM so that Excel opens it in Chinese, one row at a time; returns the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_COLUMNS)
        for error in errors:
            writer.writerow(
                (
                    error.row,
                    _safe(error.column),
                    error.field,
                    _safe(error.value_masked),
                    _safe(error.reason_zh),
                    _safe(error.reason_en),
                )
            )
            count += 1
    return count
