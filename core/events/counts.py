"""The per-town counts of events by state (``event_state_count``), moved with every report and step.

Counting a town's events by state from the ``event`` table reads one index
entry per event ever reported (a million in a busy town, hundreds of
milliseconds); these counters are moved in the same transaction as the change
they count, so the dashboard reads a handful of rows.
"""

from __future__ import annotations

from types import ModuleType

from sqlalchemy import Insert, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from jiceng.core.events.models import Event, EventStateCount

TABLE = EventStateCount.__table__  # type: ignore[attr-defined]


def _upsert(dialect: ModuleType) -> Insert:
    adding = dialect.insert(TABLE)
    return adding.on_conflict_do_update(
        index_elements=["town_code", "state"], set_={"count": TABLE.c.count + adding.excluded.count}
    )


#: Built once per dialect: the statement is the same for every move, only its parameters change.
UPSERTS = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


def move(session: Session, town_code: str, *, leaving: str | None, entering: str) -> None:
    """One event of the town left state ``leaving`` (``None`` for a new one) and entered ``entering``."""
    if leaving == entering:
        return
    upsert = UPSERTS[session.get_bind().dialect.name]
    changes = [(entering, 1)] + ([(leaving, -1)] if leaving else [])
    for state, delta in changes:
        session.execute(upsert, {"town_code": town_code, "state": state, "count": delta})


def of_town(session: Session, town_code: str) -> dict[str, int]:
    rows = session.execute(select(TABLE.c.state, TABLE.c.count).where(TABLE.c.town_code == town_code)).all()
    return {state: count for state, count in rows}


def rebuild(session: Session) -> None:
    """Recount every town from the events themselves (after a bulk load that bypassed intake)."""
    session.execute(delete(TABLE))
    counted = select(col(Event.town_code), col(Event.state), func.count()).group_by(
        col(Event.town_code), col(Event.state)
    )
    session.execute(insert(TABLE).from_select(["town_code", "state", "count"], counted))
