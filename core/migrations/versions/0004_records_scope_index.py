"""Scope indexes on (area_path, deleted_at): counting a community's records reads the index alone.

Revision ID: 0004_records_scope_index
Revises: 0003_records
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_records_scope_index"
down_revision: str | Sequence[str] | None = "0003_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("person", "house", "organisation")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_area_path_deleted_at", table, ["area_path", "deleted_at"])
        op.drop_index(f"ix_{table}_area_path", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_area_path", table, ["area_path"])
        op.drop_index(f"ix_{table}_area_path_deleted_at", table_name=table)
