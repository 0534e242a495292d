"""Open311 clients bound to an area: a key posts requests only in the towns under it (none: anywhere, as before).

Revision ID: 0011_open311_client_area
Revises: 0010_event_tally
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_open311_client_area"
down_revision: str | Sequence[str] | None = "0010_event_tally"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("open311_client") as table:
        table.add_column(sa.Column("area_code", sa.String(length=15), nullable=True))
        table.add_column(sa.Column("area_path", sa.String(length=96), nullable=True))
        table.create_foreign_key(op.f("fk_open311_client_area_code_area"), "area", ["area_code"], ["code"])


def downgrade() -> None:
    with op.batch_alter_table("open311_client") as table:
        table.drop_constraint(op.f("fk_open311_client_area_code_area"), type_="foreignkey")
        table.drop_column("area_path")
        table.drop_column("area_code")
