"""Build scenario modules in memory, so plugin tests can load exactly the plugins they need."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from jiceng.plugins.loader import Candidate
from jiceng.sdk import (
    DashboardCard,
    Kind,
    Manifest,
    PermissionDecl,
    Platform,
    ScenarioContextDep,
    ScenarioRoutes,
    hookimpl,
)

STAFF = ("town_admin", "dispatcher", "handler", "grid_worker", "leader")


def manifest_for(sid: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": sid,
        "version": "1.0.0",
        "name_zh": f"{sid}场景",
        "name_en": f"{sid} scenario",
        "platform": Platform.public_services,
        "kind": Kind.government_service,
        "requires": ">=0.3,<0.5",
        "permissions": (PermissionDecl(name=f"{sid}:use", zh="使用", en="Use", roles=STAFF),),
    }
    data.update(overrides)
    return data


def module(
    sid: str, *, manifest: Any = None, hooks: dict[str, Callable[..., Any]] | None = None, **overrides: Any
) -> ModuleType:
    mod = ModuleType(f"test_scenario_{sid}")
    mod.manifest = manifest if manifest is not None else Manifest(**manifest_for(sid, **overrides))  # type: ignore[attr-defined]
    for name, fn in (hooks or {}).items():
        setattr(mod, name, fn)
    return mod


def candidate(mod: ModuleType, name: str | None = None, source: str = "test") -> Candidate:
    return Candidate(name or mod.__name__, source, lambda: mod)


def card_hook(title: str) -> Callable[..., Any]:
    @hookimpl
    def dashboard_cards(context: Any) -> list[DashboardCard]:
        return [DashboardCard(title_zh=title, title_en=title, value="1")]

    return dashboard_cards


def page_hook(sid: str) -> Callable[..., Any]:
    pages = APIRouter()
    api = APIRouter()

    @pages.get("/", response_class=HTMLResponse)
    def index(ctx: ScenarioContextDep) -> HTMLResponse:
        return HTMLResponse(f"<p>{sid} in {ctx.town.name}</p>")

    @api.get("/whoami")
    def whoami(ctx: ScenarioContextDep) -> dict[str, Any]:
        return {
            "scenario": ctx.scenario_id,
            "town": ctx.town.code,
            "user": ctx.user.username,
            "settings": ctx.settings.model_dump() if ctx.settings else None,
        }

    @hookimpl
    def routes() -> ScenarioRoutes:
        return ScenarioRoutes(pages=pages, api=api)

    return routes
