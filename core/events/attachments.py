"""Photos and documents of events, behind one small interface so an object store can replace the disk.

The type is decided from the file's first bytes, never from the name or the
header the client sent, and the size is checked while reading, so a large
upload is refused before it is all in memory.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlmodel import Session

from jiceng.core import audit
from jiceng.core.config import AttachmentSettings
from jiceng.core.errors import invalid_field
from jiceng.core.events.models import EventAttachment

SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
CHUNK = 64 * 1024


class AttachmentStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class DiskStore:
    """Files under one folder, named by random keys (never by the uploaded name)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def sniff(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def read_checked(stream: BinaryIO, rules: AttachmentSettings) -> tuple[bytes, str]:
    """The upload's bytes and real type, or 422 naming the field ``file``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > rules.max_bytes:
            raise invalid_field("file", "The file is larger than {limit} MB.", limit=round(rules.max_bytes / 2**20, 1))
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise invalid_field("file", "The file is empty.")
    kind = sniff(data[:16])
    if kind is None or kind not in rules.content_types:
        raise invalid_field(
            "file", "Only these kinds of file are accepted: {kinds}.", kinds=", ".join(rules.content_types)
        )
    return data, kind


def new_key() -> str:
    return secrets.token_hex(16)


def keep(
    session: Session,
    store: AttachmentStore,
    *,
    event_id: int,
    filename: str,
    data: bytes,
    kind: str,
    actor: str,
    address: str = "",
) -> EventAttachment:
    """Keep one checked file of an event: the bytes in the store, the row and the audit entry in the transaction."""
    key = new_key()
    store.put(key, data)
    row = EventAttachment(
        event_id=event_id,
        key=key,
        filename=(filename or "file")[-200:],
        content_type=kind,
        size=len(data),
        uploaded_by=actor,
    )
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="event.attach",
        target_type="event",
        target_id=str(event_id),
        address=address,
        detail={"file": row.filename, "size": row.size},
    )
    return row
