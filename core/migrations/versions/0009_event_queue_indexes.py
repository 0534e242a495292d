"""Indexes for the dashboard's lists to act on: resolved events by when, and the few waiting extension requests.

Revision ID: 0009_event_queue_indexes
Revises: 0008_event_state_count
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_event_queue_indexes"
down_revision: str | Sequence[str] | None = "0008_event_state_count"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("pending_extension_hours IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_event_town_state_resolved", "event", ["town_code", "state", "resolved_at"])
    op.create_index(
        "ix_event_pending_extension",
        "event",
        ["town_code", "deadline"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_event_pending_extension", table_name="event")
    op.drop_index("ix_event_town_state_resolved", table_name="event")
