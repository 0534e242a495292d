"""Which event types a town has: those of the scenarios enabled there, plus the town's own from config."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from jiceng.core.config import Settings
from jiceng.core.forms import check_values
from jiceng.plugins.manifest import EventCategory, EventTypeDecl, Manifest

if TYPE_CHECKING:
    from sqlmodel import Session

    from jiceng.core.areas import Area
    from jiceng.core.plugin_host import PluginHost
    from jiceng.core.web.context import Caller

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


def of_town(host: PluginHost, settings: Settings, session: Session, town: Area) -> dict[str, EventTypeDecl]:
    """The town's types as the scenarios switched on there declare them now (switches are reread when changed)."""
    host.enablement.refresh(session)
    return _declared(host, settings, town)


def offered(
    host: PluginHost, settings: Settings, session: Session, caller: Caller, *towns: Area
) -> dict[str, EventTypeDecl]:
    """The types ``caller`` may report in ``towns``, by code: all for their staff (``events:view`` there), else the
    public ones. Several towns (a list's filter for a district) cost one look at the switches, not one per town."""
    host.enablement.refresh(session)
    found: dict[str, EventTypeDecl] = {}
    for town in towns:
        staff = caller.grants.reaches("events:view", town.path)
        for event_type in _declared(host, settings, town).values():
            if staff or event_type.public:
                found.setdefault(event_type.code, event_type)
    return found


def _declared(host: PluginHost, settings: Settings, town: Area) -> dict[str, EventTypeDecl]:
    return town_types(host.manifests(), host.enablement.for_town(town.path).enabled, settings, town.code)


def check_attributes(event_type: EventTypeDecl, values: dict[str, object]) -> dict[str, object]:
    """The answers to an event type's questions, typed; every problem is named ``attributes.{name}``."""
    return check_values(event_type.fields, values, prefix="attributes")
