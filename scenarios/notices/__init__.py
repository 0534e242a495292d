"""通知公告 — town and community notices for residents and staff.

A bundled scenario, written only against ``jiceng.sdk``: its own table and
migration branch, permissions with default roles, per-town settings, a page,
an API and a dashboard card.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from jiceng.scenarios.notices.models import Notice
from jiceng.scenarios.notices.routes import api, pages
from jiceng.sdk import (
    DashboardCard,
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


class NoticeSettings(BaseModel):
    """What a town can set for its notices."""

    model_config = {"extra": "forbid"}

    signature: str = Field("", max_length=40, description="appended to every notice, e.g. 解放碑街道办事处")
    max_length: int = Field(2000, ge=50, le=20000, description="longest notice body, in characters")


manifest = Manifest(
    id="notices",
    version="1.0.0",
    name_zh="通知公告",
    name_en="Notices",
    description_zh="镇街和村社向居民和工作人员发布通知公告。",
    description_en="Towns and communities publish notices to residents and staff.",
    platform=Platform.public_services,
    kind=Kind.government_service,
    requires=">=0.3,<0.5",
    access="notices:read",
    permissions=(
        PermissionDecl(
            name="notices:read",
            zh="查看通知公告",
            en="Read notices",
            roles=("town_admin", "dispatcher", "handler", "grid_worker", "leader", "resident"),
        ),
        PermissionDecl(
            name="notices:publish", zh="发布通知公告", en="Publish notices", roles=("town_admin", "dispatcher")
        ),
    ),
    settings=NoticeSettings,
    menu=(MenuEntry(zh="通知公告", en="Notices", path=""),),
    templates=HERE / "templates",
    static=HERE / "static",
    migrations=HERE / "migrations",
    tables=(Notice,),
)


@hookimpl
def routes() -> ScenarioRoutes:
    return ScenarioRoutes(pages=pages, api=api)


@hookimpl
def dashboard_cards(context: ScenarioContext) -> list[DashboardCard]:
    count = len(context.store.select(Notice, Notice.town_code == context.town.code)) if context.town else 0
    return [DashboardCard(title_zh="通知公告", title_en="Notices", value=str(count), link="/s/notices/")]
