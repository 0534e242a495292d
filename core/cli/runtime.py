"""What every command needs: the settings from ``--config``, an engine, and one way to fail."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session

from jiceng.core.config import ConfigError, Settings, load_settings
from jiceng.core.db import make_engine, transaction
from jiceng.core.errors import AppError, FieldError
from jiceng.core.i18n import _, both
from jiceng.core.plugin_host import PluginHost

console = Console()
errors = Console(stderr=True)


@dataclass
class Runtime:
    config: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _host: PluginHost | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config)
            except ConfigError as exc:
                fail_fields(_("The configuration is not valid:"), exc.problems)
        return self._settings

    @property
    def host(self) -> PluginHost:
        """The scenarios, loaded once; refusals are printed so an operator sees them at every command."""
        if self._host is None:
            self._host = PluginHost.load(self.settings)
            for zh, en in self._host.refusal_messages():
                errors.print(f"[yellow]![/yellow] {bilingual(zh, en)}", highlight=False)
        return self._host

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction for the command; an :class:`AppError` rolls it back and exits 1."""
        try:
            with transaction(self.engine) as session:
                yield session
        except AppError as error:
            fail_app(error)


def actor() -> str:
    """Who the audit log names for CLI actions: the operating-system account."""
    return f"cli:{getpass.getuser()}"


def runtime(ctx: typer.Context) -> Runtime:
    return ctx.find_root().obj  # type: ignore[no-any-return]


def bilingual(zh: str, en: str) -> str:
    """Errors are printed in both languages: the operator and the log reader may differ."""
    return zh if zh == en else f"{zh}\n  {en}"


def fail(message: str, code: int = 1) -> NoReturn:
    errors.print(f"[red]✗[/red] {message}", highlight=False)
    raise typer.Exit(code)


def fail_message(msgid: str, /, **params: object) -> NoReturn:
    """Fail with a message in both languages."""
    fail(bilingual(*both(msgid, **params)))


def fail_app(error: AppError) -> NoReturn:
    if error.fields:
        fail_fields(bilingual(error.message, error.message_en), error.fields)
    fail(bilingual(error.message, error.message_en))


def fail_fields(title: str, problems: list[FieldError] | tuple[FieldError, ...] | object) -> NoReturn:
    errors.print(f"[red]✗[/red] {title}", highlight=False)
    for problem in problems:  # type: ignore[attr-defined]
        errors.print(
            f"  [bold]{problem.field}[/bold]: {bilingual(problem.message, problem.message_en)}", highlight=False
        )
    raise typer.Exit(1)
