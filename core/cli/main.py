"""``jiceng``: set up, run and administer a jiceng platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiceng.core.i18n import _, locale_from_environment, set_locale

set_locale(locale_from_environment())  # help texts below are translated as they are defined

from jiceng.core.cli import areas, audit, config, db, events, imports, open311, roles, scenarios, serve, tooling, users  # noqa: E402
from jiceng.core.cli.runtime import Runtime  # noqa: E402

app = typer.Typer(
    name="jiceng",
    help=_("Jiceng: an open platform for township and community governance."),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help=_("Config file (default: $JICENG_CONFIG or ./jiceng.toml)."), envvar="JICENG_CONFIG"
        ),
    ] = None,
) -> None:
    ctx.obj = Runtime(config=config_file)


app.add_typer(config.app, name="config")
app.add_typer(db.app, name="db")
app.add_typer(areas.app, name="areas")
app.add_typer(users.app, name="users")
app.add_typer(roles.app, name="roles")
app.add_typer(audit.app, name="audit")
app.add_typer(events.app, name="events")
app.add_typer(open311.app, name="open311")
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(tooling.plugin_app, name="plugin")
app.command("new-scenario", help=_("Write a new scenario package, ready to pip install and test."))(
    tooling.new_scenario
)
app.command("import", help=_("Import a ledger (CSV or XLSX) into people, houses or organisations."))(imports.import_)
app.command("demo", help=_("Load the demo area tree and demo users (safe to run again)."))(serve.demo)
app.command("serve", help=_("Serve the portal and the API."))(serve.serve)
