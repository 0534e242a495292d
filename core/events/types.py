"""Which event types a town has: those of the scenarios enabled there, plus the town's own from config."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from jiceng.core.config import Settings
from jiceng.core.errors import FieldError, InvalidValue, bad_request
from jiceng.core.i18n import both
from jiceng.plugins.manifest import EventCategory, EventFieldDecl, EventTypeDecl, Manifest

LOCAL = "local"

CATEGORY_LABELS = {
    EventCategory.city_appearance: ("市容环境", "City appearance"),
    EventCategory.advertising: ("宣传广告", "Advertising"),
    EventCategory.construction: ("施工管理", "Construction"),
    EventCategory.emergency: ("突发事件", "Emergencies"),
    EventCategory.street_order: ("街面秩序", "Street order"),
    EventCategory.extended: ("扩展事件", "Other city management"),
    EventCategory.dispute: ("矛盾纠纷", "Disputes"),
    EventCategory.hazard: ("安全隐患", "Safety hazards"),
    EventCategory.livelihood: ("民生诉求", "Residents' requests"),
    EventCategory.other: ("其他", "Other"),
}


def town_types(
    manifests: Iterable[Manifest], enabled: Iterable[str], settings: Settings, town_code: str
) -> dict[str, EventTypeDecl]:
    """The types events in ``town_code`` may have, by code, in declaration order."""
    on = set(enabled)
    found: dict[str, EventTypeDecl] = {}
    for manifest in manifests:
        if manifest.id in on:
            found.update((t.code, t) for t in manifest.event_types)
    for local in settings.events.types:
        if not local.towns or town_code in local.towns:
            found[local.code] = local
    return found


def check_attributes(event_type: EventTypeDecl, values: dict[str, object]) -> dict[str, object]:
    """The form answers an event type asks for, checked and typed; every problem is named by its field."""
    declared = {f.name: f for f in event_type.fields}
    problems = [
        FieldError(
            f"attributes.{name}", *both("The event type {type} has no field {name}.", type=event_type.code, name=name)
        )
        for name in values
        if name not in declared
    ]
    cleaned: dict[str, object] = {}
    for name, spec in declared.items():
        try:
            value = _typed(spec, values.get(name))
        except InvalidValue as exc:
            problems.append(FieldError(f"attributes.{name}", *exc.texts()))
            continue
        if value is not None:
            cleaned[name] = value
    if problems:
        raise bad_request("Some fields are not valid.", fields=problems)
    return cleaned


def _typed(spec: EventFieldDecl, value: object) -> object:
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
    if spec.kind == "choice" and text not in spec.choices:
        raise InvalidValue("Must be one of: {choices}.", choices=", ".join(spec.choices))
    if spec.kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidValue("Must be a date (YYYY-MM-DD).") from None
    return text
