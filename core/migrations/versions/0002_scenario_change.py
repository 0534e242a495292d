"""Per-town scenario switches made at run time (append-only log).

Revision ID: 0002_scenario_change
Revises: 0001_core
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_scenario_change"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenario_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("area_code", sa.String(15), sa.ForeignKey("area.code"), nullable=False),
        sa.Column("scenario_id", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_scenario_change_area_code", "scenario_change", ["area_code"])


def downgrade() -> None:
    op.drop_table("scenario_change")
