"""``jiceng config``: write a starter file and check one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jiceng.core.cli.runtime import console, fail, fail_fields
from jiceng.core.config import ConfigError, config_path, load_settings, write_starter
from jiceng.core.i18n import _
from jiceng.core.plugin_host import PluginHost

app = typer.Typer(help=_("Check and create the configuration file."), no_args_is_help=True)


@app.command("check", help=_("Validate a config file; print every problem with its key and exit non-zero."))
def check(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help=_("The file (default: the --config file)."))] = None,
) -> None:
    path = config_path(file or ctx.find_root().obj.config)
    try:
        settings = load_settings(path, required=True)
    except ConfigError as exc:
        fail_fields(_("{path} has {n} problem(s):", path=path, n=len(exc.problems)), exc.problems)
    problems = PluginHost.load(settings).check_config(settings)
    if problems:
        fail_fields(_("{path} has {n} problem(s):", path=path, n=len(problems)), problems)
    console.print(_("{path} is valid.", path=path))


@app.command("init", help=_("Write a starter jiceng.toml with a fresh secret key (never overwrites)."))
def init(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help=_("Where to write it (default: the --config file)."))] = None,
    database_url: Annotated[str, typer.Option(help=_("Database URL to put in the file."))] = "sqlite:///jiceng.db",
) -> None:
    path = config_path(file or ctx.find_root().obj.config)
    if not write_starter(path, database_url=database_url):
        console.print(_("{path} already exists; left unchanged.", path=path))
        return
    if not path.exists():
        fail(_("Could not write {path}.", path=path))
    console.print(_("Wrote {path}.", path=path))
