"""数据回家: the caller's own records back as CSV or XLSX, masked per permission, streamed.

Rows are written as they are read (``yield_per``), so an export of a whole
town does not sit in memory; XLSX uses openpyxl's write-only mode for the
same reason. Personal fields are unmasked only in areas where the caller
holds ``pii:view``; the export itself is audited by the route.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook

from jiceng.core.permissions.checker import Grants
from jiceng.core.records import service
from jiceng.core.records.tables import PEOPLE, TableSpec

BATCH = 2000

#: Column headers as ledgers write them, so an exported file imports back unchanged.
HEADERS = {
    "id_number": "公民身份号码",
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "phone": "联系电话",
    "hukou_address": "户籍地址",
    "current_address": "现住址",
    "address": "地址",
    "building": "楼栋",
    "unit": "单元",
    "room": "房号",
    "use": "房屋用途",
    "owner_id": "产权人编号",
    "latitude": "纬度",
    "longitude": "经度",
    "uscc": "统一社会信用代码",
    "kind": "单位类型",
    "legal_representative": "法定代表人",
    "registered_address": "注册地址",
    "licence_state": "执照状态",
    "house_id": "房屋编号",
    "area_code": "所属网格",
    "tags": "标签",
}


def columns(spec: TableSpec) -> list[str]:
    return ["area_code", *spec.fields, *(["tags"] if spec is PEOPLE else [])]


def rows(session: Any, spec: TableSpec, query: Any, grants: Grants) -> Iterator[list[Any]]:
    """Each record as a row of cells, masked unless the caller holds ``pii:view`` at its area."""
    names = columns(spec)
    result = session.exec(query.order_by(spec.model.id).execution_options(yield_per=BATCH))  # type: ignore[attr-defined]
    for chunk in result.partitions(BATCH):
        tags = service.tags_of(session, [r.id for r in chunk]) if spec is PEOPLE else {}
        for record in chunk:
            shown = service.present(
                spec, record, reveal=grants.allows("pii:view", record.area_path), tags=tags.get(record.id)
            )
            yield ["、".join(shown[n]) if n == "tags" else ("" if shown[n] is None else shown[n]) for n in names]


def csv_stream(spec: TableSpec, cells: Iterator[list[Any]]) -> Iterator[bytes]:
    """UTF-8 with BOM, so Excel opens it with the right encoding."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([HEADERS[n] for n in columns(spec)])
    yield ("\ufeff" + buffer.getvalue()).encode()
    for row in cells:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue().encode()


def xlsx_bytes(spec: TableSpec, cells: Iterator[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(spec.plural)
    sheet.append([HEADERS[n] for n in columns(spec)])
    for row in cells:
        sheet.append([str(c) if isinstance(c, str) else c for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
