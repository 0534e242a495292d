"""``jiceng db``: migrations."""

from __future__ import annotations

import typer

from jiceng.core import migrate
from jiceng.core.cli.runtime import console, runtime
from jiceng.core.i18n import _
from jiceng.core.permissions.service import sync_roles

app = typer.Typer(help=_("Database migrations."), no_args_is_help=True)


@app.command(
    "upgrade",
    help=_("Apply every pending migration (the core's and every plugin's) and update the roles' permissions."),
)
def upgrade(ctx: typer.Context) -> None:
    rt = runtime(ctx)
    left_alone = migrate.upgrade(rt.settings.database_url, version_locations=rt.host.version_locations())
    with rt.transaction() as session:
        sync_roles(session, rt.settings, rt.host.declared_permissions())
    heads = [h for h in migrate.current_heads(rt.engine) if h not in left_alone]
    console.print(_("The database is up to date: {heads}.", heads=", ".join(heads)))
    if left_alone:
        console.print(
            _(
                "Left alone: revision(s) {revisions}, from scenarios no longer installed; their tables and data are kept, and reinstalling resumes from there.",
                revisions=", ".join(left_alone),
            )
        )


@app.command("current", help=_("Show the database's migration revision(s)."))
def current(ctx: typer.Context) -> None:
    heads = migrate.current_heads(runtime(ctx).engine)
    console.print(", ".join(heads) if heads else _("(no migration applied yet)"))
