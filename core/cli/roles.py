"""``jiceng roles``: who holds which role where."""

from __future__ import annotations

import typer
from rich.table import Table

from jiceng.core.cli.runtime import actor, console, runtime
from jiceng.core.i18n import _
from jiceng.core.permissions.catalog import BUILTIN_ROLES
from jiceng.core.permissions.service import desired_permissions, grant_role, revoke_role
from jiceng.core.permissions.store import user_grants

app = typer.Typer(help=_("Grant and revoke roles at areas."), no_args_is_help=True)


@app.command("grant", help=_("Grant USER the ROLE at AREA_CODE; it covers every area under it."))
def grant(ctx: typer.Context, user: str, role: str, area_code: str) -> None:
    rt = runtime(ctx)
    with rt.transaction() as session:
        changed = grant_role(session, rt.settings, actor=actor(), username=user, role=role, area_code=area_code)
    console.print(
        _("Granted {role} to {user} at {area}.", role=role, user=user, area=area_code)
        if changed
        else _("{user} already holds {role} at {area}.", role=role, user=user, area=area_code)
    )


@app.command("revoke", help=_("Revoke USER's ROLE at AREA_CODE."))
def revoke(ctx: typer.Context, user: str, role: str, area_code: str) -> None:
    with runtime(ctx).transaction() as session:
        revoke_role(session, actor=actor(), username=user, role=role, area_code=area_code)
    console.print(_("Revoked {role} from {user} at {area}.", role=role, user=user, area=area_code))


@app.command("list", help=_("List the roles and their permissions, or one user's grants."))
def list_(ctx: typer.Context, user: str = typer.Argument(None)) -> None:
    rt = runtime(ctx)
    if user:
        with rt.transaction() as session:
            rows = user_grants(session, {user})
        table = Table(_("Role"), _("Area"))
        for _user, role, code, _path in rows:
            table.add_row(role, code)
    else:
        table = Table(_("Role"), _("Name"), _("Permissions"))
        for name, perms in sorted(desired_permissions(rt.settings).items()):
            label = BUILTIN_ROLES[name].label() if name in BUILTIN_ROLES else (rt.settings.roles[name].zh or name)
            table.add_row(name, label, ", ".join(sorted(perms)))
    console.print(table)
