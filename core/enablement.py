"""Which scenarios are switched on in which town, and with which settings.

Two sources, applied top-down along the town's area path (city → district →
town): first ``[towns."CODE"]`` in jiceng.toml, then the changes town
administrators made at run time (``jiceng scenarios enable`` or the admin
page), which are kept as an append-only log so every switch is on record.
Enabling at a district therefore reaches its towns unless a town opts out.
Each worker caches the result per town and reloads when the log grows, so a
change takes effect on the next request everywhere without a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from jiceng.core.config import Settings
from jiceng.core.db import utcnow
from jiceng.core.freshness import take_latest_switch


class ScenarioChange(SQLModel, table=True):
    """One switch of a scenario at an area; the newest row per (area, scenario) is in force."""

    __tablename__ = "scenario_change"

    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(foreign_key="area.code", max_length=15, index=True)
    scenario_id: str = Field(max_length=32)
    enabled: bool
    settings: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # type: ignore[type-arg]
    #: switching on approves the scenario's declared data use as it was then (``Manifest.data_uses``)
    approved: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # type: ignore[type-arg]
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class TownState:
    """The scenarios on in one town and the raw (not yet validated) settings of each."""

    enabled: frozenset[str]
    settings: dict[str, dict[str, object]] = field(default_factory=dict)
    #: per scenario switched on at run time, the data use the town approved; absent when config switched it
    #: on (the config file is the administrator's approval of the declaration as installed)
    approved: dict[str, frozenset[str]] = field(default_factory=dict)
    #: each scenario's settings validated once per state (a state lives until the switches change)
    validated: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


def path_codes(path: str) -> list[str]:
    return [code for code in path.split("/") if code]


LATEST_SWITCH = "SELECT coalesce(max(id), 0) FROM scenario_change"


class Enablement:
    """Resolves :class:`TownState` for a town's path; thread-safe, one per app."""

    def __init__(self, settings: Settings) -> None:
        self.config = settings.towns
        self._lock = threading.Lock()
        self._seen = -1
        self._changes: dict[str, list[ScenarioChange]] = {}
        self._cache: dict[str, TownState] = {}

    def refresh(self, session: Session) -> None:
        """Reload the switches when the log has grown; one indexed query otherwise (none when the request's caller
        was resolved with the grants' check, :mod:`jiceng.core.freshness`)."""
        latest = take_latest_switch(session)
        if latest is None:
            latest = session.connection().exec_driver_sql(LATEST_SWITCH).scalar_one()
        if latest == self._seen:
            return
        with self._lock:
            newest: dict[tuple[str, str], ScenarioChange] = {}
            for change in session.exec(select(ScenarioChange).order_by(col(ScenarioChange.id))).all():
                newest[(change.area_code, change.scenario_id)] = change
            by_area: dict[str, list[ScenarioChange]] = {}
            for (area, _sid), change in newest.items():
                by_area.setdefault(area, []).append(change)
            self._changes = by_area
            self._cache = {}
            self._seen = latest

    def for_town(self, town_path: str) -> TownState:
        state = self._cache.get(town_path)
        if state is None:
            state = self._resolve(town_path)
            self._cache[town_path] = state
        return state

    def _resolve(self, town_path: str) -> TownState:
        enabled: set[str] = set()
        settings: dict[str, dict[str, object]] = {}
        approved: dict[str, frozenset[str]] = {}
        for code in path_codes(town_path):
            configured = self.config.get(code)
            if configured is not None:
                enabled |= set(configured.scenarios)
                enabled -= set(configured.exclude)
                for sid, values in configured.settings.items():
                    settings.setdefault(sid, {}).update(values)
                for sid in configured.scenarios:
                    approved.pop(sid, None)
            for change in self._changes.get(code, ()):
                (enabled.add if change.enabled else enabled.discard)(change.scenario_id)
                if change.enabled and change.approved is not None:
                    approved[change.scenario_id] = frozenset(change.approved)
                if change.settings:
                    settings.setdefault(change.scenario_id, {}).update(change.settings)
        return TownState(frozenset(enabled), settings, {k: v for k, v in approved.items() if k in enabled})

    def towns_enabling(self, scenario_id: str, town_paths: list[str]) -> list[str]:
        return [p for p in town_paths if scenario_id in self.for_town(p).enabled]


def record_change(
    session: Session,
    *,
    area_code: str,
    scenario_id: str,
    enabled: bool,
    actor: str,
    settings: dict[str, object] | None = None,
    approved: list[str] | None = None,
) -> ScenarioChange:
    change = ScenarioChange(
        area_code=area_code, scenario_id=scenario_id, enabled=enabled, actor=actor, settings=settings, approved=approved
    )
    session.add(change)
    session.flush()
    return change
