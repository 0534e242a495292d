"""The application factory: one FastAPI app per settings object.

Building the app loads the scenarios and refuses a config whose ``[towns]``
do not fit them; start-up brings the roles' permissions in line with the
defaults, the scenarios' declarations and config (a diff, not a rewrite).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware

from jiceng.core import __version__
from jiceng.core.config import ConfigError, Settings
from jiceng.core.db import make_engine
from jiceng.core.events.attachments import DiskStore
from jiceng.core.permissions.checker import Authorizer
from jiceng.core.permissions.service import sync_roles
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web import errors
from jiceng.core.web.locale import LocaleMiddleware
from jiceng.core.web.routes import (
    admin_events,
    admin_open311,
    admin_scenarios,
    areas,
    assessment,
    auth,
    departments,
    event_dashboard,
    event_pages,
    events,
    grants,
    health,
    me,
    open311,
    portal,
    record_conflicts,
    record_import,
    record_links,
    record_pages,
    records,
)
from jiceng.core.web.scenario_mount import mount_scenarios
from jiceng.core.web.templating import make_environment

STATIC = Path(__file__).with_name("static")


def create_app(settings: Settings, engine: Engine | None = None, host: PluginHost | None = None) -> FastAPI:
    """The app for ``settings``; tests pass their own engine and a host with the scenarios they need."""
    engine = engine or make_engine(settings.database_url)
    host = host or PluginHost.load(settings)
    problems = host.check_config(settings)
    if problems:
        raise ConfigError(None, problems)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        with Session(engine) as session, session.begin():
            sync_roles(session, settings, host.declared_permissions())
        host.start()
        yield

    app = FastAPI(
        title="jiceng",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.authorizer = Authorizer()
    app.state.templates = make_environment()
    app.state.host = host
    app.state.attachments = DiskStore(Path(settings.events.attachments.directory))
    host.extend_templates(app.state.templates)

    security = settings.security
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=security.session_cookie,
        max_age=security.session_max_age_hours * 3600,
        same_site="lax",
        https_only=security.https_only,
    )
    app.add_middleware(LocaleMiddleware, default=settings.default_locale)
    errors.install(app)
    for module in (
        auth,
        portal,
        me,
        areas,
        grants,
        health,
        admin_scenarios,
        record_import,
        record_pages,
        record_links,
        event_dashboard,
        event_pages,
    ):
        app.include_router(module.router)
    app.include_router(events.router)
    app.include_router(open311.router)
    app.include_router(admin_open311.router)
    app.include_router(admin_events.router)
    app.include_router(record_conflicts.router)
    app.include_router(departments.router)
    app.include_router(assessment.router)
    for router in records.routers:
        app.include_router(router)
    mount_scenarios(app, host)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
