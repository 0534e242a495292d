"""Where policies live: Casbin's rule table, written in the caller's transaction.

The table keeps casbin-sqlalchemy-adapter's shape (``ptype, v0…v5``) so the
standard tooling can read it, but with the indexes that adapter lacks, a
uniqueness constraint, and no ``save_policy`` (which would rewrite every row):
each grant or revocation is one row inserted or deleted, together with a row
in ``policy_change`` that tells every worker process whose grants to reload.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import casbin
from casbin import persist
from sqlalchemy import Engine, Index, UniqueConstraint, delete, insert
from sqlmodel import Field, Session, SQLModel, col, select

from jiceng.core.areas import Area
from jiceng.core.db import utcnow

MODEL_PATH = Path(__file__).with_name("model.conf")


class CasbinRule(SQLModel, table=True):
    __tablename__ = "casbin_rule"
    __table_args__ = (
        UniqueConstraint("ptype", "v0", "v1", "v2", name="uq_casbin_rule_ptype_v0_v1_v2"),
        Index("ix_casbin_rule_ptype_v1", "ptype", "v1"),
        Index("ix_casbin_rule_ptype_v2", "ptype", "v2"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ptype: str = Field(max_length=8)
    v0: str = Field(max_length=128)
    v1: str = Field(max_length=128)
    v2: str | None = Field(default=None, max_length=128)
    v3: str | None = Field(default=None, max_length=128)
    v4: str | None = Field(default=None, max_length=128)
    v5: str | None = Field(default=None, max_length=128)


class PolicyChange(SQLModel, table=True):
    """A change to the policy: ``username`` for a grant or revocation, empty for a role's permissions."""

    __tablename__ = "policy_change"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow)


def latest_change(session: Session) -> int:
    """The newest policy change. Asked on every request, so it skips SQL compilation: plain text that
    SQLite and PostgreSQL both run (the ORM path cost ~40 times the query itself, docs/performance.md)."""
    return session.connection().exec_driver_sql("SELECT coalesce(max(id), 0) FROM policy_change").scalar_one()


def changed_users_since(session: Session, change_id: int) -> set[str]:
    """Users whose grants changed after ``change_id``; ``""`` in the set means "everyone"."""
    return set(session.exec(select(PolicyChange.username).where(col(PolicyChange.id) > change_id)).all())


def add_grant(session: Session, *, username: str, role: str, area_code: str) -> bool:
    """Insert ``g, username, role, area_code``; False when it was already there."""
    exists = session.exec(
        select(CasbinRule.id).where(
            CasbinRule.ptype == "g", CasbinRule.v0 == username, CasbinRule.v1 == role, CasbinRule.v2 == area_code
        )
    ).first()
    if exists is not None:
        return False
    session.add(CasbinRule(ptype="g", v0=username, v1=role, v2=area_code))
    session.add(PolicyChange(username=username))
    session.flush()
    return True


def remove_grant(session: Session, *, username: str, role: str, area_code: str) -> bool:
    removed = session.execute(
        delete(CasbinRule).where(
            col(CasbinRule.ptype) == "g",
            col(CasbinRule.v0) == username,
            col(CasbinRule.v1) == role,
            col(CasbinRule.v2) == area_code,
        )
    ).rowcount  # type: ignore[attr-defined]
    if removed:
        session.add(PolicyChange(username=username))
        session.flush()
    return bool(removed)


def user_grants(session: Session, usernames: set[str] | None = None) -> list[tuple[str, str, str, str]]:
    """``(username, role, area_code, area_path)`` for the given users, or for everyone."""
    query = (
        select(CasbinRule.v0, CasbinRule.v1, Area.code, Area.path)
        .join(Area, col(Area.code) == CasbinRule.v2)
        .where(CasbinRule.ptype == "g")
    )
    if usernames is not None:
        query = query.where(col(CasbinRule.v0).in_(usernames))
    return [tuple(row) for row in session.exec(query).all()]  # type: ignore[misc]


def role_permissions(session: Session) -> dict[str, set[str]]:
    perms: dict[str, set[str]] = {}
    for role, perm in session.exec(select(CasbinRule.v0, CasbinRule.v1).where(CasbinRule.ptype == "p")).all():
        perms.setdefault(role, set()).add(perm)
    return perms


def sync_role_permissions(session: Session, desired: dict[str, set[str]]) -> bool:
    """Make the ``p`` rows equal ``desired``, touching only the differences; True if anything changed."""
    current = role_permissions(session)
    have = {(r, p) for r, ps in current.items() for p in ps}
    want = {(r, p) for r, ps in desired.items() for p in ps}
    for role, perm in have - want:
        session.execute(
            delete(CasbinRule).where(
                col(CasbinRule.ptype) == "p", col(CasbinRule.v0) == role, col(CasbinRule.v1) == perm
            )
        )
    if want - have:
        session.execute(insert(CasbinRule), [{"ptype": "p", "v0": r, "v1": p} for r, p in sorted(want - have)])
    if have != want:
        session.add(PolicyChange(username=""))
        session.flush()
    return have != want


class DatabaseAdapter(persist.Adapter):  # type: ignore[misc]
    """Loads the policy into a Casbin enforcer; writes go through the functions above."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load_policy(self, model: casbin.Model) -> None:
        with Session(self.engine) as session:
            for rule in session.exec(select(CasbinRule).order_by(col(CasbinRule.id))).all():
                values = [v for v in (rule.v0, rule.v1, rule.v2, rule.v3, rule.v4, rule.v5) if v is not None]
                persist.load_policy_line(", ".join([rule.ptype, *values]), model)


def area_within(request_path: str, grant_area: str) -> bool:
    """Casbin domain matching: the request's area path passes through the granted area."""
    return f"/{grant_area}/" in request_path


def build_enforcer(engine: Engine) -> casbin.Enforcer:
    """A plain Casbin enforcer over the stored policy: the reference the fast checker must agree with."""
    enforcer = casbin.Enforcer(str(MODEL_PATH), DatabaseAdapter(engine))
    enforcer.enable_auto_save(False)
    enforcer.add_named_domain_matching_func("g", area_within)
    enforcer.load_policy()
    return enforcer
