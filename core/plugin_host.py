"""The host side of the plugin contract: load scenarios, check their config, mount them, call them per town.

The core's own contributions to hooks live in :mod:`jiceng.core.defaults`,
registered like a scenario but enabled everywhere (Datasette's default plugins).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from jiceng.core import __version__, audit
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.config import Settings
from jiceng.core.enablement import Enablement, TownState, record_change
from jiceng.core.errors import AppError, FieldError, bad_request, describe_pydantic, not_found
from jiceng.core.i18n import N_, both
from jiceng.core.permissions.service import desired_permissions
from jiceng.core.scenario_context import AreaInfo, ScenarioContext, TownContext
from jiceng.core.web.context import Caller
from jiceng.plugins.loader import Candidate, Scenario, bundled, installed, vet
from jiceng.plugins.manager import ScenarioManager
from jiceng.plugins.manifest import Manifest, PermissionDecl

log = logging.getLogger("jiceng.host")

BUNDLED = ("jiceng.scenarios.notices", "jiceng.scenarios.safety")
DEFAULTS = "jiceng.core.defaults"

REFUSAL_MESSAGES = {
    "import_failed": N_("Scenario {name} could not be imported: {detail}"),
    "no_manifest": N_("Scenario {name} has no manifest."),
    "invalid_manifest": N_("Scenario {name} has an invalid manifest: {detail}"),
    "duplicate": N_("Scenario {name} is installed twice ({source} and {other}); the second was refused."),
    "incompatible": N_("Scenario {name} needs jiceng {requires}, but this is jiceng {version}."),
    "async_hook": N_("Scenario {name} was refused: {detail}"),
    "unknown_hook": N_("Scenario {name} was refused: {detail}"),
    "bad_hook": N_("Scenario {name} was refused: {detail}"),
    "blocked": N_("Scenario {name} is blocked by JICENG_BLOCK_SCENARIOS."),
}


@dataclass
class PluginHost:
    manager: ScenarioManager
    enablement: Enablement
    platform: Settings

    @classmethod
    def load(cls, settings: Settings, *, candidates: Iterable[Candidate] | None = None) -> PluginHost:
        """Vet and register every scenario (bundled and installed, unless ``candidates`` is given)."""
        found = list(candidates) if candidates is not None else bundled(BUNDLED) + installed()
        scenarios, refused = vet(found, __version__)
        manager = ScenarioManager()
        manager.register_all(scenarios, refused)
        manager.register_default("core", importlib.import_module(DEFAULTS))
        return cls(manager, Enablement(settings), settings)

    @property
    def scenarios(self) -> dict[str, Scenario]:
        return self.manager.scenarios

    def manifest(self, scenario_id: str) -> Manifest | None:
        scenario = self.scenarios.get(scenario_id)
        return scenario.manifest if scenario else None

    def manifests(self) -> list[Manifest]:
        return [s.manifest for s in self.scenarios.values()]

    def declared_permissions(self) -> list[PermissionDecl]:
        return [p for s in self.scenarios.values() for p in s.manifest.permissions]

    def version_locations(self) -> list[Path]:
        return [s.manifest.migrations for s in self.scenarios.values() if s.manifest.migrations]

    def refusal_messages(self) -> list[tuple[str, str]]:
        """Each refused scenario's reason, in Chinese and English."""
        return [both(REFUSAL_MESSAGES[r.code], name=r.name, detail=r.detail, **r.params) for r in self.manager.refused]

    def check_config(self, settings: Settings) -> list[FieldError]:
        """Every problem with ``[towns]`` and ``[roles]``: unknown scenarios and permissions, settings that fail.

        A scenario that is installed but was refused (blocked, incompatible) is
        not a config error: its refusal is reported on its own, and the towns
        that list it simply go without it.
        """
        problems: list[FieldError] = []
        try:
            desired_permissions(settings, self.declared_permissions())
        except AppError as error:
            problems += error.fields
        refused = {r.name for r in self.manager.refused}
        for code, town in settings.towns.items():
            base = f'towns."{code}"'
            for key in ("scenarios", "exclude"):
                for i, sid in enumerate(getattr(town, key)):
                    if sid not in self.scenarios and sid not in refused:
                        problems.append(
                            FieldError(
                                f"{base}.{key}[{i}]",
                                *both("No scenario {id} is installed (or it was refused).", id=sid),
                            )
                        )
            for sid, values in town.settings.items():
                manifest = self.manifest(sid)
                if manifest is None and sid in refused:
                    continue
                if manifest is None:
                    problems.append(
                        FieldError(
                            f"{base}.settings.{sid}",
                            *both("No scenario {id} is installed (or it was refused).", id=sid),
                        )
                    )
                    continue
                problems += self.settings_problems(manifest, values, f"{base}.settings.{sid}")
        return problems

    def settings_problems(self, manifest: Manifest, values: dict[str, object], prefix: str) -> list[FieldError]:
        if manifest.settings is None:
            return [FieldError(prefix, *both("Scenario {id} has no settings.", id=manifest.id))] if values else []
        try:
            manifest.settings.model_validate(values)
        except ValidationError as exc:
            return [FieldError(f"{prefix}.{p.field}", p.message, p.message_en) for p in describe_pydantic(exc.errors())]
        return []

    def settings_for(self, scenario_id: str, state: TownState) -> BaseModel | None:
        manifest = self.manifest(scenario_id)
        if manifest is None or manifest.settings is None:
            return None
        if scenario_id not in state.validated:
            state.validated[scenario_id] = manifest.settings.model_validate(state.settings.get(scenario_id, {}))
        return state.validated[scenario_id]

    def town_context(
        self, *, town: Area, caller: Caller | None, session: Session, request: Request | None = None
    ) -> tuple[TownContext, TownState]:
        """The caller in ``town``, with the town's state; hooks narrow it per scenario through ``bind_scenario``."""
        self.enablement.refresh(session)
        state = self.enablement.for_town(town.path)

        def binder(scenario_id: str, base: TownContext) -> ScenarioContext | None:
            manifest = self.manifest(scenario_id)
            if manifest is None:
                return None
            return ScenarioContext(
                base.town,
                base._caller,
                base._session,
                base.request,
                manifest=manifest,
                settings=self.settings_for(scenario_id, state),
                platform=self.platform,
                approved=state.approved.get(scenario_id),
                _host=self,
            )

        info = AreaInfo(town.code, town.name, town.level, town.path)
        return TownContext(info, caller, session, request, binder), state

    def switch(
        self,
        session: Session,
        *,
        scenario_id: str,
        town: Area,
        enabled: bool,
        actor: str,
        settings: dict[str, Any] | None = None,
        address: str = "",
    ) -> None:
        """Record one switch at a town, with its audit entry, in the caller's transaction (permission checked by the caller)."""
        manifest = self.manifest(scenario_id)
        if manifest is None:
            raise not_found("No scenario {id} is installed (or it was refused).", id=scenario_id)
        if town.level != AreaLevel.town:
            raise bad_request("Scenarios are switched per town; {area} is not a town.", area=town.code)
        if settings is not None:
            problems = self.settings_problems(manifest, settings, "settings")
            if problems:
                raise bad_request("Some fields are not valid.", fields=problems)
        record_change(
            session,
            area_code=town.code,
            scenario_id=scenario_id,
            enabled=enabled,
            actor=actor,
            settings=settings,
            approved=sorted(manifest.data_uses()) if enabled else None,
        )
        audit.record(
            session,
            actor=actor,
            action="scenario.enable" if enabled else "scenario.disable",
            target_type="scenario",
            target_id=scenario_id,
            address=address,
            detail={"town": town.code, "settings": settings or {}},
        )

    def unapproved(self, scenario_id: str, state: TownState) -> list[str]:
        """Data uses the scenario declares now that the town did not approve when it switched it on."""
        manifest = self.manifest(scenario_id)
        approved = state.approved.get(scenario_id)
        if manifest is None or approved is None:
            return []
        return sorted(manifest.data_uses() - approved)

    def towns_enabling(self, session: Session, scenario_id: str) -> list[str]:
        """Codes of the towns where ``scenario_id`` is on."""
        self.enablement.refresh(session)
        towns = session.exec(select(Area.code, Area.path).where(Area.level == AreaLevel.town)).all()
        return [code for code, path in towns if scenario_id in self.enablement.for_town(path).enabled]

    def hooks(self, state: TownState) -> Any:
        """Hook callers reaching only the scenarios enabled in this town (plus the core's defaults)."""
        return self.manager.hooks_for(state.enabled)

    def extend_templates(self, env: Environment) -> None:
        """A scenario's ``templates`` folder is served as ``{id}/…`` (``templates/index.html`` is ``{id}/index.html``); its templates may extend the portal's ``base.html``."""
        prefixed = {
            s.id: FileSystemLoader(s.manifest.templates) for s in self.scenarios.values() if s.manifest.templates
        }
        assert isinstance(env.loader, ChoiceLoader)
        env.loader = ChoiceLoader([*env.loader.loaders, PrefixLoader(prefixed)])

    def start(self) -> None:
        self.manager.per_scenario("startup")
