"""The core's permissions and the built-in roles with their default permissions.

Permissions are ``resource:action`` names. Scenarios will declare their own
(the plugin contract); a town's config may add permissions to a role
(``[roles.handler] permissions = [...]``) but never takes the defaults away.
"""

from __future__ import annotations

from dataclasses import dataclass

from jiceng.core.i18n import N_, _

ALL = "*"


@dataclass(frozen=True)
class Permission:
    name: str
    msgid: str

    def label(self) -> str:
        return _(self.msgid)


@dataclass(frozen=True)
class Role:
    name: str
    msgid: str
    permissions: frozenset[str]

    def label(self) -> str:
        return _(self.msgid)


CORE_PERMISSIONS = {
    p.name: p
    for p in (
        Permission("areas:read", N_("Read the area tree")),
        Permission("areas:manage", N_("Import and edit areas")),
        Permission("users:read", N_("See users and their roles")),
        Permission("users:manage", N_("Create and deactivate users")),
        Permission("roles:grant", N_("Grant and revoke roles")),
        Permission("audit:read", N_("Read the audit log")),
        Permission("pii:view", N_("See full ID numbers and phone numbers")),
        Permission("scenarios:manage", N_("Enable scenarios for a town and set their settings")),
    )
}

_STAFF = {"areas:read"}

BUILTIN_ROLES = {
    r.name: r
    for r in (
        Role("admin", N_("Platform administrator"), frozenset({ALL})),
        Role(
            "town_admin",
            N_("Town administrator"),
            frozenset(
                _STAFF | {"areas:manage", "users:read", "users:manage", "roles:grant", "audit:read", "scenarios:manage"}
            ),
        ),
        Role("dispatcher", N_("Command-centre dispatcher"), frozenset(_STAFF | {"users:read"})),
        Role("handler", N_("Department handler"), frozenset(_STAFF)),
        Role("grid_worker", N_("Grid worker"), frozenset(_STAFF)),
        Role("leader", N_("Leader"), frozenset(_STAFF | {"users:read"})),
        Role("resident", N_("Resident"), frozenset()),
    )
}
