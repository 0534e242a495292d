"""What a request carries once it is through the door: the caller and their grants."""

from __future__ import annotations

from dataclasses import dataclass

from jiceng.core.errors import forbidden
from jiceng.core.permissions.checker import Grants
from jiceng.core.users import User


@dataclass
class Caller:
    """The logged-in user, how they came in, and their compiled grants."""

    user: User
    grants: Grants
    via: str  # "session" or "token"

    @property
    def via_kind(self) -> str:
        """The provenance source of this caller's changes: the portal (cookie) or the API (token)."""
        return "portal" if self.via == "session" else "api"

    @property
    def username(self) -> str:
        return self.user.username

    def require(self, perm: str, area_path: str | None = None) -> None:
        """403 unless ``perm`` is held at ``area_path`` (or anywhere, when no area is given)."""
        ok = self.grants.allows(perm, area_path) if area_path is not None else self.grants.holds_anywhere(perm)
        if not ok:
            raise forbidden("You do not have the permission {perm} here.", perm=perm)
