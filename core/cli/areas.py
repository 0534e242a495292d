"""``jiceng areas``: the area tree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from jiceng.core import audit
from jiceng.core.area_import import import_areas
from jiceng.core.cli.runtime import actor, console, errors, runtime
from jiceng.core.i18n import _

app = typer.Typer(help=_("The area tree (city, district, town, community, grid)."), no_args_is_help=True)


@app.command(
    "import",
    help=_("Import areas from a CSV file (code,name,level,parent_code); nothing is written if any row is bad."),
)
def import_(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
) -> None:
    with runtime(ctx).transaction() as session:
        result = import_areas(session, file)
        if result.errors:
            table = Table(
                _("Line"),
                _("Field"),
                _("Problem"),
                title=_("{n} bad row(s); nothing was imported.", n=len(result.errors)),
            )
            for e in result.errors:
                table.add_row(str(e.line), e.field, f"{e.message} / {e.message_en}")
            errors.print(table)
            raise typer.Exit(1)
        audit.record(
            session,
            actor=actor(),
            action="areas.import",
            detail={"file": file.name, "inserted": result.inserted, "renamed": result.renamed},
        )
    console.print(
        _(
            "Imported {file}: {inserted} new, {renamed} renamed, {unchanged} unchanged.",
            file=file.name,
            inserted=result.inserted,
            renamed=result.renamed,
            unchanged=result.unchanged,
        )
    )
