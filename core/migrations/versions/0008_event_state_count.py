"""Per-town counts of events by state, kept by the event loop, so the dashboard does not count a town's history.

Revision ID: 0008_event_state_count
Revises: 0007_event_dashboard_indexes
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_event_state_count"
down_revision: str | Sequence[str] | None = "0007_event_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_state_count",
        sa.Column("town_code", sa.String(15), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("town_code", "state", name=op.f("pk_event_state_count")),
    )
    op.execute(
        "INSERT INTO event_state_count (town_code, state, count) "
        "SELECT town_code, state, count(*) FROM event GROUP BY town_code, state"
    )


def downgrade() -> None:
    op.drop_table("event_state_count")
