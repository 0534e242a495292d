"""Vendor tooling: ``jiceng new-scenario`` writes a package, ``jiceng plugin check`` vets one."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated

import typer

import jiceng.core
from jiceng.core.cli.runtime import console, errors, fail_message
from jiceng.core.i18n import _
from jiceng.core.plugin_check import run_checks
from jiceng.plugins.manifest import ID_PATTERN

#: The scaffold is data that ships beside the SDK; it is read as files, never imported by the core.
SCAFFOLD = Path(jiceng.core.__file__).resolve().parent.parent / "sdk" / "scaffold"

plugin_app = typer.Typer(help=_("Tools for scenario developers."), no_args_is_help=True)


def new_scenario(
    name: Annotated[
        str, typer.Argument(help=_("The scenario id: lower-case letters, digits and _, starting with a letter."))
    ],
    directory: Annotated[
        Path | None, typer.Option("--dir", help=_("Where to create the package folder (default: ./jiceng-NAME)."))
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help=_("Display name (default: the id)."))] = None,
) -> None:
    if not re.fullmatch(ID_PATTERN, name):
        fail_message(
            "{name} is not a valid scenario id: use 2–32 lower-case letters, digits and _, starting with a letter.",
            name=name,
        )
    target = directory or Path(f"jiceng-{name}")
    if target.exists() and any(target.iterdir()):
        fail_message("{path} already exists and is not empty.", path=target)
    values = {"id": name, "module": f"jiceng_{name}", "name": title or name}
    for source in sorted(SCAFFOLD.rglob("*.tmpl")):
        relative = source.relative_to(SCAFFOLD).as_posix().removesuffix(".tmpl").replace("__id__", name)
        relative = re.sub(r"^package/", f"{values['module']}/", relative)
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(string.Template(source.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
    console.print(_("Created {path}. Next: cd {path} && pip install -e . && pytest", path=target))


@plugin_app.command(
    "check", help=_("Check a scenario: manifest, hooks, permissions, templates, tables, migrations, tenant isolation.")
)
def check(name: Annotated[str, typer.Argument(help=_("The scenario's entry-point name or module."))]) -> None:
    failed = 0
    for result in run_checks(name):
        mark = "[green]✓[/green]" if result.ok else "[red]✗[/red]"
        (console if result.ok else errors).print(f"{mark} {result.title}: {result.detail}", highlight=False)
        failed += not result.ok
    if failed:
        raise typer.Exit(1)
