"""jiceng.sdk — everything a scenario vendor imports, and nothing else is public.

A scenario is a module (usually a pip package with an entry point in the group
``jiceng.scenarios``) that exposes ``manifest = Manifest(...)`` and implements
hooks decorated with :data:`hookimpl`. Its routes take a
:data:`ScenarioContextDep` to reach the caller, the town, its settings and the
core's services; it never opens a database session on core tables.

See ``docs/vendors/quickstart.md`` and ``docs/vendors/hooks.md``.
"""

from jiceng.core import __version__ as core_version
from jiceng.core.areas import AreaLevel
from jiceng.core.errors import AppError, FieldError, ScenarioError, scenario_error
from jiceng.core.events.access import ScenarioEvents
from jiceng.core.events.info import EventChange, EventInfo
from jiceng.core.scenario_context import (
    AreaInfo,
    ScenarioContext,
    ScenarioStore,
    TownContext,
    UndeclaredField,
    UserInfo,
)
from jiceng.core.web.scenario_mount import ScenarioContextDep
from jiceng.plugins.manifest import (
    Choice,
    EventCategory,
    EventFieldDecl,
    EventTypeDecl,
    ExtraFieldDecl,
    FieldUse,
    FormField,
    Kind,
    Manifest,
    MenuEntry,
    PermissionDecl,
    Platform,
)
from jiceng.plugins.markers import hookimpl
from jiceng.plugins.registrations import DashboardCard, ScenarioRoutes

__all__ = [
    "AppError",
    "AreaInfo",
    "AreaLevel",
    "Choice",
    "DashboardCard",
    "EventCategory",
    "EventChange",
    "EventFieldDecl",
    "EventInfo",
    "EventTypeDecl",
    "ExtraFieldDecl",
    "FieldError",
    "FieldUse",
    "FormField",
    "Kind",
    "Manifest",
    "MenuEntry",
    "PermissionDecl",
    "Platform",
    "ScenarioContext",
    "ScenarioContextDep",
    "ScenarioError",
    "ScenarioEvents",
    "ScenarioRoutes",
    "ScenarioStore",
    "TownContext",
    "UndeclaredField",
    "UserInfo",
    "core_version",
    "hookimpl",
    "scenario_error",
]
