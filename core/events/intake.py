"""Taking an event in: from a grid worker or resident in the portal, the API, Open311, another system or a scenario.

Every intake path ends in :func:`intake`, which numbers the event
(``SJ-YYYYMMDD-NNNN`` per town and local day), places it in its town, checks
its type's form answers, proposes a department, writes the first timeline
step and the audit entry. Sending the same ``external_id`` again from the
same source returns the first event instead of making a second one.
"""

from __future__ import annotations

from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import Insert, bindparam, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from jiceng.core import audit
from jiceng.core.areas import Area, AreaLevel, get_area
from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.enablement import TownState, path_codes
from jiceng.core.errors import forbidden, invalid_field
from jiceng.core.events import counts, tally, timeline
from jiceng.core.events.clock import WorkingClock
from jiceng.core.events.dispatch import suggest
from jiceng.core.events.info import EventInfo
from jiceng.core.events.models import Channel, Event, EventCounter, Priority, State
from jiceng.core.events.types import check_attributes, town_types
from jiceng.core.records.models import House, Organisation, Person
from jiceng.core.records.validation import parse_phone
from jiceng.core.web.context import Caller
from jiceng.plugins.manifest import EventTypeDecl

if TYPE_CHECKING:
    from jiceng.core.plugin_host import PluginHost
    from jiceng.core.scenario_context import TownContext

Text = Annotated[str, StringConstraints(strip_whitespace=True)]
RELATED = {"person": Person, "house": House, "organisation": Organisation}


class RelatedRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: Literal["person", "house", "organisation"]
    id: int = Field(ge=1)


class EventIn(BaseModel):
    """A report, as the portal form, the JSON API and scenarios send it."""

    model_config = ConfigDict(extra="forbid")

    type: Text = Field(min_length=1, max_length=64)
    title: Text = Field(min_length=1, max_length=120)
    description: Text = Field("", max_length=4000)
    area: Text = Field(min_length=1, max_length=15)
    address: Text = Field("", max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    priority: Priority = Priority.normal
    channel: Channel | None = None
    attributes: dict[str, object] = {}
    related: list[RelatedRef] = Field([], max_length=20)
    external_id: Text | None = Field(None, min_length=1, max_length=100)
    reporter_contact: Text = Field("", max_length=30)

    @field_validator("reporter_contact")
    @classmethod
    def _phone(cls, value: str) -> str:
        return parse_phone(value) if value else value


class Reported(NamedTuple):
    """What :func:`report` did: the event, whether it is new, and the town's hooks it was checked with."""

    event: Event
    created: bool
    town: tuple[TownContext, TownState] | None  # None when the external id was seen before


AREA_AND_TOWN = select(Area).where(or_(col(Area.code) == bindparam("code"), col(Area.code) == bindparam("town")))


def place(session: Session, code: str) -> tuple[Area, Area]:
    """The area a report names and the town it lies in (events are reported at a town or below).

    One query asks for both: a town's code is the first nine digits of its communities' and grids' codes plus
    ``000`` (the area import checks that every code starts with its parent's digits). An area whose town is
    not found so costs a second query, never a wrong answer: the town is the one on the area's path.
    """
    found = {a.code: a for a in session.exec(AREA_AND_TOWN, params={"code": code, "town": code[:9] + "000"})}  # type: ignore[call-overload]
    area = found.get(code)
    if area is None:
        raise invalid_field("area", "No area with code {code}.", code=code)
    codes = path_codes(area.path)
    if len(codes) < 3:
        raise invalid_field("area", "Choose a town, community or grid, not {area}.", area=area.code)
    return area, found.get(codes[2]) or get_area(session, codes[2])


def channel_for(caller: Caller, area: Area, data: EventIn) -> Channel:
    """Who is reporting: a grid worker (keeps the grid's records), a resident, the hotline, another system."""
    if data.channel in (Channel.hotline, Channel.system):
        caller.require("events:dispatch", area.path)
        return data.channel
    if data.channel is not None and data.channel not in (Channel.grid, Channel.portal):
        raise invalid_field("channel", "This channel is not reported through the portal or API.")
    if data.external_id is not None and caller.via == "token":
        return Channel.system
    return Channel.grid if caller.grants.allows("records:edit", area.path) else Channel.portal


def check_reporter(caller: Caller, area: Area, event_type: EventTypeDecl, data: EventIn) -> None:
    """Report permission at the area; residents (no ``events:view`` there) may use only the public types."""
    caller.require("events:report", area.path)
    staff = caller.grants.allows("events:view", area.path)
    if not staff and not event_type.public:
        raise invalid_field(
            "type", "Residents may report only the public event types; {type} is not one.", type=event_type.code
        )
    if data.related and not caller.grants.allows("records:view", area.path):
        raise forbidden("Only staff may link people, houses or organisations to an event.")


def existing(session: Session, source: str, external_id: str | None) -> Event | None:
    if external_id is None:
        return None
    return session.exec(select(Event).where(col(Event.source) == source, col(Event.external_id) == external_id)).first()


def next_code(session: Session, town_code: str, day: str) -> str:
    """The next ``SJ-{day}-NNNN`` of the town; one upsert, so two reports never get the same number."""
    upsert = NEXT_NUMBER[session.get_bind().dialect.name]
    number = session.execute(upsert, {"town_code": town_code, "day": day, "last": 1}).scalar_one()
    return f"SJ-{day}-{number:04d}"


def _next_number(dialect: ModuleType) -> Insert:
    counter = EventCounter.__table__  # type: ignore[attr-defined]
    upsert = dialect.insert(counter).on_conflict_do_update(
        index_elements=["town_code", "day"], set_={"last": counter.c.last + 1}
    )
    return upsert.returning(counter.c.last)


#: Built once per dialect (see :mod:`jiceng.core.events.timeline`).
NEXT_NUMBER = {"sqlite": _next_number(sqlite), "postgresql": _next_number(postgresql)}


def check_related(session: Session, refs: list[RelatedRef], caller: Caller) -> list[dict[str, object]]:
    found = []
    for i, ref in enumerate(refs):
        record = session.get(RELATED[ref.table], ref.id)
        if (
            record is None
            or record.deleted_at is not None
            or not caller.grants.allows("records:view", record.area_path)
        ):
            name = f"related[{i}]"
            raise invalid_field(name, "No {table} with id {id} in your areas.", table=ref.table, id=ref.id)
        found.append({"table": ref.table, "id": ref.id})
    return found


def intake(
    session: Session,
    settings: Settings,
    *,
    data: EventIn,
    area: Area,
    town: Area,
    event_type: EventTypeDecl,
    attributes: dict[str, object],
    related: list[dict[str, object]],
    channel: Channel,
    reporter: str,
    source: str,
    address: str = "",
    now: datetime | None = None,
    routing: Routing | None = None,
    suggested_department: str = "",
) -> Event:
    """Write a new event and its first timeline step; the caller has checked permission and type and commits.

    ``now`` backdates the report (demo data, and systems that send what they took in earlier). With
    ``routing``, the town's scenarios and rules propose the department (:func:`propose`) before anything is
    written; without, ``suggested_department`` is stored. Only writes follow, one after the other: on SQLite
    the first takes the database's write lock, which every other writer then waits for until the commit.
    """
    if area.level == AreaLevel.city or area.level == AreaLevel.district:
        raise invalid_field("area", "Choose a town, community or grid, not {area}.", area=area.code)
    clock = WorkingClock(settings.events.calendar)
    created_at = now or utcnow()
    values = dict(
        town_code=town.code,
        type_code=event_type.code,
        category=str(event_type.category),
        title=data.title,
        description=data.description,
        area_code=area.code,
        area_path=area.path,
        owner_path=town.path,
        address=data.address,
        latitude=data.latitude,
        longitude=data.longitude,
        attributes=attributes,
        related=related,
        channel=channel,
        priority=data.priority,
        reporter=reporter,
        reporter_contact=data.reporter_contact,
        source=source,
        external_id=data.external_id,
        state=State.reported,
        suggested_department=suggested_department,
        created_at=created_at,
    )  # fmt: skip
    if routing is not None:
        values["suggested_department"] = propose(session, settings, event_type, values, routing)
    values["code"] = next_code(session, town.code, created_at.astimezone(clock.zone).strftime("%Y%m%d"))
    event = timeline.store(session, values)
    with audit.recording(
        session,
        actor=reporter,
        action="event.report",
        target_type="event",
        target_id=str(event.id),
        address=address,
        detail={"code": event.code, "type": event.type_code, "channel": str(channel)},
    ):  # the rest reads nothing back: sent with the audit entry, one round trip on PostgreSQL
        tally.added(session.connection(), event)
        counts.move(session, town.code, leaving=None, entering=State.reported)
        timeline.append(
            session, event, action="report", from_state="", actor=reporter, at=event.created_at,
            detail={"channel": str(channel)},
        )  # fmt: skip
    return event


def report(
    session: Session,
    settings: Settings,
    host: PluginHost,
    caller: Caller,
    data: EventIn,
    *,
    address: str = "",
    request: Request | None = None,
    source: str | None = None,
    channel: Channel | None = None,
) -> Reported:
    """A report from a logged-in caller, checked end to end; not ``created`` when its external id was seen before.

    ``source`` and ``channel`` are set by the core's own intake paths (a scenario's reports);
    the caller commits, then calls :func:`jiceng.core.events.notify.changed` with the report's ``town``.
    """
    source = source or caller.username
    found = existing(session, source, data.external_id)
    if found is not None:
        return Reported(found, False, None)
    area, town = place(session, data.area)
    context, state = host.town_context(town=town, caller=caller, session=session, request=request)
    types = town_types(host.manifests(), state.enabled, settings, town.code)
    event_type = types.get(data.type)
    if event_type is None:
        raise invalid_field("type", "No event type {type} in this town.", type=data.type)
    check_reporter(caller, area, event_type, data)
    attributes = check_attributes(event_type, data.attributes)
    related = check_related(session, data.related, caller)
    event = intake(
        session,
        settings,
        data=data,
        area=area,
        town=town,
        event_type=event_type,
        attributes=attributes,
        related=related,
        channel=channel or channel_for(caller, area, data),
        reporter=caller.username,
        source=source,
        address=address,
        routing=Routing(host, context, state),
    )
    return Reported(event, True, (context, state))


class Routing(NamedTuple):
    """The town's scenarios, to ask which department should take a new event."""

    host: PluginHost
    context: TownContext
    state: TownState


def propose(
    session: Session, settings: Settings, event_type: EventTypeDecl, values: dict[str, Any], routing: Routing
) -> str:
    """The department to propose for a report about to be stored: the scenarios' ``route_event``, then the rules."""
    answer = routing.host.hooks(routing.state).route_event(event=EventInfo.draft(values), context=routing.context)
    proposal = answer if isinstance(answer, str) and answer else None
    return suggest(session, settings, proposal, values["area_path"], event_type)
