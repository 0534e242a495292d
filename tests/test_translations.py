"""Every user-facing string has its Chinese translation (zh-CN is the default)."""

from __future__ import annotations

from jiceng.core import messages


def test_every_message_is_translated():
    missing = messages.missing("zh_CN")
    assert missing == {}, "run `make messages` and translate:\n" + "\n".join(f"{m!r} ({w})" for m, w in missing.items())


def test_placeholders_survive_translation():
    from jiceng.core.i18n import catalog

    for msgid, text in catalog("zh_CN").items():
        assert sorted(_fields(msgid)) == sorted(_fields(text)), msgid


def _fields(text: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(text) if f]
