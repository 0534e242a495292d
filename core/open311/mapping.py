"""Event types and events in the shapes GeoReport v2 names: services, service definitions, service requests.

Nothing here touches the database; :mod:`jiceng.core.open311.reports` finds
the rows. A service request never carries personal data: no reporter, no
phone, no e-mail; only what the specification lists about the problem itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from jiceng.core.errors import AppError, InvalidValue
from jiceng.core.events.models import DONE_STATES, Event, State
from jiceng.core.events.types import CATEGORY_LABELS
from jiceng.core.i18n import current_locale
from jiceng.plugins.manifest import EventFieldDecl, EventTypeDecl

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this implementation of the specification last changed (discovery's ``changeset``).
CHANGESET = "2026-11-27T00:00:00Z"
FORMATS = ("application/json", "text/xml")

#: Our field kinds as the specification's attribute datatypes.
DATATYPES = {"text": "string", "number": "number", "date": "datetime", "choice": "singlevaluelist"}
CLOSED = frozenset({*DONE_STATES, State.rejected})
#: Our input names as the Open311 parameters a client sent them.
PARAMETERS = {
    "type": "service_code",
    "title": "description",
    "area": "address_id",
    "address": "address_string",
    "latitude": "lat",
    "longitude": "long",
    "reporter_contact": "phone",
}


def status_of(state: State | str) -> str:
    """``open`` until the command centre closes (verifies) or rejects it; then ``closed``."""
    return "closed" if State(state) in CLOSED else "open"


def states_for(status: str) -> list[State]:
    return [s for s in State if status_of(s) == status]


def w3(moment: datetime | None, zone: tzinfo) -> str | None:
    """A timestamp as the W3C note's ISO 8601 subset, in the town's offset (the database keeps UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands UTC back without its zone
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).isoformat(timespec="seconds")


def parse_moment(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is the town's local time. Returned in UTC."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), time())
        except ValueError:
            raise InvalidValue("Must be a date and time in ISO 8601, e.g. 2026-11-27T09:30:00+08:00.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _name(zh: str, en: str) -> str:
    return en if current_locale() == "en" else zh


def service(event_type: EventTypeDecl) -> dict[str, Any]:
    """One entry of GET Service List."""
    category = CATEGORY_LABELS[event_type.category]
    return {
        "service_code": event_type.code,
        "service_name": _name(event_type.zh, event_type.en),
        "description": f"{event_type.zh} / {event_type.en}",
        "metadata": bool(event_type.fields),
        "type": "realtime",
        "keywords": ",".join(dict.fromkeys((event_type.zh, event_type.en, str(event_type.category)))),
        "group": _name(*category),
    }


def attribute(field: EventFieldDecl, order: int) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "variable": True,
        "code": field.name,
        "datatype": DATATYPES[field.kind],
        "required": field.required,
        "datatype_description": "YYYY-MM-DD" if field.kind == "date" else None,
        "order": order,
        "description": _name(field.zh, field.en),
    }
    if field.kind == "choice":
        shown["values"] = [{"key": c.value, "name": _name(c.zh, c.en)} for c in field.choices]
    return shown


def definition(event_type: EventTypeDecl) -> dict[str, Any]:
    """GET Service Definition: the type's form fields as attributes, in their declared order."""
    return {
        "service_code": event_type.code,
        "attributes": [attribute(f, i) for i, f in enumerate(event_type.fields, 1)],
    }


def attribute_value(field: EventFieldDecl, value: str) -> str:
    """A posted answer as the event type checks it: a ``datetime`` attribute keeps its date."""
    if field.kind == "date" and len(value.strip()) > 10:
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date().isoformat()
        except ValueError:
            return value
    return value


def request(
    event: Event,
    event_type: EventTypeDecl | None,
    *,
    agency: str | None,
    notes: str | None,
    zone: tzinfo,
) -> dict[str, Any]:
    """One service request of GET Service Requests: the problem and its progress, nobody's personal data."""
    return {
        "service_request_id": event.code,
        "status": status_of(event.state),
        "status_notes": notes or None,
        "service_name": _name(event_type.zh, event_type.en) if event_type else event.type_code,
        "service_code": event.type_code,
        "description": event.description or None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": w3(event.created_at, zone),
        "updated_datetime": w3(event.updated_at, zone),
        "expected_datetime": w3(event.deadline, zone),
        "address": event.address or None,
        "address_id": event.area_code,
        "zipcode": None,
        "lat": event.latitude,
        "long": event.longitude,
        "media_url": None,
    }


def discovery(url: str, contact: str, key_service: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS),
            }
        ],
    }


def parameter(name: str) -> str:
    """``attributes.size`` → ``attribute[size]``, ``latitude`` → ``lat``: errors name what the client sent."""
    if name.startswith("attributes."):
        return f"attribute[{name.removeprefix('attributes.')}]"
    return PARAMETERS.get(name, name)


def joined(zh: str, en: str) -> str:
    """One description in both languages, Chinese first: "zh / en"."""
    return zh if zh == en else f"{zh} / {en}"


def errors(error: AppError) -> tuple[int, list[dict[str, Any]]]:
    """The HTTP status and the specification's error list: one error per field, each naming its parameter.

    Our 422 (a field is not valid) is the specification's 400.
    """
    status = 400 if error.status == 422 else error.status
    if not error.fields:
        return status, [{"code": status, "description": joined(error.message, error.message_en)}]
    return status, [
        {"code": status, "description": f"{parameter(f.field)}: {joined(f.message, f.message_en)}"}
        for f in error.fields
    ]
