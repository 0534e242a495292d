"""A scenario switched on records the data use the town approved (purpose limitation).

Revision ID: 0006_scenario_approval
Revises: 0005_events
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_scenario_approval"
down_revision: str | Sequence[str] | None = "0005_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scenario_change") as batch_op:
        batch_op.add_column(sa.Column("approved", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenario_change") as batch_op:
        batch_op.drop_column("approved")
