"""The translation layer: every user-facing string passes through here.

Source strings (msgids) are English; the Chinese catalogue lives in
``core/locale/zh_CN/LC_MESSAGES/messages.po`` and is read with Babel at first
use, so no compiled ``.mo`` file has to be built or committed. zh-CN is the
default locale; a request, a CLI run or a test may switch to English.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("jiceng_locale", default=DEFAULT_LOCALE)


@cache
def catalog(locale: str) -> dict[str, str]:
    """The msgid → translation map of one locale (English is the identity)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not path.exists():
        return {}
    with path.open("rb") as fh:
        po = read_po(fh, locale=locale)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def normalize_locale(value: str | None) -> str | None:
    """Map what people and browsers send (``zh``, ``zh-CN``, ``en_US.UTF-8``) to a locale we have."""
    if not value:
        return None
    value = value.split(".")[0].replace("-", "_").lower()
    if value.startswith("zh"):
        return "zh_CN"
    if value.startswith("en"):
        return "en"
    return None


def translate(msgid: str, locale: str | None = None, /, **params: object) -> str:
    """Translate ``msgid`` into ``locale`` (default: the current one) and fill ``{params}``."""
    text = catalog(locale or _current.get()).get(msgid, msgid)
    return text.format(**params) if params else text


def _(msgid: str, /, **params: object) -> str:
    """Translate into the current locale; the marker Babel extracts."""
    return translate(msgid, None, **params)


def N_(msgid: str, /) -> str:
    """Mark a msgid kept in a table for extraction; it is translated where it is shown."""
    return msgid


def both(msgid: str, /, **params: object) -> tuple[str, str]:
    """The Chinese and English texts of one message, for API errors that carry both."""
    return translate(msgid, "zh_CN", **params), translate(msgid, "en", **params)


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> object:
    """Switch the current locale; returns a token for :func:`reset_locale`."""
    return _current.set(locale)


def reset_locale(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def locale_from_environment() -> str:
    """The CLI's locale: ``JICENG_LANG``, else a Chinese or English ``LC_ALL``/``LANG``, else Chinese."""
    for name in ("JICENG_LANG", "LC_ALL", "LANG"):
        found = normalize_locale(os.environ.get(name))
        if found:
            return found
    return DEFAULT_LOCALE
