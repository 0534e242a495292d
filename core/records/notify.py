"""Telling scenarios that a record changed (the ``record_changed`` hook), each only what it declared."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from jiceng.core.areas import Area
from jiceng.core.enablement import path_codes
from jiceng.core.records import validation
from jiceng.core.records.service import text
from jiceng.core.records.tables import TableSpec
from jiceng.plugins.manifest import Manifest
from jiceng.plugins.registrations import Bindable

TOWN_DEPTH = 3


@dataclass(frozen=True)
class RecordChanges(Bindable):
    """All changed fields; each scenario's hook receives only the fields its manifest declares."""

    table: str
    changes: tuple[tuple[str, str | None, str | None, str], ...]
    manifest_of: Callable[[str], Manifest | None] = field(repr=False, compare=False)

    def bind_scenario(self, scenario_id: str) -> list[tuple[str, str | None, str | None, str]]:
        manifest = self.manifest_of(scenario_id)
        if manifest is None:  # the core's own defaults see everything (masked)
            return list(self.changes)
        declared = manifest.declared_fields(self.table)
        return [c for c in self.changes if c[0] in declared]


def masked(spec: TableSpec, name: str, value: Any) -> str | None:
    shown = text(value)
    if shown is None or name not in spec.personal:
        return shown
    return validation.mask_id_number(shown) if name == "id_number" else validation.mask_phone(shown)


def notify(
    host: Any,
    session: Session,
    caller: Any,
    spec: TableSpec,
    record: Any,
    changes: Mapping[str, tuple[Any, Any]],
    source: str,
) -> None:
    """Call ``record_changed`` for the scenarios enabled in the record's town, after the change is committed."""
    codes = path_codes(record.area_path)
    town = session.get(Area, codes[TOWN_DEPTH - 1]) if len(codes) >= TOWN_DEPTH else None
    if town is None or not changes:
        return
    context, state = host.town_context(town=town, caller=caller, session=session)
    rows = tuple(
        (name, masked(spec, name, old), masked(spec, name, new), source) for name, (old, new) in changes.items()
    )
    host.hooks(state).record_changed(
        record=(spec.name, record.id), changes=RecordChanges(spec.name, rows, host.manifest), context=context
    )
