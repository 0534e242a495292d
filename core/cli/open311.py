"""``jiceng open311``: the Open311 clients that may post service requests, and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from jiceng.core.areas import get_area
from jiceng.core.cli.runtime import actor, console, runtime
from jiceng.core.i18n import _
from jiceng.core.open311.keys import create_client, list_clients, revoke_client

app = typer.Typer(help=_("Open311 clients and their API keys."), no_args_is_help=True)


@app.command("key", help=_("Create the client NAME and print its API key; it is shown only once."))
def key(
    ctx: typer.Context,
    name: str,
    area: Annotated[
        str | None,
        typer.Option(help=_("The town, district or city whose towns it posts in; without it, any town.")),
    ] = None,
) -> None:
    with runtime(ctx).transaction() as session:
        client, value = create_client(session, name=name, actor=actor(), area=get_area(session, area) if area else None)
    console.print(_("The API key of {name}, shown only now; copy it to the client:", name=client.name))
    print(value)


@app.command("revoke", help=_("Revoke the key of the client NAME; its requests are refused from now on."))
def revoke(ctx: typer.Context, name: str) -> None:
    with runtime(ctx).transaction() as session:
        revoke_client(session, name=name, actor=actor())
    console.print(_("The key of {name} is revoked.", name=name))


@app.command("list", help=_("List the clients: name, area, when created, when revoked (never their keys)."))
def list_(ctx: typer.Context) -> None:
    with runtime(ctx).transaction() as session:
        clients = list_clients(session)
    table = Table(_("Name"), _("Posts requests in"), _("Created"), _("Revoked"))
    for client in clients:
        revoked = client.revoked_at.strftime("%Y-%m-%d %H:%M") if client.revoked_at else "-"
        area = client.area_code or _("Any town")
        table.add_row(client.name, area, client.created_at.strftime("%Y-%m-%d %H:%M"), revoked)
    console.print(table)
