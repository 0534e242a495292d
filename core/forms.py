"""Checking the values of scenario-declared form fields (event questions, base-table extensions).

One place turns a declared :class:`FormField` and what a user typed into a
typed value, so an event type's question and a record's extension field
accept and refuse the same things, with the same bilingual messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from jiceng.core.errors import FieldError, InvalidValue, bad_request
from jiceng.core.i18n import both
from jiceng.plugins.manifest import FormField


def check_values(
    declared: Iterable[FormField], values: Mapping[str, object], *, prefix: str, partial: bool = False
) -> dict[str, object]:
    """``values`` typed per declaration; 422 naming each bad field ``{prefix}.{name}``.

    With ``partial`` (an update of some fields), required fields that are not
    given are not missing; a given blank still clears the value (``None``).
    """
    fields = {f.name: f for f in declared}
    problems = [
        FieldError(f"{prefix}.{name}", *both("Unknown field; check the spelling."))
        for name in values
        if name not in fields
    ]
    cleaned: dict[str, object] = {}
    for name, spec in fields.items():
        if partial and name not in values:
            continue
        try:
            cleaned[name] = typed(spec, values.get(name))
        except InvalidValue as exc:
            problems.append(FieldError(f"{prefix}.{name}", *exc.texts()))
    if problems:
        raise bad_request("Some fields are not valid.", fields=problems)
    return cleaned if partial else {k: v for k, v in cleaned.items() if v is not None}


def typed(spec: FormField, value: object) -> object:
    """One value: ``None`` when blank (refused if required), a float, an ISO date, or text."""
    if value is None or value == "":
        if spec.required:
            raise InvalidValue("This field is required.")
        return None
    text = str(value).strip()
    if spec.kind == "number":
        try:
            return float(text)
        except ValueError:
            raise InvalidValue("Must be a number.") from None
    if spec.kind == "choice" and text not in spec.values:
        raise InvalidValue("Must be one of: {choices}.", choices=", ".join(spec.values))
    if spec.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidValue("Must be a date (YYYY-MM-DD).") from None
    return text
