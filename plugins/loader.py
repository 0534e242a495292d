"""Finding and vetting scenarios: bundled ones and every installed ``jiceng.scenarios`` entry point.

Each candidate is imported and checked on its own, so one broken package is
refused with a reason while the rest load (pluggy's own
``load_setuptools_entrypoints`` would abort on the first failing import).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from pydantic import ValidationError

from jiceng.plugins import hookspecs
from jiceng.plugins.manifest import Manifest
from jiceng.plugins.markers import PROJECT

ENTRY_POINT_GROUP = "jiceng.scenarios"
BLOCK_ENV = "JICENG_BLOCK_SCENARIOS"
SPEC_NAMES = frozenset(
    n for n, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, f"{PROJECT}_spec")
)


@dataclass(frozen=True)
class Candidate:
    """Something that may be a scenario: where it comes from and how to import it."""

    name: str
    source: str  # "bundled" or the distribution's "name version"
    load: Callable[[], Any]


@dataclass
class Scenario:
    """A vetted scenario: its manifest, the object holding its hooks, and where it came from."""

    manifest: Manifest
    plugin: Any
    source: str

    @property
    def id(self) -> str:
        return self.manifest.id


@dataclass(frozen=True)
class Refusal:
    """Why a candidate was not loaded; ``code`` is stable, ``detail`` is technical English for the log."""

    name: str
    code: str
    detail: str
    params: dict[str, str] = field(default_factory=dict)


def bundled(modules: Iterable[str]) -> list[Candidate]:
    return [Candidate(m.rsplit(".", 1)[-1], "bundled", lambda m=m: importlib.import_module(m)) for m in modules]


def installed(group: str = ENTRY_POINT_GROUP) -> list[Candidate]:
    found = []
    for ep in entry_points(group=group):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else ep.value
        found.append(Candidate(ep.name, dist, ep.load))
    return found


def vet(candidates: Iterable[Candidate], host_version: str) -> tuple[list[Scenario], list[Refusal]]:
    """Import and check every candidate; returns the good ones and a refusal for each of the rest."""
    blocked = {b.strip() for b in os.environ.get(BLOCK_ENV, "").split(",") if b.strip()}
    loaded: dict[str, Scenario] = {}
    refused: list[Refusal] = []
    for candidate in candidates:
        if candidate.name in blocked:
            refused.append(Refusal(candidate.name, "blocked", f"blocked by {BLOCK_ENV}"))
            continue
        outcome = _vet_one(candidate, host_version)
        if isinstance(outcome, Refusal):
            refused.append(outcome)
        elif outcome.id in loaded:
            other = loaded[outcome.id].source
            refused.append(
                Refusal(
                    outcome.id,
                    "duplicate",
                    f"id {outcome.id!r} from {candidate.source} is already loaded from {other}",
                    {"other": other, "source": candidate.source},
                )
            )
        else:
            loaded[outcome.id] = outcome
    return list(loaded.values()), refused


def _vet_one(candidate: Candidate, host_version: str) -> Scenario | Refusal:
    try:
        plugin = candidate.load()
    except Exception as exc:  # any import-time failure of third-party code
        return Refusal(candidate.name, "import_failed", f"{type(exc).__name__}: {exc}")
    raw = getattr(plugin, "manifest", None)
    if raw is None:
        return Refusal(candidate.name, "no_manifest", "the module has no `manifest`")
    try:
        manifest = raw if isinstance(raw, Manifest) else Manifest.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'manifest'}: {e['msg']}" for e in exc.errors())
        return Refusal(candidate.name, "invalid_manifest", detail)
    if not manifest.supports(host_version):
        return Refusal(
            manifest.id,
            "incompatible",
            f"needs jiceng {manifest.requires}, this is jiceng {host_version}",
            {"requires": manifest.requires, "version": host_version},
        )
    problem = check_hooks(plugin)
    if problem:
        return Refusal(manifest.id, problem[0], problem[1])
    return Scenario(manifest, plugin, candidate.source)


def hook_functions(plugin: Any) -> dict[str, Callable[..., Any]]:
    """The plugin's functions marked with ``@hookimpl``."""
    marker = f"{PROJECT}_impl"
    members = vars(plugin) if isinstance(plugin, ModuleType) else {n: getattr(plugin, n) for n in dir(plugin)}
    return {name: fn for name, fn in members.items() if callable(fn) and hasattr(fn, marker)}


def check_hooks(plugin: Any) -> tuple[str, str] | None:
    """A misspelled hook, an async hook or an argument the spec does not offer, as (code, detail)."""
    for name, fn in hook_functions(plugin).items():
        if name not in SPEC_NAMES:
            return "unknown_hook", f"{name}() matches no hook; known hooks: {', '.join(sorted(SPEC_NAMES))}"
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            return "async_hook", f"{name}() is async; hooks must be plain functions"
        spec_args = set(inspect.signature(getattr(hookspecs, name)).parameters)
        params = inspect.signature(fn).parameters
        extra = set(params) - spec_args
        if extra:
            return "bad_hook", f"{name}() takes {', '.join(sorted(extra))}, which the hook does not pass"
        defaulted = [p for p, v in params.items() if v.default is not inspect.Parameter.empty]
        if defaulted:
            return "bad_hook", f"{name}() gives defaults to {', '.join(defaulted)}; pluggy would never pass them"
    return None


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm
