"""平安法治 · 矛盾纠纷与安全隐患 — disputes and safety hazards, fed into the town's event loop.

A bundled scenario written only against ``jiceng.sdk``: it declares two event
types (a dispute for the judicial office, a hazard residents may report too),
proposes the department for fire hazards through ``route_event``, keeps its
own page of the town's open cases, and shows a dashboard card.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from jiceng.scenarios.safety.routes import api, pages
from jiceng.sdk import (
    Choice,
    DashboardCard,
    EventCategory,
    EventFieldDecl,
    EventInfo,
    EventTypeDecl,
    ExtraFieldDecl,
    FieldUse,
    Kind,
    Manifest,
    MenuEntry,
    PermissionDecl,
    Platform,
    ScenarioContext,
    ScenarioRoutes,
    hookimpl,
)

HERE = Path(__file__).parent
OPEN = ["reported", "accepted", "dispatched", "handling", "resolved"]


class SafetySettings(BaseModel):
    """What a town can set: where fire hazards go when the town has a fire-safety department."""

    model_config = {"extra": "forbid"}

    fire_department: str = Field("", max_length=32, description="department code for fire hazards, e.g. fire")


manifest = Manifest(
    id="safety",
    version="1.0.0",
    name_zh="矛盾纠纷与安全隐患",
    name_en="Disputes and hazards",
    description_zh="网格员和群众上报矛盾纠纷与安全隐患，进入指挥中心的事件流程。",
    description_en="Grid workers and residents report disputes and safety hazards into the command centre's event loop.",
    platform=Platform.safety_rule_of_law,
    kind=Kind.public_safety,
    requires=">=0.3,<0.5",
    access="safety:use",
    permissions=(
        PermissionDecl(
            name="safety:use",
            zh="查看矛盾纠纷与安全隐患",
            en="See disputes and hazards",
            roles=("town_admin", "dispatcher", "handler", "grid_worker", "leader"),
        ),
    ),
    settings=SafetySettings,
    event_types=(
        EventTypeDecl(
            code="safety.dispute",
            zh="矛盾纠纷",
            en="Dispute",
            category=EventCategory.dispute,
            deadline_days=5,
            department="judicial",
            fields=(
                EventFieldDecl(
                    name="dispute_kind",
                    zh="纠纷类型",
                    en="Kind of dispute",
                    kind="choice",
                    required=True,
                    choices=(
                        Choice(value="neighbour", zh="邻里纠纷", en="Between neighbours"),
                        Choice(value="family", zh="婚姻家庭", en="Family"),
                        Choice(value="property", zh="物业纠纷", en="Property management"),
                        Choice(value="labour", zh="劳资纠纷", en="Labour"),
                        Choice(value="other", zh="其他", en="Other"),
                    ),
                ),
                EventFieldDecl(name="parties", zh="当事人数", en="Number of parties", kind="number"),
            ),
        ),
        EventTypeDecl(
            code="safety.hazard",
            zh="安全隐患",
            en="Safety hazard",
            category=EventCategory.hazard,
            deadline_hours=24,
            department="safety",
            public=True,
            fields=(
                EventFieldDecl(
                    name="hazard",
                    zh="隐患类型",
                    en="Kind of hazard",
                    kind="choice",
                    required=True,
                    choices=(
                        Choice(value="fire", zh="消防", en="Fire"),
                        Choice(value="gas", zh="燃气", en="Gas"),
                        Choice(value="electric", zh="用电", en="Electrical"),
                        Choice(value="building", zh="房屋建筑", en="Building"),
                        Choice(value="other", zh="其他", en="Other"),
                    ),
                ),
            ),
        ),
    ),
    menu=(MenuEntry(zh="矛盾纠纷与安全隐患", en="Disputes and hazards", path=""),),
    fields=(
        FieldUse(
            table="house",
            field="address",
            purpose_zh="列出有安全隐患的房屋以便复查",
            purpose_en="List the houses with hazards so they can be inspected again",
        ),
    ),
    extra_fields=(
        ExtraFieldDecl(
            table="house",
            name="hazard_level",
            zh="隐患等级",
            en="Hazard level",
            kind="choice",
            choices=(
                Choice(value="none", zh="无", en="None"),
                Choice(value="low", zh="一般", en="Low"),
                Choice(value="high", zh="重大", en="High"),
            ),
        ),
        ExtraFieldDecl(table="house", name="inspected_on", zh="检查日期", en="Inspected on", kind="date"),
    ),
    templates=HERE / "templates",
)


@hookimpl
def routes() -> ScenarioRoutes:
    return ScenarioRoutes(pages=pages, api=api)


@hookimpl
def route_event(event: EventInfo, context: ScenarioContext) -> str | None:
    """Fire hazards go to the town's fire-safety department when it has set one; the rest to the rules."""
    fire = context.settings.fire_department if context.settings else ""  # type: ignore[attr-defined]
    if event.type_code == "safety.hazard" and event.attributes.get("hazard") == "fire" and fire:
        return fire
    return None


@hookimpl
def dashboard_cards(context: ScenarioContext) -> list[DashboardCard]:
    if not context.can("safety:use"):
        return []
    hazards = [e for e in context.events.list(states=OPEN, limit=200) if e.type_code == "safety.hazard"]
    return [DashboardCard(title_zh="未结安全隐患", title_en="Open hazards", value=str(len(hazards)), link="/s/safety/")]
