"""One error shape for the whole platform, in Chinese and English.

Services raise :class:`AppError` (or a subclass); the web app turns it into
``{"error": {"code", "message", "message_en", "fields"}}`` with the right
status, and the CLI prints both texts. Pydantic's validation errors are
rewritten here too, so config checks and API 422s name the field the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jiceng.core.i18n import N_, both


@dataclass
class FieldError:
    """One problem with one input field: where it is and what is wrong, in both languages."""

    field: str
    message: str
    message_en: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "message_en": self.message_en}


@dataclass
class AppError(Exception):
    """An error a user or client can act on; never a bug."""

    status: int
    code: str
    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)
    fields: Sequence[FieldError] = ()

    def __post_init__(self) -> None:
        super().__init__(self.msgid)

    @property
    def message(self) -> str:
        return both(self.msgid, **self.params)[0]

    @property
    def message_en(self) -> str:
        return both(self.msgid, **self.params)[1]

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "message_en": self.message_en,
                "fields": [f.as_dict() for f in self.fields],
            }
        }


@dataclass
class ScenarioError(AppError):
    """An error whose texts a scenario supplies in both languages (vendors have no msgid catalogue)."""

    zh: str = ""
    en: str = ""

    @property
    def message(self) -> str:
        return self.zh

    @property
    def message_en(self) -> str:
        return self.en


def scenario_error(status: int, code: str, zh: str, en: str, fields: Sequence[FieldError] = ()) -> ScenarioError:
    return ScenarioError(status, code, en, {}, fields, zh=zh, en=en)


def bad_request(
    msgid: str, *, error_code: str = "invalid", fields: Sequence[FieldError] = (), **params: object
) -> AppError:
    """422 with ``msgid`` filled from ``params`` (``error_code`` is the machine-readable code, not a placeholder)."""
    return AppError(422, error_code, msgid, params, fields)


def invalid_field(name: str, msgid: str, **params: object) -> AppError:
    """422 about one input field: the message names it, in both languages."""
    return AppError(422, "invalid", msgid, params, [FieldError(name, *both(msgid, **params))])


def not_found(msgid: str, **params: object) -> AppError:
    return AppError(404, "not_found", msgid, params)


def forbidden(msgid: str = "You do not have permission to do this.", **params: object) -> AppError:
    return AppError(403, "forbidden", msgid, params)


def unauthorized(msgid: str = "Please log in first.", **params: object) -> AppError:
    return AppError(401, "unauthorized", msgid, params)


def conflict(msgid: str, **params: object) -> AppError:
    return AppError(409, "conflict", msgid, params)


class InvalidValue(ValueError):
    """Raised by validators: pydantic keeps it, and :func:`describe_pydantic` translates it."""

    def __init__(self, msgid: str, /, **params: object) -> None:
        super().__init__(both(msgid, **params)[1])
        self.msgid = msgid
        self.params = params

    def texts(self) -> tuple[str, str]:
        return both(self.msgid, **self.params)


# Pydantic error types → message ids; anything else falls back to pydantic's own English text.
_PYDANTIC_MESSAGES = {
    "missing": N_("This field is required."),
    "extra_forbidden": N_("Unknown field; check the spelling."),
    "string_type": N_("Must be text."),
    "string_too_short": N_("Too short: at least {min_length} characters."),
    "string_too_long": N_("Too long: at most {max_length} characters."),
    "string_pattern_mismatch": N_("Has the wrong format."),
    "int_type": N_("Must be a whole number."),
    "int_parsing": N_("Must be a whole number."),
    "float_parsing": N_("Must be a number."),
    "bool_parsing": N_("Must be true or false."),
    "bool_type": N_("Must be true or false."),
    "greater_than_equal": N_("Must be at least {ge}."),
    "less_than_equal": N_("Must be at most {le}."),
    "greater_than": N_("Must be greater than {gt}."),
    "less_than": N_("Must be less than {lt}."),
    "literal_error": N_("Must be one of: {expected}."),
    "enum": N_("Must be one of: {expected}."),
    "dict_type": N_("Must be a table of keys and values."),
    "list_type": N_("Must be a list."),
    "json_invalid": N_("The request body is not valid JSON."),
    "model_attributes_type": N_("Must be a table of keys and values."),
}


def _fits(msgid: str, params: Mapping[str, object]) -> bool:
    """True when every ``{placeholder}`` in ``msgid`` has a value."""
    try:
        msgid.format(**params)
    except (KeyError, IndexError):
        return False
    return True


def field_path(loc: Iterable[object]) -> str:
    """``("body", "server", "port")`` → ``server.port``; list indexes as ``[0]``."""
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header", "cookie") and not parts:
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(root)"


def describe_pydantic(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    """Turn pydantic's error dicts into bilingual :class:`FieldError` s naming each field."""
    described = []
    for err in errors:
        msgid = _PYDANTIC_MESSAGES.get(err.get("type", ""))
        ctx = {k: v for k, v in (err.get("ctx") or {}).items() if isinstance(v, str | int | float)}
        if msgid and _fits(msgid, ctx):
            zh, en = both(msgid, **ctx)
        elif isinstance((err.get("ctx") or {}).get("error"), InvalidValue):
            zh, en = err["ctx"]["error"].texts()
        else:
            en = str(err.get("msg", "Invalid value."))
            zh = both("Invalid value: {detail}", detail=en)[0]
        described.append(FieldError(field_path(err.get("loc", ())), zh, en))
    return described
