"""Scenario extension fields on the base tables: declared in the manifest, stored in the record's ``extra``.

A scenario that needs, say, a hazard level per house declares it
(``ExtraFieldDecl(table="house", name="hazard_level", kind="choice", …)``)
instead of keeping its own copy of the house table. The value is stored as
``extra["{scenario}.{name}"]``, typed and validated by the declaration, written
with the same version check and provenance as any other field (history
shows ``extra.safety.hazard_level``), and filterable in SQL on both SQLite
and PostgreSQL (a JSON path comparison).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, and_, cast
from sqlmodel import Session

from jiceng.core.errors import invalid_field
from jiceng.core.forms import check_values
from jiceng.core.records import service
from jiceng.core.records.tables import TableSpec
from jiceng.plugins.manifest import Manifest


def key(scenario_id: str, name: str) -> str:
    return f"{scenario_id}.{name}"


def own_values(manifest: Manifest, spec: TableSpec, record: Any) -> dict[str, object]:
    """The scenario's own extension values of ``record``, by bare name (other scenarios' keys stay hidden)."""
    stored = record.extra or {}
    return {f.name: stored.get(key(manifest.id, f.name)) for f in manifest.extensions(spec.name)}


def set_values(
    session: Session,
    manifest: Manifest,
    spec: TableSpec,
    record: Any,
    values: dict[str, object],
    *,
    version: int,
    source: service.Source,
) -> list[str]:
    """Change some of the scenario's extension values; 409 on a stale version. Returns the names changed."""
    declared = manifest.extensions(spec.name)
    if not declared:
        raise invalid_field(
            "extra",
            "Scenario {scenario} declares no extension fields on {table}.",
            scenario=manifest.id,
            table=spec.name,
        )
    if record.version != version:
        raise service.stale(record.version, version)
    cleaned = check_values(declared, values, prefix="extra", partial=True)
    merged = dict(record.extra or {})
    history: dict[str, tuple[Any, Any]] = {}
    for name, value in cleaned.items():
        stored = key(manifest.id, name)
        if merged.get(stored) == value:
            continue
        history[f"extra.{stored}"] = (merged.get(stored), value)
        if value is None:
            merged.pop(stored, None)
        else:
            merged[stored] = value
    if history:
        service.write_version(session, spec, record, version, {"extra": merged})
        service.record_provenance(session, spec, record.id, history, source)
    return [name.rsplit(".", 1)[-1] for name in history]


def condition(manifest: Manifest, spec: TableSpec, wanted: dict[str, object]) -> ColumnElement[bool]:
    """SQL: the record's extension values equal ``wanted`` (typed by the declaration first)."""
    declared = {f.name: f for f in manifest.extensions(spec.name)}
    cleaned = check_values(declared.values(), wanted, prefix="extra", partial=True)
    column = spec.model.extra  # type: ignore[attr-defined]
    parts = []
    for name, value in cleaned.items():
        path = column[key(manifest.id, name)]
        if declared[name].kind == "number":
            parts.append(cast(path.as_string(), Float) == value)
        else:
            parts.append(path.as_string() == value)
    return and_(*parts)
