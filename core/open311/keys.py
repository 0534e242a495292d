"""Open311 clients and their API keys: a key is shown once, only its SHA-256 is kept.

A key is a random 256-bit token; looking it up by its hash needs no
constant-time comparison (the hash is the index). Creating and revoking a
client is audited by the caller's action name ``open311.key`` / ``open311.revoke``.

A client is bound to an area (a town, or a district or city for an app that
serves several): its requests are refused in towns outside it. The admin page
binds every client it makes to an area where its user holds ``events:manage``;
only the command line, which the server's operator runs, makes a client that
posts anywhere.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlmodel import Session, col, select

from jiceng.core import audit
from jiceng.core.areas import Area, AreaLevel
from jiceng.core.db import utcnow
from jiceng.core.errors import conflict, invalid_field, not_found
from jiceng.core.events.models import Open311Client

PREFIX = "o311_"
#: The client's name becomes the events' reporter and source (64 characters at most there).
NAME = re.compile(r"^[\w][\w.-]{1,63}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def get_client(session: Session, name: str) -> Open311Client:
    found = session.exec(select(Open311Client).where(col(Open311Client.name) == name)).first()
    if found is None:
        raise not_found("No Open311 client {name}.", name=name)
    return found


def create_client(
    session: Session, *, name: str, actor: str, area: Area | None, address: str = ""
) -> tuple[Open311Client, str]:
    """A new client posting in the towns under ``area`` (``None``: anywhere) and its key (shown once, never again)."""
    name = name.strip()
    if not NAME.match(name):
        raise invalid_field("name", "Use 2–64 letters, digits, '.', '_' or '-' for a client's name.")
    if session.exec(select(Open311Client.id).where(col(Open311Client.name) == name)).first() is not None:
        raise conflict("There is already an Open311 client {name}.", name=name)
    key = new_key()
    if area is not None and area.level not in (AreaLevel.city, AreaLevel.district, AreaLevel.town):
        raise invalid_field("area", "Choose a town, district or city, not {area}.", area=area.code)
    client = Open311Client(
        name=name,
        key_hash=hash_key(key),
        created_by=actor,
        area_code=area.code if area else None,
        area_path=area.path if area else None,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="open311.key",
        target_type="open311_client",
        target_id=name,
        address=address,
        detail={"area": area.code if area else "*"},
    )
    return client, key


def revoke_client(session: Session, *, name: str, actor: str, address: str = "") -> Open311Client:
    """Stop the client's key from working; revoking twice keeps the first time."""
    client = get_client(session, name)
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        session.add(client)
        audit.record(
            session,
            actor=actor,
            action="open311.revoke",
            target_type="open311_client",
            target_id=name,
            address=address,
        )
    return client


def list_clients(session: Session) -> list[Open311Client]:
    return list(session.exec(select(Open311Client).order_by(col(Open311Client.name))).all())


def may_post_in(client: Open311Client, town: Area) -> bool:
    return client.area_path is None or town.path.startswith(client.area_path)


def client_for_key(session: Session, key: str | None) -> Open311Client | None:
    """The active client holding ``key``, or None for a missing, unknown or revoked key."""
    if not key:
        return None
    client = session.exec(select(Open311Client).where(col(Open311Client.key_hash) == hash_key(key))).first()
    if client is None or client.revoked_at is not None:
        return None
    return client
