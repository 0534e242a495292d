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
    """A permission; ``widen_to`` lets a grant below that level reach the whole area at that level.

    That is how reach differs by action (as DHIS2 separates capture and search
    scopes): a grid worker edits their grid's people but searches their whole
    community for someone who moved.
    """

    name: str
    msgid: str
    widen_to_depth: int | None = None  # 4 = community (city 1, district 2, town 3, community 4, grid 5)

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
        Permission("records:view", N_("See people, houses and organisations")),
        Permission("records:edit", N_("Add and change people, houses and organisations")),
        Permission(
            "records:search", N_("Search people, houses and organisations across the community"), widen_to_depth=4
        ),
        Permission("records:export", N_("Export people, houses and organisations")),
        Permission("events:report", N_("Report events")),
        Permission("events:view", N_("See the events of an area")),
        Permission("events:dispatch", N_("Accept, dispatch, escalate events and approve extensions (command centre)")),
        Permission("events:handle", N_("Handle events dispatched to one's department")),
        Permission("events:verify", N_("Verify and close handled events, or send them back")),
        Permission("events:supervise", N_("Urge events on (supervision)")),
        Permission("events:assess", N_("See the assessment of departments, grid workers and areas")),
        Permission("events:manage", N_("Manage departments, dispatch rules and Open311 clients")),
    )
}

_STAFF = {"areas:read", "records:view", "records:search", "events:view", "events:report"}

BUILTIN_ROLES = {
    r.name: r
    for r in (
        Role("admin", N_("Platform administrator"), frozenset({ALL})),
        Role(
            "town_admin",
            N_("Town administrator"),
            frozenset(
                _STAFF
                | {"areas:manage", "users:read", "users:manage", "roles:grant", "audit:read", "scenarios:manage"}
                | {"records:edit", "records:export", "pii:view", "events:assess", "events:manage"}
            ),
        ),
        Role(
            "dispatcher",
            N_("Command-centre dispatcher"),
            frozenset(_STAFF | {"users:read", "events:dispatch", "events:verify", "events:supervise", "events:assess"}),
        ),
        Role("handler", N_("Department handler"), frozenset(_STAFF | {"events:handle"})),
        Role("grid_worker", N_("Grid worker"), frozenset(_STAFF | {"records:edit"})),
        Role("leader", N_("Leader"), frozenset(_STAFF | {"users:read", "events:supervise", "events:assess"})),
        Role("resident", N_("Resident"), frozenset({"events:report"})),
    )
}
