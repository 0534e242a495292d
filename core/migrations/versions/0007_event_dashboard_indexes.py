"""Indexes the dashboard's open-event counts by department and by grid read without visiting the rows.

Revision ID: 0007_event_dashboard_indexes
Revises: 0006_scenario_approval
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_event_dashboard_indexes"
down_revision: str | Sequence[str] | None = "0006_scenario_approval"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_event_department_state", table_name="event")
    op.create_index("ix_event_department_state", "event", ["department_id", "state", "deadline"])
    op.create_index("ix_event_town_state_area", "event", ["town_code", "state", "area_code", "deadline"])


def downgrade() -> None:
    op.drop_index("ix_event_town_state_area", table_name="event")
    op.drop_index("ix_event_department_state", table_name="event")
    op.create_index("ix_event_department_state", "event", ["department_id", "state"])
