"""``jiceng users``: accounts and their API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from jiceng.core import audit
from jiceng.core.cli.runtime import actor, console, runtime
from jiceng.core.i18n import _
from jiceng.core.users import create_user, get_user, issue_token, revoke_tokens

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
