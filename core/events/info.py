"""What scenarios are told about an event: frozen copies, never the database row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jiceng.core.events.models import Event


@dataclass(frozen=True)
class EventInfo:
    """An event as the ``route_event`` and ``event_changed`` hooks receive it (no reporter contact).

    ``route_event`` is asked before the event is stored, so the proposal is stored with it: ``id`` is then
    ``None`` and ``code`` empty.
    """

    id: int | None
    code: str
    town_code: str
    type_code: str
    category: str
    title: str
    description: str
    area_code: str
    address: str
    state: str
    priority: str
    channel: str
    department: str | None
    assignee: str | None
    deadline: datetime | None
    created_at: datetime
    attributes: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, event: Event, department: str | None) -> EventInfo:
        assert event.id is not None
        return cls(
            event.id,
            event.code,
            event.town_code,
            event.type_code,
            event.category,
            event.title,
            event.description,
            event.area_code,
            event.address,
            str(event.state),
            str(event.priority),
            str(event.channel),
            department,
            event.assignee,
            event.deadline,
            event.created_at,
            dict(event.attributes),
        )

    @classmethod
    def draft(cls, values: Mapping[str, Any]) -> EventInfo:
        """A report about to be stored, from its columns: no id or code yet."""
        return cls(
            None,
            "",
            values["town_code"],
            values["type_code"],
            values["category"],
            values["title"],
            values["description"],
            values["area_code"],
            values["address"],
            str(values["state"]),
            str(values["priority"]),
            str(values["channel"]),
            None,
            None,
            None,
            values["created_at"],
            dict(values["attributes"]),
        )


@dataclass(frozen=True)
class EventChange:
    """One step of the lifecycle, as ``event_changed`` receives it."""

    transition: str
    actor: str
    note: str
    from_state: str
    to_state: str
    at: datetime
