"""Events as a scenario reaches them: only the scenario's own event types, only the caller's areas.

A scenario reports events of the types its manifest declares and reads
those events back; another scenario's events (a dispute seen by a party
affairs scenario, say) are not its business and answer 404, as events
outside the caller's areas do. Reporting commits at once, so the town's
scenarios hear of the new event only once it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlmodel import col, select

from jiceng.core.areas import within
from jiceng.core.config import Settings
from jiceng.core.errors import bad_request, describe_pydantic, invalid_field, not_found, unauthorized
from jiceng.core.events import intake, notify, queries
from jiceng.core.events.info import EventInfo
from jiceng.core.events.models import Channel, Event, State
from jiceng.core.web.context import Caller

if TYPE_CHECKING:
    from jiceng.core.plugin_host import PluginHost
    from jiceng.core.scenario_context import ScenarioContext


class ScenarioEvents:
    """The event loop, seen by one scenario for one caller in one town."""

    def __init__(self, ctx: ScenarioContext, settings: Settings, host: PluginHost) -> None:
        self.ctx = ctx
        self.settings = settings
        self.host = host

    @property
    def prefix(self) -> str:
        return f"{self.ctx.scenario_id}."

    def report(self, *, type: str, title: str, area: str, **values: Any) -> EventInfo:
        """Report an event of one of the scenario's own types, as the caller; committed at once.

        ``values`` are those of the JSON API (``description``, ``address``,
        ``attributes``, ``priority``, ``external_id`` …).
        """
        caller = self._caller()
        if not type.startswith(self.prefix):
            raise not_found("No event type {type} in this town.", type=type)
        try:
            data = intake.EventIn(type=type, title=title, area=area, **values)
        except ValidationError as exc:
            raise bad_request("Some fields are not valid.", fields=describe_pydantic(exc.errors())) from exc
        session = self.ctx._session
        event, created, town = intake.report(
            session,
            self.settings,
            self.host,
            caller,
            data,
            source=f"scenario:{self.ctx.scenario_id}",
            channel=Channel.scenario,
        )
        session.commit()
        if created:
            notify.changed(self.host, session, caller, event, notify.reported(event), town)
        return notify.info(session, event)

    def get(self, event_id: int) -> EventInfo:
        """One of the scenario's events the caller may see; 404 otherwise."""
        event = queries.get_event(self.ctx._session, self._caller(), event_id)
        if not event.type_code.startswith(self.prefix):
            raise not_found("No event {id}.", id=event_id)
        return notify.info(self.ctx._session, event)

    def list(self, *, states: list[str] | None = None, limit: int = 50) -> list[EventInfo]:
        """The scenario's events in the current town the caller may see, newest first (at most 200)."""
        query = select(Event).where(
            queries.scope(self._caller()),
            col(Event.type_code).startswith(self.prefix, autoescape=True),
        )
        if self.ctx.town is not None:
            query = query.where(within(col(Event.area_path), [self.ctx.town.path]))
        if states:
            unknown = [s for s in states if s not in State.__members__]
            if unknown:
                raise invalid_field("states", "Must be one of: {choices}.", choices=", ".join(State))
            query = query.where(col(Event.state).in_(states))
        rows = self.ctx._session.exec(query.order_by(col(Event.created_at).desc()).limit(min(limit, 200))).all()
        return [notify.info(self.ctx._session, e) for e in rows]

    def _caller(self) -> Caller:
        if self.ctx._caller is None:
            raise unauthorized()
        return self.ctx._caller
