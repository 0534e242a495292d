"""Import an area tree from CSV (``code,name,level,parent_code``), all or nothing.

Every row is checked before anything is written: the code's shape for its
level, the level order under the parent, the parent's existence (in the file or
already in the database) and that the child's code extends the parent's.
Re-importing the same file renames nothing and adds nothing: it is idempotent.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from jiceng.core.areas import LEVELS, Area, AreaLevel, child_path
from jiceng.core.i18n import N_, both

COLUMNS = ("code", "name", "level", "parent_code")

# How many leading digits a child shares with its parent, by the child's level.
SHARED_PREFIX = {AreaLevel.district: 2, AreaLevel.town: 6, AreaLevel.community: 9, AreaLevel.grid: 12}
# The digits that must be zero, and the digits that must not all be zero, by level.
ZERO_TAIL = {AreaLevel.city: 4, AreaLevel.district: 6, AreaLevel.town: 9, AreaLevel.community: 12, AreaLevel.grid: 15}
OWN_DIGITS = {
    AreaLevel.city: (0, 2),
    AreaLevel.district: (4, 6),
    AreaLevel.town: (6, 9),
    AreaLevel.community: (9, 12),
    AreaLevel.grid: (12, 15),
}


@dataclass
class RowError:
    line: int
    field: str
    message: str
    message_en: str


@dataclass
class AreaRow:
    line: int
    code: str
    name: str
    level: AreaLevel
    parent_code: str | None


@dataclass
class ImportResult:
    inserted: int = 0
    renamed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def code_length(level: AreaLevel) -> int:
    return 15 if level is AreaLevel.grid else 12


def check_code(code: str, level: AreaLevel) -> str | None:
    """The msgid of what is wrong with ``code`` for ``level``, or None."""
    if not code.isascii() or not code.isdigit() or len(code) != code_length(level):
        return N_("A {level} code must be {length} digits.")
    if code[ZERO_TAIL[level] : 12].strip("0"):
        return N_("This code has non-zero digits below its level.")
    start, end = OWN_DIGITS[level]
    if not code[start:end].strip("0"):
        return N_("This code's own digits for its level are all zero.")
    return None


def read_rows(path: Path) -> tuple[list[AreaRow], list[RowError]]:
    """Parse and check the shape of every row; lines are numbered as a spreadsheet shows them."""
    rows: list[AreaRow] = []
    errors: list[RowError] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            errors.append(_error(1, ",".join(missing), "Missing columns: {columns}.", columns=", ".join(missing)))
            return rows, errors
        for line, raw in enumerate(reader, start=2):
            row = _parse_row(line, raw, errors)
            if row:
                rows.append(row)
    return rows, errors


def _parse_row(line: int, raw: dict[str, str | None], errors: list[RowError]) -> AreaRow | None:
    code = (raw.get("code") or "").strip()
    name = (raw.get("name") or "").strip()
    level_text = (raw.get("level") or "").strip()
    parent = (raw.get("parent_code") or "").strip() or None
    before = len(errors)
    if not name:
        errors.append(_error(line, "name", "The name is empty."))
    elif len(name) > 100:
        errors.append(_error(line, "name", "The name is longer than 100 characters."))
    try:
        level = AreaLevel(level_text)
    except ValueError:
        errors.append(
            _error(
                line,
                "level",
                "Unknown level {value}; use one of: {levels}.",
                value=level_text,
                levels=", ".join(LEVELS),
            )
        )
        return None
    problem = check_code(code, level)
    if problem:
        errors.append(_error(line, "code", problem, level=level.value, length=code_length(level)))
    if level is AreaLevel.city and parent:
        errors.append(_error(line, "parent_code", "A city has no parent."))
    if level is not AreaLevel.city and not parent:
        errors.append(_error(line, "parent_code", "Only a city may have no parent."))
    if len(errors) > before:
        return None
    return AreaRow(line, code, name, level, parent)


def check_tree(rows: Iterable[AreaRow], existing: dict[str, Area]) -> list[RowError]:
    """Duplicates, parents, level order and code prefixes, against the file and the database."""
    errors: list[RowError] = []
    in_file: dict[str, AreaRow] = {}
    for row in rows:
        if row.code in in_file:
            errors.append(
                _error(
                    row.line,
                    "code",
                    "Code {code} also appears on line {other}.",
                    code=row.code,
                    other=in_file[row.code].line,
                )
            )
            continue
        in_file[row.code] = row
    for row in in_file.values():
        known = existing.get(row.code)
        if known and (known.level != row.level or known.parent_code != row.parent_code):
            errors.append(
                _error(row.line, "code", "Code {code} already exists at another place in the tree.", code=row.code)
            )
        if row.parent_code is None:
            continue
        parent = in_file.get(row.parent_code) or existing.get(row.parent_code)
        if parent is None:
            errors.append(
                _error(
                    row.line,
                    "parent_code",
                    "Parent {code} is neither in the file nor in the database.",
                    code=row.parent_code,
                )
            )
            continue
        if AreaLevel(parent.level).depth != row.level.depth - 1:
            errors.append(
                _error(
                    row.line,
                    "level",
                    "A {level} cannot sit directly under a {parent_level}.",
                    level=row.level.value,
                    parent_level=AreaLevel(parent.level).value,
                )
            )
            continue
        shared = SHARED_PREFIX[row.level]
        if row.code[:shared] != parent.code[:shared]:
            errors.append(
                _error(
                    row.line,
                    "code",
                    "Code {code} does not start with its parent's digits {prefix}.",
                    code=row.code,
                    prefix=parent.code[:shared],
                )
            )
    return errors


def import_areas(session: Session, path: Path) -> ImportResult:
    """Validate the whole file, then insert new areas and rename changed ones in the caller's transaction."""
    rows, errors = read_rows(path)
    return import_rows(session, rows, errors)


def import_rows(session: Session, rows: list[AreaRow], errors: list[RowError] | None = None) -> ImportResult:
    """Check the tree and write it; nothing is written when ``errors`` (shape problems) or tree problems exist."""
    errors = list(errors or [])
    codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
    existing = {a.code: a for a in session.exec(select(Area).where(col(Area.code).in_(codes))).all()} if codes else {}
    errors += check_tree(rows, existing)
    result = ImportResult(errors=sorted(errors, key=lambda e: (e.line, e.field)))
    if errors:
        return result
    paths = {code: area.path for code, area in existing.items()}
    new: list[dict[str, object]] = []
    for row in sorted(rows, key=lambda r: r.level.depth):
        paths[row.code] = child_path(paths.get(row.parent_code) if row.parent_code else None, row.code)
        known = existing.get(row.code)
        if known is None:
            new.append(
                {
                    "code": row.code,
                    "name": row.name,
                    "level": row.level,
                    "parent_code": row.parent_code,
                    "path": paths[row.code],
                    "depth": row.level.depth,
                }
            )
        elif known.name != row.name:
            session.execute(update(Area).where(col(Area.code) == row.code).values(name=row.name))
            result.renamed += 1
        else:
            result.unchanged += 1
    if new:
        session.execute(insert(Area), new)
    result.inserted = len(new)
    return result


def _error(line: int, field_name: str, msgid: str, **params: object) -> RowError:
    zh, en = both(msgid, **params)
    return RowError(line, field_name, zh, en)
