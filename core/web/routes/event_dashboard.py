"""The command centre's dashboard (指挥中心), as a portal page and as JSON, for one town at a time.

Both read :func:`jiceng.core.events.dashboard.summary`; the caller needs ``events:view`` at the town itself (or
above), since the figures cover the whole town. A caller who holds it in several towns picks one.
"""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from jiceng.core.areas import Area, AreaLevel
from jiceng.core.errors import forbidden
from jiceng.core.events import dashboard
from jiceng.core.events.models import OPEN_STATES, State
from jiceng.core.i18n import N_, _
from jiceng.core.web.context import Caller
from jiceng.core.web.deps import CallerDep, SessionDep, SettingsDep
from jiceng.core.web.routes.event_pages import CHANNEL_LABELS, STATE_LABELS, Deadline, pick_town, state_label
from jiceng.core.web.routes.events import town_area
from jiceng.core.web.routes.record_pages import PageRoute, area_names, local_time
from jiceng.core.web.templating import render

QUEUE_LABELS = {
    "reported": N_("Waiting for acceptance"),
    "resolved": N_("Waiting for verification"),
    "extension": N_("Extension requests"),
    "overdue": N_("Overdue"),
}
#: How many events of each list to act on the page shows (a phone screen's worth; the JSON has more).
SHOWN = 5
#: Where a queue's "all of them" link leads in the event list.
QUEUE_FILTERS = {"reported": "state=reported", "resolved": "state=resolved", "overdue": "overdue=1"}


def command_towns(session: Session, caller: Caller) -> list[Area]:
    """The towns whose whole picture the caller may see: ``events:view`` held at the town or above."""
    return list(
        session.exec(
            select(Area)
            .where(col(Area.level) == AreaLevel.town, caller.grants.filter("events:view", col(Area.path)))
            .order_by(col(Area.code))
        ).all()
    )


pages = APIRouter(include_in_schema=False, route_class=PageRoute)
api = APIRouter(prefix="/api", tags=["events"])


@pages.get("/events/dashboard")
def dashboard_page(request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Response:
    towns = command_towns(session, caller)
    town = pick_town(request, towns)
    if town is None:
        raise forbidden("You do not have the permission {perm} here.", perm="events:view")
    board = dashboard.summary(session, settings, town.code)
    clock = Deadline(board.at, board.deadlines.warn_until)
    waiting = [e for q in board.queues for e in q.events]
    names = area_names(session, {e.area_code for e in waiting})
    states = board.states
    known = {
        "reported": states[str(State.reported)],
        "resolved": states[str(State.resolved)],
        "overdue": board.deadlines.overdue,
    }
    queues = [
        {
            "name": q.name,
            "label": _(QUEUE_LABELS[q.name]),
            "count": known.get(q.name, f"{len(q.events)}+" if q.more else len(q.events)),
            "all_href": f"/events?town={town.code}&{QUEUE_FILTERS[q.name]}" if q.name in QUEUE_FILTERS else "",
            "more": q.more or len(q.events) > SHOWN,
            "events": [
                {
                    "href": f"/events/{e.id}",
                    "code": e.code,
                    "title": e.title,
                    "area": names.get(e.area_code, e.area_code),
                    "state": e.state,
                    "state_label": state_label(e.state) if q.name == "overdue" else "",
                    "created": local_time(e.created_at),
                    "deadline": clock.shown(e.state, e.deadline),
                    "hours": e.pending_extension_hours,
                }
                for e in q.events[:SHOWN]
            ],
        }
        for q in board.queues
    ]
    return render(
        request,
        "events/dashboard.html",
        {
            "choices": towns if len(towns) > 1 else [],
            "chosen": town,
            "board": board,
            "open": sum(states[str(s)] for s in OPEN_STATES),
            "states": [(str(s), _(label), states[str(s)]) for s, label in STATE_LABELS.items()],
            "channels": [
                (_(label), board.today.by_channel[str(c)])
                for c, label in CHANNEL_LABELS.items()
                if board.today.by_channel.get(str(c))
            ],
            "warn_hours": settings.events.warn_hours,
            "queues": queues,
            "reported": known["reported"],
        },
    )


@api.get("/towns/{town}/dashboard")
def dashboard_json(town: str, session: SessionDep, settings: SettingsDep, caller: CallerDep) -> dict[str, Any]:
    """The town's dashboard: today's intake, counts by state, deadlines, areas, departments and the lists to act on."""
    area = town_area(session, town)
    caller.require("events:view", area.path)
    return asdict(dashboard.summary(session, settings, area.code))


router = APIRouter()
router.include_router(pages)
router.include_router(api)
