"""The core tables: areas, users and tokens, login failures, Casbin rules, policy changes, audit.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_core"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "area",
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("parent_code", sa.String(15), sa.ForeignKey("area.code"), nullable=True),
        sa.Column("path", sa.String(96), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.UniqueConstraint("path", name="uq_area_path"),
    )
    op.create_index("ix_area_parent_code", "area", ["parent_code"])

    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("username", name="uq_user_account_username"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_token_token_hash"),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"])

    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    for column in ("username", "address", "at"):
        op.create_index(f"ix_login_failure_{column}", "login_failure", [column])

    op.create_table(
        "casbin_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ptype", sa.String(8), nullable=False),
        *(sa.Column(f"v{i}", sa.String(128), nullable=i > 1) for i in range(6)),
        sa.UniqueConstraint("ptype", "v0", "v1", "v2", name="uq_casbin_rule_ptype_v0_v1_v2"),
    )
    op.create_index("ix_casbin_rule_ptype_v1", "casbin_rule", ["ptype", "v1"])
    op.create_index("ix_casbin_rule_ptype_v2", "casbin_rule", ["ptype", "v2"])

    op.create_table(
        "policy_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for column in ("at", "actor", "action"):
        op.create_index(f"ix_audit_log_{column}", "audit_log", [column])
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(audit_head, [{"id": 1, "count": 0, "last_hash": "0" * 64}])


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "policy_change",
        "casbin_rule",
        "login_failure",
        "api_token",
        "user_account",
        "area",
    ):
        op.drop_table(table)
