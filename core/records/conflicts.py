"""Reviewing conflicts (一数一源): a value a lower-authority source sent is kept aside until someone decides.

Accepting applies the proposed value as its original source sent it (the
history names that source and the conflict), with the record's version
check; keeping the current value just closes the conflict. Either way the
decision is audited, and personal values are shown masked unless the
reviewer may see them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from jiceng.core import audit
from jiceng.core.db import utcnow
from jiceng.core.errors import bad_request, conflict, describe_pydantic, not_found
from jiceng.core.records import service, validation
from jiceng.core.records.models import FieldConflict
from jiceng.core.records.schemas import HousePatch, OrganisationPatch, PersonPatch
from jiceng.core.records.tables import TABLES, TableSpec
from jiceng.core.web.context import Caller

PATCHES = {"person": PersonPatch, "house": HousePatch, "organisation": OrganisationPatch}


def open_for(session: Session, spec: TableSpec, record_id: int) -> list[FieldConflict]:
    return list(
        session.exec(
            select(FieldConflict)
            .where(
                col(FieldConflict.record_type) == spec.name,
                col(FieldConflict.record_id) == record_id,
                col(FieldConflict.resolved_at).is_(None),
            )
            .order_by(col(FieldConflict.id))
        ).all()
    )


def shown(spec: TableSpec, item: FieldConflict, *, reveal: bool) -> dict[str, Any]:
    """The conflict as a reviewer sees it; ID numbers and phones masked unless ``reveal``."""

    def value(text: str | None) -> str | None:
        if text is None or reveal or item.field not in spec.personal:
            return text
        return validation.mask_id_number(text) if item.field == "id_number" else validation.mask_phone(text)

    return {
        "id": item.id,
        "field": item.field,
        "current": value(item.current),
        "proposed": value(item.proposed),
        "source": item.source,
        "source_ref": item.source_ref,
        "actor": item.actor,
        "at": item.at,
    }


def resolve(session: Session, caller: Caller, conflict_id: int, *, accept: bool, address: str = "") -> FieldConflict:
    """Accept the proposed value or keep the current one; the caller commits."""
    item = session.get(FieldConflict, conflict_id)
    if item is None:
        raise not_found("No conflict {id}.", id=conflict_id)
    caller.require("records:edit", item.area_path)
    if item.resolved_at is not None:
        raise conflict("This conflict was already decided ({resolution}).", resolution=item.resolution)
    spec = TABLES[item.record_type]
    record = service.get_record(session, spec, item.record_id)
    if accept:
        try:
            patch = PATCHES[spec.name](**{item.field: item.proposed, "version": record.version})
        except ValidationError as exc:
            raise bad_request("Some fields are not valid.", fields=describe_pydantic(exc.errors())) from exc
        new = getattr(patch, item.field)
        old = getattr(record, item.field)
        service.write_version(session, spec, record, record.version, {item.field: new})
        source = service.Source(item.source, caller.username, f"conflict {item.id} ({item.source_ref})")
        service.record_provenance(session, spec, item.record_id, {item.field: (old, new)}, source)
    item.resolved_at = utcnow()
    item.resolution = "accepted" if accept else "rejected"
    session.add(item)
    audit.record(
        session,
        actor=caller.username,
        action=f"conflict.{item.resolution}",
        target_type=spec.name,
        target_id=str(item.record_id),
        address=address,
        detail={"conflict": item.id, "field": item.field, "source": item.source},
    )
    return item
