"""What scenarios are told about an event: frozen copies, never the database row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from jiceng.core.events.models import Event


@dataclass(frozen=True)
class EventInfo:
    """An event as the ``route_event`` and ``event_changed`` hooks receive it (no reporter contact)."""

    id: int
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


@dataclass(frozen=True)
class EventChange:
    """One step of the lifecycle, as ``event_changed`` receives it."""

    transition: str
    actor: str
    note: str
    from_state: str
    to_state: str
    at: datetime
