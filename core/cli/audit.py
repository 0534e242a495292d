"""``jiceng audit``: check the hash chain."""

from __future__ import annotations

import typer

from jiceng.core import audit as audit_log
from jiceng.core.cli.runtime import console, fail_message, runtime
from jiceng.core.i18n import _

app = typer.Typer(help=_("The tamper-evident audit log."), no_args_is_help=True)


@app.command("verify", help=_("Walk the audit chain; report the first broken entry and exit non-zero."))
def verify(ctx: typer.Context) -> None:
    with runtime(ctx).transaction() as session:
        verdict = audit_log.verify(session)
    if verdict.ok:
        console.print(
            _("The audit log is intact: {n} entries; newest hash {hash}.", n=verdict.checked, hash=verdict.head_hash)
        )
        return
    if verdict.broken_at is None:
        fail_message(
            "The newest entries were removed or the head was altered: {n} entries check out, but the head disagrees.",
            n=verdict.checked,
        )
    if verdict.reason == "content":
        fail_message(
            "The audit log is broken at entry {id}: its content was altered; {n} entries before it check out.",
            id=verdict.broken_at,
            n=verdict.checked,
        )
    fail_message(
        "The audit log is broken at entry {id}: its link to the previous entry is wrong; {n} entries before it check out.",
        id=verdict.broken_at,
        n=verdict.checked,
    )
