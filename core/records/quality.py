"""Data quality per area: what is missing, stale, disputed or probably duplicated.

Every figure is one aggregate query over the caller's scope, so the page
stays fast at millions of rows: completeness is ``count(column)`` against
``count(*)``, duplicates are a ``GROUP BY name, birth_date HAVING count > 1``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, func
from sqlmodel import AutoString, Session, col, select

from jiceng.core.db import utcnow
from jiceng.core.records.models import FieldConflict, Person
from jiceng.core.records.tables import TABLES, TableSpec

MAX_DUPLICATES = 100


def filled(column: Any) -> Any:
    """``count`` of the non-empty values: NULLIF turns empty text into NULL, which ``count`` skips."""
    return func.count(func.nullif(column, "")) if isinstance(column.type, String | AutoString) else func.count(column)


def completeness(session: Session, spec: TableSpec, scope: ColumnElement[bool]) -> dict[str, Any]:
    model = spec.model
    live = and_(scope, col(model.deleted_at).is_(None))  # type: ignore[attr-defined]
    total, *counts = session.exec(
        select(func.count(), *(filled(col(getattr(model, f))) for f in spec.fields)).where(live)
    ).one()
    return {
        "total": total,
        "fields": {
            f: {"filled": n, "share": round(n / total, 4) if total else None}
            for f, n in zip(spec.fields, counts, strict=True)
        },
    }


def stale(session: Session, spec: TableSpec, scope: ColumnElement[bool], days: int) -> int:
    model = spec.model
    since = utcnow() - timedelta(days=days)
    return session.exec(
        select(func.count())
        .select_from(model)
        .where(scope, col(model.deleted_at).is_(None), col(model.updated_at) < since)
    ).one()  # type: ignore[attr-defined]


def open_conflicts(session: Session, scope: ColumnElement[bool]) -> list[dict[str, Any]]:
    rows = session.exec(
        select(FieldConflict)
        .where(scope, col(FieldConflict.resolved_at).is_(None))
        .order_by(col(FieldConflict.id))
        .limit(200)
    ).all()
    return [
        {
            "id": c.id,
            "table": c.record_type,
            "record_id": c.record_id,
            "field": c.field,
            "source": c.source,
            "source_ref": c.source_ref,
            "actor": c.actor,
            "at": c.at,
        }
        for c in rows
    ]


def duplicate_people(session: Session, scope: ColumnElement[bool]) -> list[dict[str, Any]]:
    """People sharing a name and a birth date: probably one person entered twice."""
    query = (
        select(Person.name, Person.birth_date, func.count(), func.min(Person.id), func.max(Person.id))
        .where(scope, col(Person.deleted_at).is_(None), col(Person.birth_date).is_not(None))
        .group_by(col(Person.name), col(Person.birth_date))
        .having(func.count() > 1)
        .limit(MAX_DUPLICATES)
    )
    return [{"name": n, "birth_date": b, "count": c, "ids": [lo, hi]} for n, b, c, lo, hi in session.exec(query).all()]


def report(
    session: Session, scopes: dict[str, ColumnElement[bool]], conflict_scope: ColumnElement[bool], *, stale_days: int
) -> dict[str, Any]:
    """The whole quality report; ``scopes`` maps table name → the caller's filter on that table."""
    return {
        "tables": {
            name: completeness(session, TABLES[name], scope)
            | {"not_updated": stale(session, TABLES[name], scope, stale_days)}
            for name, scope in scopes.items()
        },
        "stale_days": stale_days,
        "conflicts": open_conflicts(session, conflict_scope),
        "duplicates": duplicate_people(session, scopes["person"]),
    }
