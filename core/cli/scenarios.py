"""``jiceng scenarios``: what is installed, what it declares, where it is on."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from jiceng.core.areas import get_area
from jiceng.core.cli.runtime import actor, console, fail_message, runtime
from jiceng.core.i18n import _, current_locale

app = typer.Typer(help=_("Installed scenarios and where they are switched on."), no_args_is_help=True)


def pick(zh: str, en: str) -> str:
    return en if current_locale() == "en" else zh


@app.command("list", help=_("List installed scenarios with version, status and the towns that enable them."))
def list_(ctx: typer.Context) -> None:
    rt = runtime(ctx)
    host = rt.host
    table = Table(_("ID"), _("Version"), _("Name"), _("Source"), _("Status"), _("Towns"))
    with rt.transaction() as session:
        for sid, scenario in sorted(host.scenarios.items()):
            towns = host.towns_enabling(session, sid)
            health = host.manager.health[sid]
            table.add_row(
                sid,
                scenario.manifest.version,
                pick(scenario.manifest.name_zh, scenario.manifest.name_en),
                scenario.source,
                _("Degraded") if health.failures else _("OK"),
                ", ".join(towns) or "—",
            )
    for refusal in host.manager.refused:
        table.add_row(refusal.name, "", "", "", _("Refused"), refusal.code)
    console.print(table)


@app.command(
    "show",
    help=_("Show a scenario's declaration: permissions, event types, settings and the personal data it uses and why."),
)
def show(ctx: typer.Context, scenario_id: str) -> None:
    host = runtime(ctx).host
    manifest = host.manifest(scenario_id)
    if manifest is None:
        fail_message("No scenario {id} is installed (or it was refused).", id=scenario_id)
    console.print(f"[bold]{manifest.id}[/bold] {manifest.version} — {pick(manifest.name_zh, manifest.name_en)}")
    console.print(pick(manifest.description_zh, manifest.description_en))
    console.print(
        _(
            "Platform: {platform}; kind: {kind}; supports jiceng {requires}.",
            platform=manifest.platform.value,
            kind=manifest.kind.value,
            requires=manifest.requires,
        )
    )
    perms = Table(_("Permission"), _("Name"), _("Default roles"), title=_("Permissions"))
    for p in manifest.permissions:
        perms.add_row(p.name, pick(p.zh, p.en), ", ".join(p.roles))
    console.print(perms)
    if manifest.event_types:
        events = Table(_("Event type"), _("Name"), _("Deadline"), _("Department"), title=_("Event types"))
        for event in manifest.event_types:
            deadline = (
                _("{n} working days", n=event.deadline_days)
                if event.deadline_days
                else _("{n} working hours", n=event.deadline_hours)
            )
            events.add_row(event.code, pick(event.zh, event.en), deadline, event.department or "—")
        console.print(events)
    fields = Table(_("Field"), _("Access"), _("Purpose"), title=_("Personal data it uses"))
    for f in manifest.fields:
        fields.add_row(
            f"{f.table}.{f.field}", _("reads") if f.access == "read" else _("writes"), pick(f.purpose_zh, f.purpose_en)
        )
    console.print(fields if manifest.fields else _("Personal data it uses") + ": " + _("None."))
    if manifest.extra_fields:
        extra = Table(_("Field"), _("Name"), _("Kind"), title=_("Fields it adds to the base tables"))
        for f in manifest.extra_fields:
            extra.add_row(f"{f.table}.extra.{manifest.id}.{f.name}", pick(f.zh, f.en), f.kind)
        console.print(extra)
    if manifest.settings is not None:
        console.print(_("Settings:"))
        console.print_json(json.dumps(manifest.settings.model_json_schema().get("properties", {}), ensure_ascii=False))


def _switch(ctx: typer.Context, scenario_id: str, town: str, enabled: bool, settings: str | None) -> None:
    rt = runtime(ctx)
    values = None
    if settings:
        try:
            values = json.loads(settings)
        except json.JSONDecodeError:
            fail_message("--settings must be a JSON object.")
        if not isinstance(values, dict):
            fail_message("--settings must be a JSON object.")
    with rt.transaction() as session:
        rt.host.switch(
            session,
            scenario_id=scenario_id,
            town=get_area(session, town),
            enabled=enabled,
            actor=actor(),
            settings=values,
        )
    console.print(
        _("{id} is now on in {town}.", id=scenario_id, town=town)
        if enabled
        else _("{id} is now off in {town}.", id=scenario_id, town=town)
    )


@app.command("enable", help=_("Switch a scenario on for a town (takes effect without a restart)."))
def enable(
    ctx: typer.Context,
    scenario_id: str,
    town: Annotated[str, typer.Option("--town", help=_("The town's 12-digit code."))],
    settings: Annotated[
        str | None, typer.Option("--settings", help=_("The scenario's settings for this town, as JSON."))
    ] = None,
) -> None:
    _switch(ctx, scenario_id, town, True, settings)


@app.command("disable", help=_("Switch a scenario off for a town; its data is kept."))
def disable(
    ctx: typer.Context,
    scenario_id: str,
    town: Annotated[str, typer.Option("--town", help=_("The town's 12-digit code."))],
) -> None:
    _switch(ctx, scenario_id, town, False, None)
