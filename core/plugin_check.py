"""``jiceng plugin check``: everything the platform would refuse or regret, found before a town installs it.

The last check is behavioural: the scenario is loaded into a throw-away
platform (temporary SQLite database, the sample world), enabled in town A
only, and every parameterless GET route is asked for as the platform
administrator in both towns: town B must answer 404 everywhere.
"""

from __future__ import annotations

import ast
import importlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from jinja2 import TemplateSyntaxError

from jiceng.core import __version__, migrate
from jiceng.core.config import Settings, TownScenarios
from jiceng.core.db import make_engine, transaction
from jiceng.core.i18n import _
from jiceng.core.permissions.catalog import CORE_PERMISSIONS
from jiceng.core.plugin_host import PluginHost
from jiceng.core.sample_world import PASSWORD, TOWN_A, TOWN_B, make_world
from jiceng.core.web.app import create_app
from jiceng.core.web.templating import make_environment
from jiceng.plugins.loader import Candidate, Scenario, bundled, installed, vet
from jiceng.plugins.registrations import ScenarioRoutes


@dataclass
class CheckResult:
    title: str
    ok: bool
    detail: str


def find(name: str) -> Candidate | None:
    """An installed entry point, a bundled scenario, or an importable module called ``name``."""
    for candidate in installed():
        if candidate.name == name:
            return candidate
    for module in (f"jiceng.scenarios.{name}", name):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        return bundled([module])[0]
    return None


def run_checks(name: str) -> list[CheckResult]:
    candidate = find(name)
    if candidate is None:
        return [
            CheckResult(
                _("Found"), False, _("No installed entry point, bundled scenario or module named {name}.", name=name)
            )
        ]
    scenarios, refused = vet([candidate], __version__)
    if refused:
        return [CheckResult(_("Manifest and hooks"), False, f"{refused[0].code}: {refused[0].detail}")]
    scenario = scenarios[0]
    return [
        CheckResult(
            _("Manifest"), True, f"{scenario.id} {scenario.manifest.version}, jiceng {scenario.manifest.requires}"
        ),
        CheckResult(_("Hooks"), True, ", ".join(sorted(_hooks(scenario))) or "—"),
        _check_permissions(scenario),
        _check_templates(scenario),
        _check_tables(scenario),
        _check_isolation(scenario, candidate),
    ]


def _hooks(scenario: Scenario) -> list[str]:
    from jiceng.plugins.loader import hook_functions

    return list(hook_functions(scenario.plugin))


def _package_dir(scenario: Scenario) -> Path | None:
    file = getattr(scenario.plugin, "__file__", None)
    return Path(file).parent if file else None


def _permission_literals(folder: Path) -> Iterator[tuple[str, str]]:
    """``(permission, "file:line")`` for string literals passed to ``require``/``can`` or as ``permission=``."""
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = list(node.args[:1]) if name in ("require", "can") else []
            args += [k.value for k in node.keywords if k.arg == "permission"]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    yield arg.value, f"{path.name}:{node.lineno}"


def _check_permissions(scenario: Scenario) -> CheckResult:
    folder = _package_dir(scenario)
    declared = {p.name for p in scenario.manifest.permissions} | set(CORE_PERMISSIONS)
    used = list(_permission_literals(folder)) if folder else []
    undeclared = [f"{perm} ({where})" for perm, where in used if perm not in declared]
    if undeclared:
        return CheckResult(_("Permissions"), False, _("used but not declared: {names}", names=", ".join(undeclared)))
    return CheckResult(_("Permissions"), True, ", ".join(sorted(p.name for p in scenario.manifest.permissions)))


def _check_templates(scenario: Scenario) -> CheckResult:
    folder = scenario.manifest.templates
    if folder is None:
        return CheckResult(_("Templates"), True, _("none"))
    env = make_environment()
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    env.loader = ChoiceLoader([env.loader, PrefixLoader({scenario.id: FileSystemLoader(folder)})])  # type: ignore[list-item]
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))
    bad = []
    for name in names:
        try:
            env.get_template(f"{scenario.id}/{name}")
        except TemplateSyntaxError as exc:
            bad.append(f"{name}:{exc.lineno}: {exc.message}")
    return CheckResult(_("Templates"), not bad, "; ".join(bad) or _("{n} compile", n=len(names)))


def _check_tables(scenario: Scenario) -> CheckResult:
    manifest = scenario.manifest
    tables = [str(getattr(t, "__tablename__", "")) for t in manifest.tables]
    if not tables:
        return CheckResult(_("Tables and migrations"), True, _("none"))
    if manifest.migrations is None:
        return CheckResult(
            _("Tables and migrations"), False, _("tables {names} but no migrations folder", names=", ".join(tables))
        )
    text = "\n".join(p.read_text(encoding="utf-8") for p in manifest.migrations.glob("*.py"))
    missing = [t for t in tables if t not in text]
    if f'"{manifest.id}"' not in text:
        missing.append(_("a branch labelled {id}", id=manifest.id))
    return CheckResult(
        _("Tables and migrations"),
        not missing,
        (_("missing: {names}", names=", ".join(missing)) if missing else ", ".join(tables)),
    )


def _check_isolation(scenario: Scenario, candidate: Candidate) -> CheckResult:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'check.db'}"
        settings = Settings(
            environment="development", database_url=url, towns={TOWN_A: TownScenarios(scenarios=[scenario.id])}
        )
        host = PluginHost.load(settings, candidates=[candidate])
        migrate.upgrade(url, version_locations=host.version_locations())
        engine = make_engine(url)
        try:
            app = create_app(settings, engine, host=host)
            with transaction(engine) as session:
                make_world(session, settings)
            leaks, broken, paths = _probe(app, host.manager.per_scenario("routes").get(scenario.id), scenario.id)
        finally:
            engine.dispose()
    if leaks or broken:
        detail = "; ".join(
            [
                *(_("answers in town B: {path}", path=p) for p in leaks),
                *(_("fails in town A: {path}", path=p) for p in broken),
            ]
        )
        return CheckResult(_("Tenant isolation"), False, detail)
    return CheckResult(_("Tenant isolation"), True, _("{n} routes answer 404 where the scenario is off", n=paths))


def _probe(app: object, routes: object, scenario_id: str) -> tuple[list[str], list[str], int]:
    if not isinstance(routes, ScenarioRoutes):
        return [], [], 0
    paths = [
        f"/s/{scenario_id}{r.path}"
        for r in (routes.pages.routes if routes.pages else [])
        if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path
    ]
    paths += [
        f"/api/s/{scenario_id}{r.path}"
        for r in (routes.api.routes if routes.api else [])
        if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path
    ]
    leaks: list[str] = []
    broken: list[str] = []
    with TestClient(app, raise_server_exceptions=False) as client:  # type: ignore[arg-type]
        client.post("/login", data={"username": "admin", "password": PASSWORD})
        for path in paths:
            if client.get(path, params={"town": TOWN_B}).status_code != 404:
                leaks.append(path)
            if client.get(path, params={"town": TOWN_A}).status_code in (404, 500):
                broken.append(path)
    return leaks, broken, len(paths)
