"""Keep the Chinese catalogue complete: extract every msgid and list or add the missing ones.

Scenarios are not extracted: a vendor cannot add to this catalogue, so
scenarios pass both texts themselves (``ctx.t(zh, en)``, ``ScenarioError``).

``python -m jiceng.core.messages`` adds new msgids to ``messages.po`` with an
empty translation for a person to fill in; the test suite fails while any
msgid lacks one. Besides ``_`` the extractor knows the helpers that take a
msgid (errors, validators) and ``N_``, the marker for msgids kept in tables.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from jiceng.core.i18n import LOCALE_DIR

ROOT = Path(__file__).parent.parent
SOURCES = ("core", "plugins", "sdk")  # scenarios carry their own zh/en texts, as a vendor's must
KEYWORDS = {
    "_": None,
    "N_": None,
    "both": None,
    "bad_request": None,
    "invalid_field": (2,),
    "not_found": None,
    "forbidden": None,
    "unauthorized": None,
    "conflict": None,
    "InvalidValue": None,
    "AppError": (3,),
    "_error": (3,),
    "fail_message": None,
}
TEMPLATES = [("**/templates/**.html", "jinja2")]


def extract() -> Iterator[tuple[str, str]]:
    """``(msgid, "file:line")`` for every translatable string in the source tree."""
    for folder in SOURCES:
        directory = ROOT / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*.py")):
            for lineno, msgid in python_messages(path):
                yield msgid, f"{folder}/{path.relative_to(directory)}:{lineno}"
        for filename, lineno, message, _comments, _context in extract_from_dir(
            directory,
            TEMPLATES,
            keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}},
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                yield msgid, f"{folder}/{filename}:{lineno}"


def python_messages(path: Path) -> Iterator[tuple[int, str]]:
    """String literals passed as the msgid to a keyword call, at any depth.

    Read from the syntax tree rather than with Babel's Python extractor,
    which skips a msgid nested in another keyword's call
    (``bad_request(..., fields=[FieldError(n, *both("…"))])``).
    """
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in KEYWORDS:
            continue
        index = (KEYWORDS[name] or (1,))[0] - 1
        if index < len(node.args):
            arg = node.args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                yield node.lineno, arg.value


def po_path(locale: str = "zh_CN") -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def missing(locale: str = "zh_CN") -> dict[str, str]:
    """msgid → where it is used, for msgids with no translation."""
    path = po_path(locale)
    have: dict[str, str] = {}
    if path.exists():
        with path.open("rb") as fh:
            have = {str(m.id): str(m.string) for m in read_po(fh, locale=locale) if m.id}
    return {msgid: where for msgid, where in extract() if not have.get(msgid)}


def update(locale: str = "zh_CN") -> int:
    """Add the missing msgids with empty translations and drop unused ones; returns how many were added."""
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(locale=locale, project="jiceng")
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
    used = dict(extract())
    for message in list(catalog):
        if message.id and message.id not in used:
            catalog.delete(message.id)
    added = 0
    for msgid in used:
        if msgid not in catalog:
            catalog.add(msgid, "")
            added += 1
    with path.open("wb") as fh:
        write_po(fh, catalog, width=120, no_location=True, sort_output=True, ignore_obsolete=True)
    return added


if __name__ == "__main__":
    count = update()
    print(f"{count} new message(s) in {po_path()}")
    sys.exit(0)
