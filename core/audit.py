"""The audit log: append-only and hash-chained, so tampering shows.

Each entry stores the SHA-256 of its own content together with the previous
entry's hash. Editing or deleting an entry in the middle breaks the chain at
that point. Deleting the newest entries leaves a shorter chain that is still
consistent, so a one-row head table records the count and hash of the newest
entry; it is updated in the same transaction as every append, and updating it
first also serialises concurrent writers (a row lock on PostgreSQL, the write
lock on SQLite). Someone who can rewrite the whole table *and* the head can
still forge history: ``jiceng audit verify`` prints the head hash so it can be
recorded outside the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Column, bindparam, insert, update
from sqlmodel import Field, Session, SQLModel, col, select

from jiceng.core.db import pipelined, utcnow

GENESIS = "0" * 64


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64, index=True)
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(default="", max_length=64)
    target_id: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=64)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # type: ignore[type-arg]
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's newest entry, so deleting it can be noticed."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    count: int = 0
    last_hash: str = Field(default=GENESIS, max_length=64)


def entry_hash(
    prev_hash: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    address: str,
    detail: Mapping[str, object],
) -> str:
    payload = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, target_type, target_id, address, detail],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


HEAD = AuditHead.__table__  # type: ignore[attr-defined]
BUMP_HEAD = update(HEAD).where(HEAD.c.id == 1).values(count=HEAD.c.count + 1).returning(HEAD.c.last_hash)
INSERT_ENTRY = insert(AuditEntry.__table__).inline()  # type: ignore[attr-defined]
SET_HEAD = update(HEAD).where(HEAD.c.id == 1).values(last_hash=bindparam("digest"))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str = "",
    target_id: str = "",
    address: str = "",
    detail: Mapping[str, object] | None = None,
) -> None:
    """Append one entry in the caller's transaction. Never put ID numbers or phones in ``detail``."""
    with recording(
        session, actor=actor, action=action, target_type=target_type, target_id=target_id, address=address,
        detail=detail,
    ):  # fmt: skip
        pass


@contextmanager
def recording(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str = "",
    target_id: str = "",
    address: str = "",
    detail: Mapping[str, object] | None = None,
) -> Iterator[None]:
    """:func:`record`, with the caller's own result-less statements sent in the same round trip as the entry.

    Three plain statements, built once, no ORM objects (every write request pays
    for this): bump the head and read the newest hash in one ``UPDATE …
    RETURNING``, which also takes the write lock first so concurrent writers
    queue here; then, sent together (:func:`jiceng.core.db.pipelined`) with
    whatever the block runs, insert the entry and store its hash as the newest.
    The head stays locked until the commit, so the less comes after it, the
    sooner the next writer goes on.
    """
    prev = session.execute(BUMP_HEAD).scalar_one_or_none()
    if prev is None:
        session.execute(insert(HEAD).values(id=1, count=1, last_hash=GENESIS))
        prev = GENESIS
    fields = {
        "at": utcnow(),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "address": address,
        "detail": dict(detail or {}),
    }
    digest = entry_hash(prev, **fields)  # type: ignore[arg-type]
    with pipelined(session):
        session.execute(INSERT_ENTRY, {**fields, "prev_hash": prev, "hash": digest})
        session.execute(SET_HEAD, {"digest": digest})
        yield


@dataclass
class Verdict:
    ok: bool
    checked: int
    head_hash: str
    broken_at: int | None = None
    reason: str = ""


def verify(session: Session, *, batch: int = 5000) -> Verdict:
    """Walk the chain in id order; the first entry whose hash or link is wrong is reported."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(col(AuditEntry.id) > last_id).order_by(col(AuditEntry.id)).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.prev_hash != prev:
                return Verdict(False, checked, prev, entry.id, "link")
            expected = entry_hash(
                prev,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                address=entry.address,
                detail=entry.detail,
            )
            if entry.hash != expected:
                return Verdict(False, checked, prev, entry.id, "content")
            prev = entry.hash
            checked += 1
            last_id = entry.id  # type: ignore[assignment]
        session.expunge_all()
    head = session.get(AuditHead, 1) or AuditHead()
    if head.count != checked or head.last_hash != prev:
        return Verdict(False, checked, prev, None, "head")
    return Verdict(True, checked, prev)
