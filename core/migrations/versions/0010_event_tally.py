"""The assessment's tally, kept by the event loop, and a partial index on open cases for what it cannot keep.

Revision ID: 0010_event_tally
Revises: 0009_event_queue_indexes
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_event_tally"
down_revision: str | Sequence[str] | None = "0009_event_queue_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CASE = "state IN ('accepted', 'dispatched', 'handling', 'resolved')"
CLOSED = "state IN ('closed', 'evaluated')"
IS_CASE = "state NOT IN ('reported', 'rejected')"
TIMED = f"{CLOSED} AND resolved_at IS NOT NULL AND dispatched_at IS NOT NULL"
RATED = f"{IS_CASE} AND rating IS NOT NULL"
OPEN_DATED = f"{OPEN_CASE} AND deadline IS NOT NULL"
#: Per dimension: the key and which events count in it.
GROUPS = {
    "area": ("area_path", "TRUE"),
    "department": ("CAST(department_id AS VARCHAR)", "department_id IS NOT NULL"),
    "grid_worker": ("reporter", "channel = 'grid'"),
}
#: ``resolved_at − dispatched_at`` in whole µs; SQLite's date functions round to ms, so µs come from the text.
HANDLING_US = {
    "postgresql": "CAST(extract(epoch FROM resolved_at - dispatched_at) * 1000000 AS BIGINT)",
    "sqlite": "(unixepoch(substr(resolved_at, 1, 19)) * 1000000 + CAST(substr(resolved_at, 21, 6) AS INTEGER))"
    " - (unixepoch(substr(dispatched_at, 1, 19)) * 1000000 + CAST(substr(dispatched_at, 21, 6) AS INTEGER))",
}
UTC_DAY = {"postgresql": "CAST(created_at AS DATE)", "sqlite": "date(created_at)"}


def count_if(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def upgrade() -> None:
    op.create_table(
        "event_tally",
        sa.Column("town_code", sa.String(15), nullable=False),
        sa.Column("dimension", sa.String(12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("reported", "cases", "closed", "closed_extended", "on_time", "reworked", "first_time", "timed")
        ),
        sa.Column("handling_us", sa.BigInteger(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("open_dated", sa.Integer(), nullable=False),
        sa.Column("open_dated_extended", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("town_code", "dimension", "day", "key", name=op.f("pk_event_tally")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_event_open_case",
        "event",
        [
            *("town_code", "created_at", "deadline", "state", "extension_count"),
            *("department_id", "channel", "reporter", "area_path"),
        ],
        sqlite_where=sa.text(OPEN_CASE),
        postgresql_where=sa.text(OPEN_CASE),
    )
    dialect = op.get_bind().dialect.name
    day = UTC_DAY[dialect]
    for dimension, (key, only) in GROUPS.items():
        op.execute(
            "INSERT INTO event_tally (town_code, dimension, day, key, reported, cases, closed, closed_extended, "
            "on_time, reworked, first_time, timed, handling_us, rated, rating_sum, open_dated, open_dated_extended) "
            f"SELECT town_code, '{dimension}', {day}, {key}, count(*), {count_if(IS_CASE)}, {count_if(CLOSED)}, "
            f"{count_if(f'{CLOSED} AND extension_count > 0')}, "
            f"{count_if(f'{CLOSED} AND resolved_at <= deadline AND extension_count = 0')}, "
            f"{count_if(f'{CLOSED} AND rework_count > 0')}, "
            f"{count_if(f'{CLOSED} AND rework_count = 0 AND return_count = 0')}, {count_if(TIMED)}, "
            f"coalesce(sum(CASE WHEN {TIMED} THEN {HANDLING_US[dialect]} ELSE 0 END), 0), {count_if(RATED)}, "
            f"coalesce(sum(CASE WHEN {RATED} THEN rating ELSE 0 END), 0), {count_if(OPEN_DATED)}, "
            f"{count_if(f'{OPEN_DATED} AND extension_count > 0')} "
            f"FROM event WHERE {only} GROUP BY town_code, {day}, {key}"
        )


def downgrade() -> None:
    op.drop_index("ix_event_open_case", table_name="event")
    op.drop_table("event_tally")
