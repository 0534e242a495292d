"""Granting and revoking roles, and keeping the roles' permissions in line with config.

Every change is validated (the user, role and area must exist), written in the
caller's transaction together with its audit entry, and announced through
``policy_change`` so every worker reloads the affected user's grants.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from jiceng.core import audit
from jiceng.core.areas import get_area
from jiceng.core.config import Settings
from jiceng.core.errors import FieldError, bad_request, not_found
from jiceng.core.i18n import both
from jiceng.core.permissions.catalog import ALL, BUILTIN_ROLES, CORE_PERMISSIONS
from jiceng.core.permissions.store import add_grant, remove_grant, sync_role_permissions
from jiceng.core.users import get_user
from jiceng.plugins.manifest import PermissionDecl


def role_names(settings: Settings) -> set[str]:
    return set(BUILTIN_ROLES) | set(settings.roles)


def desired_permissions(settings: Settings, declared: Iterable[PermissionDecl] = ()) -> dict[str, set[str]]:
    """Built-in defaults, the defaults scenarios declare, and the config's additions.

    Unknown permission names in the config are errors naming the key.
    """
    declared = list(declared)
    known_names = set(CORE_PERMISSIONS) | {d.name for d in declared} | {ALL}
    desired = {name: set(role.permissions) for name, role in BUILTIN_ROLES.items()}
    for decl in declared:
        for role in decl.roles:
            desired.setdefault(role, set()).add(decl.name)
    problems = []
    for name, role in settings.roles.items():
        for index, perm in enumerate(role.permissions):
            if perm not in known_names:
                problems.append(
                    FieldError(f"roles.{name}.permissions[{index}]", *both("Unknown permission {perm}.", perm=perm))
                )
        desired.setdefault(name, set()).update(role.permissions)
    if problems:
        raise bad_request("The role settings name unknown permissions.", fields=problems)
    return desired


def sync_roles(session: Session, settings: Settings, declared: Iterable[PermissionDecl] = ()) -> bool:
    return sync_role_permissions(session, desired_permissions(settings, declared))


def grant_role(
    session: Session, settings: Settings, *, actor: str, username: str, role: str, area_code: str, address: str = ""
) -> bool:
    """Grant ``role`` at ``area_code``; False when the user already held it there."""
    _check_role(settings, role)
    user = get_user(session, username)
    area = get_area(session, area_code)
    added = add_grant(session, username=user.username, role=role, area_code=area.code)
    if added:
        audit.record(
            session,
            actor=actor,
            action="role.grant",
            target_type="user",
            target_id=user.username,
            address=address,
            detail={"role": role, "area": area.code},
        )
    return added


def revoke_role(session: Session, *, actor: str, username: str, role: str, area_code: str, address: str = "") -> None:
    """Revoke a grant; 404 when the user did not hold that role there."""
    user = get_user(session, username)
    if not remove_grant(session, username=user.username, role=role, area_code=area_code):
        raise not_found("{username} does not hold {role} at {area}.", username=username, role=role, area=area_code)
    audit.record(
        session,
        actor=actor,
        action="role.revoke",
        target_type="user",
        target_id=user.username,
        address=address,
        detail={"role": role, "area": area_code},
    )


def _check_role(settings: Settings, role: str) -> None:
    if role not in role_names(settings):
        raise bad_request(
            "Unknown role {role}; known roles: {roles}.",
            fields=[FieldError("role", *both("Unknown role {role}.", role=role))],
            role=role,
            roles=", ".join(sorted(role_names(settings))),
        )
