"""``jiceng serve`` and ``jiceng demo``."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from jiceng.core import demo as demo_data
from jiceng.core import migrate
from jiceng.core.cli.runtime import Runtime, actor, console, fail, fail_fields, runtime
from jiceng.core.config import CONFIG_ENV, config_path
from jiceng.core.i18n import _
from jiceng.core.plugin_host import PluginHost


def ensure_ready(rt: Runtime) -> None:
    """Refuse to go on with a config that does not fit the scenarios, or a database behind the code."""
    problems = rt.host.check_config(rt.settings)
    if problems:
        fail_fields(_("The configuration is not valid:"), problems)
    if migrate.pending(rt.settings.database_url, rt.host.version_locations()):
        fail(_("The database needs migrating first: run `jiceng db upgrade`."))


def demo(ctx: typer.Context) -> None:
    rt = runtime(ctx)
    ensure_ready(rt)
    with rt.transaction() as session:
        added = demo_data.load_demo(
            session, rt.settings, actor=actor(), manifests=PluginHost.load(rt.settings).manifests()
        )
    console.print(_("Demo data loaded: {areas} areas, {users} users, {grants} grants added.", **added))
    if added.get("people"):
        console.print(
            _("{people} people, {houses} houses and {organisations} organisations added (synthetic).", **added)
        )
    if added.get("events"):
        console.print(_("{departments} departments and {events} events added to the demo town.", **added))
    console.print(_("Demo logins (password {password}):", password=demo_data.DEMO_PASSWORD))
    for user in demo_data.demo_users():
        console.print(f"  {user.username:<12} {user.display_name}")


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help=_("Address to listen on (default: server.host in the config)."))
    ] = None,
    port: Annotated[int | None, typer.Option(help=_("Port (default: server.port in the config)."))] = None,
    workers: Annotated[int, typer.Option(min=1, help=_("Worker processes."))] = 1,
) -> None:
    rt = runtime(ctx)
    settings = rt.settings
    ensure_ready(rt)
    os.environ[CONFIG_ENV] = str(config_path(rt.config).resolve())
    host = host or settings.server.host
    port = port or settings.server.port
    console.print(_("Serving on http://{host}:{port}", host=host, port=port))
    uvicorn.run(
        "jiceng.core.web.server:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )
