"""``jiceng import``: bring a ledger (台账) into the three tables, with a progress bar and an error report."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from jiceng.core.cli.runtime import actor, console, fail, runtime
from jiceng.core.i18n import _
from jiceng.core.records.importer import import_ledger
from jiceng.core.records.ledger import LedgerError, load_mapping
from jiceng.core.records.tables import HOUSES, ORGANISATIONS, PEOPLE


class Kind(StrEnum):
    people = "people"
    houses = "houses"
    organisations = "organisations"


SPECS = {Kind.people: PEOPLE, Kind.houses: HOUSES, Kind.organisations: ORGANISATIONS}


def import_(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help=_("Which table: people, houses or organisations."))],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=_("A CSV (UTF-8 or GBK) or XLSX ledger."))
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            exists=True,
            dir_okay=False,
            help=_("A TOML or JSON file mapping the ledger's own headers to fields."),
        ),
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help=_("The grid or community for rows without a 所属网格 column."))
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help=_("Where to write the error report (default: next to the file)."))
    ] = None,
) -> None:
    rt = runtime(ctx)
    report = report or file.with_name(f"{file.stem}.errors.csv")
    spec = SPECS[kind]
    try:
        columns = load_mapping(mapping) if mapping else None
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} " + _("rows") + " · {task.fields[rate]:,.0f} " + _("rows/s")),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task(file.name, total=None, rate=0.0)

            def progress(done: int) -> None:
                elapsed = bar.tasks[task].elapsed or 0
                bar.update(task, completed=done, rate=done / elapsed if elapsed else 0.0)

            summary = import_ledger(
                rt.engine,
                spec,
                file,
                actor=actor(),
                settings=rt.settings,
                error_report=report,
                mapping=columns,
                default_area=area,
                progress=progress,
            )
    except LedgerError as error:
        zh, en = error.texts()
        fail(f"{zh}\n  {en}")
    table = Table(
        _("Result"),
        _("Rows"),
        title=_(
            "Imported {file} in {seconds:.1f} s ({rate:,.0f} rows/s)",
            file=file.name,
            seconds=summary.seconds,
            rate=summary.rows_per_second,
        ),
    )
    for label, value in (
        (_("Read"), summary.read),
        (_("Inserted"), summary.inserted),
        (_("Updated"), summary.updated),
        (_("Unchanged"), summary.unchanged),
        (_("Rejected"), summary.rejected),
        (_("Conflicts to review"), summary.conflicts),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    for reason, count in summary.reasons.most_common(10):
        console.print(f"  {count:>7,}  {reason}")
    if summary.ignored_columns:
        console.print(_("Columns not imported: {names}", names=", ".join(summary.ignored_columns)))
    if summary.rejected:
        console.print(_("Error report: {path}", path=report))
