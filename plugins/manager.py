"""The manager: registers vetted scenarios, isolates their failures, and calls hooks per town.

Isolation is done once, at registration: each hook implementation is wrapped
so that an exception is logged with the scenario id, counted, and turned into
"no answer" (``None``), which pluggy already skips when collecting results or
looking for a first result. Per-town calls use pluggy's ``subset_hook_caller``,
cached per set of enabled scenarios (pluggy still filters the installed
implementations on each call, so the cost grows a little with the number
installed; docs/performance.md has the figures). ``JICENG_TRACE_HOOKS=1`` logs every hook call with its duration.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pluggy

from jiceng.plugins.loader import Refusal, Scenario, hook_functions, new_plugin_manager
from jiceng.plugins.registrations import Bindable

log = logging.getLogger("jiceng.plugins")
TRACE_ENV = "JICENG_TRACE_HOOKS"


@dataclass
class Health:
    """How a scenario has behaved since start-up."""

    failures: int = 0
    last_error: str = ""
    last_hook: str = ""
    last_failed_at: float = 0.0

    @property
    def status(self) -> str:
        return "degraded" if self.failures else "ok"


class IsolatedPlugin:
    """What pluggy registers for a scenario: its hook functions, each wrapped by ``_guard``."""

    def __init__(self, name: str, hooks: dict[str, Callable[..., Any]]) -> None:
        self.__name__ = name
        for hook, fn in hooks.items():
            setattr(self, hook, fn)


@dataclass
class ScenarioManager:
    """A typed facade over pluggy for the host."""

    pm: pluggy.PluginManager = field(default_factory=new_plugin_manager)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)
    health: dict[str, Health] = field(default_factory=dict)
    _subsets: dict[tuple[str, frozenset[str]], Any] = field(default_factory=dict)
    _namespaces: dict[frozenset[str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if os.environ.get(TRACE_ENV) == "1":
            self._trace()

    def register(self, scenario: Scenario) -> None:
        """Register a vetted scenario."""
        self._register(scenario.id, scenario.plugin)
        self.scenarios[scenario.id] = scenario

    def register_default(self, name: str, plugin: Any) -> None:
        """Register one of the host's own plugins: it reaches every town and cannot be switched off."""
        self._register(name, plugin)

    def _register(self, name: str, plugin: Any) -> None:
        self.pm.register(self._isolated(name, plugin), name=name)
        self.health.setdefault(name, Health())
        self.pm.check_pending()
        self._subsets.clear()
        self._namespaces.clear()

    def register_all(self, scenarios: Iterable[Scenario], refused: Iterable[Refusal]) -> None:
        for scenario in scenarios:
            self.register(scenario)
        self.refused.extend(refused)
        for refusal in self.refused:
            log.error("scenario %s refused (%s): %s", refusal.name, refusal.code, refusal.detail)

    def hooks_for(self, enabled: frozenset[str]) -> Any:
        """An object with one caller per hook that reaches only the ``enabled`` scenarios (and the host's defaults)."""
        found = self._namespaces.get(enabled)
        if found is None:
            found = SimpleNamespace(**{name: self.caller(name, enabled) for name in self.hook_names()})
            self._namespaces[enabled] = found
        return found

    def caller(self, hook: str, enabled: frozenset[str]) -> Any:
        key = (hook, enabled)
        found = self._subsets.get(key)
        if found is None:
            with self._lock:
                found = self._subsets.get(key)
                if found is None:
                    remove = [self.pm.get_plugin(sid) for sid in self.scenarios if sid not in enabled]
                    found = self.pm.subset_hook_caller(hook, remove_plugins=remove)
                    self._subsets[key] = found
        return found

    def hook_names(self) -> list[str]:
        return [name for name in vars(self.pm.hook) if not name.startswith("_")]

    def per_scenario(self, hook: str, **kwargs: Any) -> dict[str, Any]:
        """Call ``hook`` on each scenario separately, keyed by id (start-up work such as collecting routes).

        ``scenario_id`` is passed as each scenario's own id.
        """
        results = {}
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin_name in self.scenarios:
                args = {**kwargs, "scenario_id": impl.plugin_name}
                results[impl.plugin_name] = impl.function(*(args[a] for a in impl.argnames))
        return results

    def _isolated(self, scenario_id: str, plugin: Any) -> Any:
        wrapped = {name: self._guard(scenario_id, name, fn) for name, fn in hook_functions(plugin).items()}
        return IsolatedPlugin(scenario_id, wrapped)

    def _guard(self, scenario_id: str, hook: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Catch and count the scenario's exceptions, and hand it arguments bound to itself.

        pluggy passes the same arguments to every implementation; any argument
        that is :class:`Bindable` (the context, a record's changes) is narrowed
        here to what this scenario may see: its own settings, the fields it
        declared, never another scenario's.
        """

        @functools.wraps(fn)
        def guarded(*args: Any) -> Any:
            try:
                return fn(*[a.bind_scenario(scenario_id) if isinstance(a, Bindable) else a for a in args])
            except Exception as exc:  # a scenario's bug must not break the request or the others
                self.record_failure(scenario_id, hook, exc)
                return None

        return guarded

    def record_failure(self, scenario_id: str, hook: str, exc: BaseException) -> None:
        health = self.health.setdefault(scenario_id, Health())
        health.failures += 1
        health.last_error = f"{type(exc).__name__}: {exc}"[:300]
        health.last_hook = hook
        health.last_failed_at = time.time()
        log.error("scenario %s failed in hook %s", scenario_id, hook, exc_info=exc)

    def _trace(self) -> None:
        local = threading.local()

        def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
            local.starts = [*getattr(local, "starts", []), time.perf_counter()]

        def after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
            elapsed = (time.perf_counter() - local.starts.pop()) * 1e6
            log.warning(
                "hook %s → %s: %.0f µs", hook_name, ", ".join(i.plugin_name for i in impls) or "(none)", elapsed
            )

        self.pm.add_hookcall_monitoring(before, after)
