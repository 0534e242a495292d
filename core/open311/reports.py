"""Open311 service requests in and out of the event loop.

A posted request becomes an event through the core's intake, exactly as a
report from the portal does (numbered, placed, its form answers checked, a
department proposed, the first timeline step and the audit entry written),
with channel ``open311`` and the client's name as reporter and source. Only
the phone number is kept (as the reporter's contact, masked like any phone);
e-mail and names are not stored.

Reads need no key, so they show only events of the town's public types, and
only what :func:`jiceng.core.open311.mapping.request` lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.errors import (
    AppError,
    FieldError,
    InvalidValue,
    bad_request,
    describe_pydantic,
    forbidden,
    invalid_field,
)
from jiceng.core.events.intake import EventIn, Routing, intake
from jiceng.core.events.models import Channel, Department, Event, EventAction, Open311Client
from jiceng.core.events.types import check_attributes, town_types
from jiceng.core.open311 import mapping
from jiceng.core.open311.keys import may_post_in
from jiceng.core.plugin_host import PluginHost
from jiceng.plugins.manifest import EventTypeDecl

MAX_REQUESTS = 1000
DEFAULT_SPAN = timedelta(days=90)
TITLE_LENGTH = 60


def zone(settings: Settings) -> timezone:
    return timezone(timedelta(hours=settings.events.calendar.utc_offset_hours))


def town_for(session: Session, jurisdiction_id: str | None) -> Area:
    """The town a ``jurisdiction_id`` (its 12-digit code) names; it may be left out when there is only one."""
    if jurisdiction_id:
        town = session.get(Area, jurisdiction_id.strip())
        if town is None or town.level != AreaLevel.town:
            raise invalid_field("jurisdiction_id", "No town with the code {code}.", code=jurisdiction_id.strip())
        return town
    towns = session.exec(select(Area).where(col(Area.level) == AreaLevel.town).limit(2)).all()
    if len(towns) == 1:
        return towns[0]
    raise invalid_field("jurisdiction_id", "This field is required: give the town's 12-digit code.")


def public_types(session: Session, host: PluginHost, settings: Settings, town: Area) -> dict[str, EventTypeDecl]:
    """The town's event types open to the public (``public = true``), in declaration order."""
    host.enablement.refresh(session)
    state = host.enablement.for_town(town.path)
    return {code: t for code, t in town_types(host.manifests(), state.enabled, settings, town.code).items() if t.public}


def service_type(types: Mapping[str, EventTypeDecl], code: str) -> EventTypeDecl:
    found = types.get(code)
    if found is None:
        raise AppError(404, "not_found", "No service {code} in this town.", {"code": code})
    return found


@dataclass
class Posted:
    """A POST Service Request's form: the plain parameters and the ``attribute[name]`` answers."""

    values: dict[str, str]
    attributes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Sequence[tuple[str, object]]) -> Posted:
        posted = cls({})
        for key, value in items:
            if not isinstance(value, str):
                continue  # uploaded files are not part of the specification
            if key.startswith("attribute[") and key.endswith("]"):
                posted.attributes[key[len("attribute[") : -1]] = value
            else:
                posted.values[key] = value
        return posted

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


def location_area(session: Session, town: Area, address_id: str) -> Area:
    """The event's area: the community or grid named by ``address_id``, else the town itself."""
    if not address_id:
        return town
    area = session.get(Area, address_id)
    if area is None or not area.path.startswith(town.path):
        raise invalid_field("address_id", "No community or grid {code} in this town.", code=address_id)
    return area


def title_of(event_type: EventTypeDecl, description: str) -> str:
    first = description.strip().splitlines()[0].strip() if description.strip() else ""
    if not first:
        return event_type.zh
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def check_location(posted: Posted) -> None:
    lat, long = posted.get("lat"), posted.get("long")
    if bool(lat) != bool(long):
        raise invalid_field("long" if lat else "lat", "Give lat and long together.")
    if not lat and not posted.get("address_string") and not posted.get("address_id"):
        raise invalid_field("lat", "Give the location: lat and long, address_string or address_id.")


def check_media_url(url: str) -> str:
    if url and (not url.startswith(("http://", "https://")) or len(url) > 500):
        raise invalid_field("media_url", "Must be an http or https address of at most 500 characters.")
    return url


def post_request(
    session: Session,
    settings: Settings,
    host: PluginHost,
    client: Open311Client,
    posted: Posted,
    *,
    address: str = "",
) -> Event:
    """Take the service request in as an event; the caller commits, then tells the scenarios."""
    town = town_for(session, posted.get("jurisdiction_id"))
    if not may_post_in(client, town):
        raise forbidden("This API key may not post requests in {jurisdiction}.", jurisdiction=town.code)
    code = posted.get("service_code")
    if not code:
        raise invalid_field("service_code", "This field is required.")
    event_type = public_types(session, host, settings, town).get(code)
    if event_type is None:
        raise invalid_field("service_code", "No service {code} in this town.", code=code)
    check_location(posted)
    area = location_area(session, town, posted.get("address_id"))
    description = posted.get("description")
    media_url = check_media_url(posted.get("media_url"))
    if media_url:
        description = f"{description}\n\nmedia_url: {media_url}".strip()
    try:
        data = EventIn(
            type=code,
            title=title_of(event_type, posted.get("description")),
            description=description,
            area=area.code,
            address=posted.get("address_string"),
            latitude=posted.get("lat") or None,  # type: ignore[arg-type]
            longitude=posted.get("long") or None,  # type: ignore[arg-type]
            reporter_contact=posted.get("phone"),
        )
    except ValidationError as exc:
        raise bad_request("Some fields are not valid.", fields=describe_pydantic(exc.errors())) from None
    declared = {f.name: f for f in event_type.fields}
    answers = {
        name: mapping.attribute_value(declared[name], value) if name in declared else value
        for name, value in posted.attributes.items()
    }
    context, state = host.town_context(town=town, caller=None, session=session)
    event = intake(
        session,
        settings,
        data=data,
        area=area,
        town=town,
        event_type=event_type,
        attributes=check_attributes(event_type, answers),
        related=[],
        channel=Channel.open311,
        reporter=client.name,
        source=client.name,
        address=address,
        routing=Routing(host, context, state),
    )
    return event


def parse_moment(name: str, text: str, settings: Settings) -> datetime | None:
    if not text:
        return None
    try:
        return mapping.parse_moment(text, zone(settings))
    except InvalidValue as exc:
        raise AppError(422, "invalid", "Some fields are not valid.", fields=[FieldError(name, *exc.texts())]) from None


def split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def find_requests(
    session: Session,
    host: PluginHost,
    settings: Settings,
    town: Area,
    *,
    ids: list[str] | None = None,
    service_codes: list[str] | None = None,
    start: str = "",
    end: str = "",
    statuses: list[str] | None = None,
) -> list[dict[str, Any]]:
    """GET Service Requests: newest first, at most 1,000; by default the last 90 days.

    Given ``ids``, the other filters are ignored, as the specification says.
    """
    types = public_types(session, host, settings, town)
    conditions: list[ColumnElement[bool]] = [
        col(Event.town_code) == town.code,
        col(Event.type_code).in_(list(types)),
    ]
    if ids:
        conditions.append(col(Event.code).in_([i.upper() for i in ids[:MAX_REQUESTS]]))
    else:
        for status in statuses or []:
            if status not in ("open", "closed"):
                raise invalid_field("status", "Must be one of: {expected}.", expected="open, closed")
        since, until = parse_moment("start_date", start, settings), parse_moment("end_date", end, settings)
        if since is not None and until is not None and until < since:
            raise invalid_field("end_date", "Must be on or after the start date ({since}).", since=start)
        if since is None:
            since = (until or utcnow()) - DEFAULT_SPAN
        conditions.append(col(Event.created_at) >= since)
        if until is not None:
            conditions.append(col(Event.created_at) <= until)
        if service_codes:
            conditions.append(col(Event.type_code).in_(service_codes))
        if statuses and len(set(statuses)) == 1:
            conditions.append(col(Event.state).in_(mapping.states_for(statuses[0])))
    rows = session.exec(
        select(Event)
        .where(*conditions)
        .order_by(col(Event.created_at).desc(), col(Event.id).desc())
        .limit(MAX_REQUESTS)
    ).all()
    agencies = department_names(session, {r.department_id for r in rows if r.department_id})
    notes = last_notes(session, [r.id for r in rows if r.id is not None])
    local = zone(settings)
    return [
        mapping.request(
            r,
            types.get(r.type_code),
            agency=agencies.get(r.department_id) if r.department_id else None,
            notes=notes.get(r.id),  # type: ignore[arg-type]
            zone=local,
        )
        for r in rows
    ]


def department_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Department.id, Department.name).where(col(Department.id).in_(ids))).all()
    return {i: name for i, name in rows if i is not None}


def last_notes(session: Session, event_ids: list[int]) -> dict[int, str]:
    """Each event's newest timeline note (two queries for the whole page)."""
    if not event_ids:
        return {}
    newest = (
        select(func.max(EventAction.id))
        .where(col(EventAction.event_id).in_(event_ids), col(EventAction.note) != "")
        .group_by(col(EventAction.event_id))
    )
    rows = session.exec(select(EventAction.event_id, EventAction.note).where(col(EventAction.id).in_(newest))).all()
    return dict(rows)
