"""``jiceng events``: the event loop's kept figures."""

from __future__ import annotations

import typer
from sqlalchemy import func
from sqlmodel import select

from jiceng.core.cli.runtime import console, runtime
from jiceng.core.events import counts, tally
from jiceng.core.events.models import Event
from jiceng.core.i18n import _

app = typer.Typer(help=_("Events: the figures the event loop keeps."), no_args_is_help=True)


@app.command(
    "recount",
    help=_(
        "Recount the dashboard's counts by state and the assessment's tally from the events themselves "
        "(after events were loaded or changed without going through jiceng)."
    ),
)
def recount(ctx: typer.Context) -> None:
    with runtime(ctx).transaction() as session:
        counts.rebuild(session)
        tally.rebuild(session)
        events = session.exec(select(func.count()).select_from(Event)).one()
    console.print(_("Recounted from {n} events: the counts by state and the assessment's tally.", n=events))
