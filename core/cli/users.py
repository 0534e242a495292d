"""``jiceng users``: accounts and their API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from jiceng.core import audit
from jiceng.core.cli.runtime import actor, console, runtime
from jiceng.core.i18n import _
from jiceng.core.users import create_user, get_user, issue_token, revoke_tokens, set_password

app = typer.Typer(help=_("User accounts and API tokens."), no_args_is_help=True)


@app.command("add", help=_("Create a user; the password is asked for when not given."))
def add(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option("--name", help=_("Display name."))],
    phone: Annotated[str | None, typer.Option(help=_("Mobile or landline number."))] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help=_("Password (at least 8 characters).")
        ),
    ] = "",
) -> None:
    with runtime(ctx).transaction() as session:
        user = create_user(session, username=username, display_name=name, phone=phone, password=password)
        audit.record(session, actor=actor(), action="user.create", target_type="user", target_id=user.username)
    console.print(_("Created user {username}.", username=username))


@app.command("token", help=_("Issue an API token for a machine client; it is shown once."))
def token(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option("--name", help=_("What the token is for."))] = "cli",
    days: Annotated[int, typer.Option(min=0, help=_("Days until it expires; 0 never expires."))] = 365,
) -> None:
    with runtime(ctx).transaction() as session:
        user = get_user(session, username)
        value = issue_token(session, user, name=name, days=days or None)
        audit.record(
            session,
            actor=actor(),
            action="token.issue",
            target_type="user",
            target_id=user.username,
            detail={"name": name},
        )
    console.print(_("Token for {username} (shown only now):", username=username))
    print(value)


@app.command("revoke-tokens", help=_("Revoke a user's tokens (all, or those with --name)."))
def revoke(ctx: typer.Context, username: str, name: Annotated[str | None, typer.Option("--name")] = None) -> None:
    with runtime(ctx).transaction() as session:
        user = get_user(session, username)
        count = revoke_tokens(session, user, name=name)
        audit.record(
            session,
            actor=actor(),
            action="token.revoke",
            target_type="user",
            target_id=user.username,
            detail={"count": count},
        )
    console.print(_("Revoked {n} token(s).", n=count))


@app.command(
    "password", help=_("Set a user's password (asked for twice); their other sessions stay valid until they expire.")
)
def password(
    ctx: typer.Context,
    username: str,
    new: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help=_("Password (at least 8 characters)."),
        ),
    ] = "",
) -> None:
    with runtime(ctx).transaction() as session:
        user = get_user(session, username)
        set_password(session, user, new)
        audit.record(session, actor=actor(), action="user.password", target_type="user", target_id=user.username)
    console.print(_("Password of {username} changed.", username=username))


@app.command("deactivate", help=_("Stop a user from logging in; their sessions and tokens stop working at once."))
def deactivate(ctx: typer.Context, username: str) -> None:
    _set_active(ctx, username, False)
    console.print(_("{username} can no longer log in.", username=username))


@app.command("activate", help=_("Let a deactivated user log in again."))
def activate(ctx: typer.Context, username: str) -> None:
    _set_active(ctx, username, True)
    console.print(_("{username} can log in again.", username=username))


def _set_active(ctx: typer.Context, username: str, active: bool) -> None:
    with runtime(ctx).transaction() as session:
        user = get_user(session, username)
        user.is_active = active
        session.add(user)
        audit.record(
            session,
            actor=actor(),
            action="user.activate" if active else "user.deactivate",
            target_type="user",
            target_id=user.username,
        )
