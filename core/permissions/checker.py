"""Fast permission checks and row scoping, compiled from the Casbin policy.

A plain Casbin enforcer evaluates its matcher against every policy row and,
with hierarchical domains, walks every domain it knows: tens of milliseconds
at ten thousand users. jiceng compiles each user's grants once into
``permission → area paths`` (:class:`Grants`) and keeps that per user until a
``policy_change`` row says their grants changed. A check is then a handful of
``str.startswith`` calls, and the same compiled paths become the SQL filter
for list queries, so a list is never filtered row by row. A property test
holds this checker to Casbin's own answers on the stored policy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement
from sqlmodel import Session

from jiceng.core.areas import within
from jiceng.core.permissions.catalog import ALL, CORE_PERMISSIONS
from jiceng.core.permissions.store import changed_users_since, latest_change, role_permissions, user_grants


def widened(perm: str, area_path: str) -> str:
    """The path a grant of ``perm`` at ``area_path`` reaches (see ``Permission.widen_to_depth``)."""
    permission = CORE_PERMISSIONS.get(perm)
    depth = permission.widen_to_depth if permission else None
    if depth is None:
        return area_path
    codes = [c for c in area_path.split("/") if c]
    return "/" + "/".join(codes[:depth]) + "/" if len(codes) > depth else area_path


@dataclass(frozen=True)
class Grant:
    role: str
    area_code: str
    area_path: str


@dataclass
class Grants:
    """One user's compiled grants: for each permission, the area paths it covers (``*`` already merged in)."""

    username: str
    grants: tuple[Grant, ...] = ()
    by_perm: dict[str, tuple[str, ...]] = field(default_factory=dict)
    everywhere: tuple[str, ...] = ()  # paths where the user holds ``*``

    @classmethod
    def compile(cls, username: str, grants: Iterable[Grant], role_perms: dict[str, set[str]]) -> Grants:
        by_perm: dict[str, list[str]] = {}
        grants = tuple(grants)
        for grant in grants:
            for perm in role_perms.get(grant.role, ()):
                by_perm.setdefault(perm, []).append(widened(perm, grant.area_path))
        everywhere = tuple(by_perm.pop(ALL, ()))
        return cls(username, grants, {p: (*paths, *everywhere) for p, paths in by_perm.items()}, everywhere)

    def paths(self, perm: str) -> tuple[str, ...]:
        """Area paths where ``perm`` is held (directly or through ``*``)."""
        return self.by_perm.get(perm, self.everywhere)

    def allows(self, perm: str, area_path: str) -> bool:
        return area_path.startswith(self.paths(perm))

    def reaches(self, perm: str, area_path: str) -> bool:
        """Held at the area, above it, or somewhere inside it: enough to open a town's scenario."""
        return any(area_path.startswith(p) or p.startswith(area_path) for p in self.paths(perm))

    def holds_anywhere(self, perm: str) -> bool:
        return bool(self.paths(perm))

    def filter(self, perm: str, path_column: ColumnElement[str] | object) -> ColumnElement[bool]:
        """SQL: rows whose area path lies where ``perm`` is held; nothing when it is held nowhere."""
        return within(path_column, self.paths(perm))


class Authorizer:
    """The process-wide permission checker; thread-safe, one per app.

    Every invalidation bumps ``_generation``; a compile that started before an
    invalidation is not cached, so a grant revoked while another request was
    compiling the same user's grants cannot survive in the cache.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._role_perms: dict[str, set[str]] = {}
        self._cache: dict[str, Grants] = {}
        self._seen_change = -1
        self._generation = 0

    def refresh(self, session: Session, latest: int | None = None) -> None:
        """Catch up with grants changed by this or any other worker; one indexed query when nothing did.

        ``latest`` is the newest change when the caller has read it already (:mod:`jiceng.core.freshness`).
        """
        latest = latest_change(session) if latest is None else latest
        if latest == self._seen_change:
            return
        with self._lock:
            changed = changed_users_since(session, self._seen_change) if self._seen_change >= 0 else {""}
            self._generation += 1
            if "" in changed:
                self._role_perms = role_permissions(session)
                self._cache.clear()
            else:
                for username in changed:
                    self._cache.pop(username, None)
            self._seen_change = max(latest, self._seen_change)

    def grants(self, session: Session, username: str) -> Grants:
        cached = self._cache.get(username)
        if cached is not None:
            return cached
        generation = self._generation
        rows = user_grants(session, {username})
        compiled = Grants.compile(username, (Grant(role, code, path) for _, role, code, path in rows), self._role_perms)
        with self._lock:
            if generation == self._generation:
                self._cache[username] = compiled
        return compiled

    def preload(self, session: Session) -> None:
        """Compile everyone's grants at once (one query), e.g. for benchmarks or a warm start."""
        generation = self._generation
        per_user: dict[str, list[Grant]] = {}
        for username, role, code, path in user_grants(session):
            per_user.setdefault(username, []).append(Grant(role, code, path))
        compiled = {u: Grants.compile(u, g, self._role_perms) for u, g in per_user.items()}
        with self._lock:
            if generation == self._generation:
                self._cache.update(compiled)
