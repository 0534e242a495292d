"""Writing an event and its timeline below the ORM: every report and step pays for these inserts.

A plain ``INSERT … RETURNING id``, built once, costs a fraction of an ORM flush
of the same row (no unit of work, no identity-map bookkeeping). The event object
is then made the way the ORM makes one it loads from the database (its columns
put straight into the instance, no ``__init__``, whose per-attribute events cost
as much as the insert) and attached to the session as persistent, so later
changes to it are flushed as ordinary ``UPDATE`` statements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from jiceng.core.events.models import Event, EventAction

EVENT = Event.__table__  # type: ignore[attr-defined]
ACTION = EventAction.__table__  # type: ignore[attr-defined]
_FIELDS = {c.key: Event.model_fields[c.key] for c in EVENT.columns if c.key != "id"}
#: The model's defaults, so the stored row and the object agree on every column.
STATIC_DEFAULTS = {k: f.default for k, f in _FIELDS.items() if f.default_factory is None and not f.is_required()}
FACTORIES = {k: f.default_factory for k, f in _FIELDS.items() if f.default_factory is not None}
#: Built once: a statement built per call pays for its construction and its cache key every time.
INSERT_EVENT = insert(EVENT).returning(EVENT.c.id)
INSERT_ACTION = insert(ACTION).inline()  # no id read back: it may be sent in a pipeline


def store(session: Session, given: dict[str, Any]) -> Event:
    """Insert a new event from ``given`` columns (the model's defaults for the rest); return it, in the session.

    The ORM's insert hook does not see this insert: the caller adds the event to the tally
    (:func:`jiceng.core.events.tally.added`).
    """
    values = {**STATIC_DEFAULTS, **{key: FACTORIES[key]() for key in FACTORIES.keys() - given.keys()}, **given}
    values["id"] = session.execute(INSERT_EVENT, values).scalar_one()
    event: Event = Event._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    event.__dict__.update(values)
    make_transient_to_detached(event)
    session.add(event)
    return event


def append(
    session: Session,
    event: Event,
    *,
    action: str,
    from_state: str,
    actor: str,
    at: datetime,
    note: str = "",
    detail: dict[str, object] | None = None,
) -> None:
    """One step on the event's timeline, to the state the event is in now."""
    values = {
        "event_id": event.id,
        "action": action,
        "from_state": from_state,
        "to_state": event.state,
        "actor": actor,
        "note": note,
        "detail": detail or {},
        "at": at,
    }
    session.execute(INSERT_ACTION, values)
