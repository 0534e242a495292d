"""The notices table.

Revision ID: notices_0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "notices_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("notices",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notices_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("town_code", sa.String(15), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_notices_notice_town_code", "notices_notice", ["town_code"])


def downgrade() -> None:
    op.drop_table("notices_notice")
