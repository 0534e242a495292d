"""Events, departments, dispatch rules, event codes and Open311 clients (issue 5).

Revision ID: 0005_events
Revises: 0004_records_scope_index
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_events"
down_revision: str | Sequence[str] | None = "0004_records_scope_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "event_counter",
        sa.Column("town_code", sa.String(15), nullable=False),
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("town_code", "day", name=op.f("pk_event_counter")),
    )
    op.create_table(
        "open311_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_client")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_client_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_client_name")),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("town_code", sa.String(15), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["town_code"], ["area.code"], name=op.f("fk_department_town_code_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("town_code", "code", name="uq_department_town_code"),
    )
    op.create_table(
        "dispatch_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("area_path", sa.String(96), nullable=False),
        sa.Column("type_code", sa.String(64), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["area.code"], name=op.f("fk_dispatch_rule_area_code_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_rule")),
        sa.UniqueConstraint("area_code", "type_code", name="uq_dispatch_rule"),
    )
    with op.batch_alter_table("dispatch_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_rule_area_path"), ["area_path"], unique=False)

    op.create_table(
        "department_member",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_department_member_department_id_department")
        ),
        sa.PrimaryKeyConstraint("department_id", "username", name=op.f("pk_department_member")),
    )
    with op.batch_alter_table("department_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_member_username"), ["username"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(24), nullable=False),
        sa.Column("town_code", sa.String(15), nullable=False),
        sa.Column("type_code", sa.String(64), nullable=False),
        sa.Column("category", sa.String(24), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("area_path", sa.String(96), nullable=False),
        sa.Column("owner_path", sa.String(96), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("priority", sa.String(length=12), nullable=False),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("reporter_contact", sa.String(100), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("suggested_department", sa.String(32), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_count", sa.Integer(), nullable=False),
        sa.Column("pending_extension_hours", sa.Integer(), nullable=True),
        sa.Column("rework_count", sa.Integer(), nullable=False),
        sa.Column("return_count", sa.Integer(), nullable=False),
        sa.Column("escalation_count", sa.Integer(), nullable=False),
        sa.Column("urge_count", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["area.code"], name=op.f("fk_event_area_code_area")),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], name=op.f("fk_event_department_id_department")),
        sa.ForeignKeyConstraint(["town_code"], ["area.code"], name=op.f("fk_event_town_code_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("source", "external_id", name="uq_event_external"),
        sa.UniqueConstraint("town_code", "code", name="uq_event_town_code"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_area_path", ["area_path"], unique=False)
        batch_op.create_index("ix_event_department_state", ["department_id", "state"], unique=False)
        batch_op.create_index("ix_event_reporter", ["reporter"], unique=False)
        batch_op.create_index("ix_event_town_created", ["town_code", "created_at"], unique=False)
        batch_op.create_index("ix_event_town_state", ["town_code", "state", "deadline"], unique=False)

    op.create_table(
        "event_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(12), nullable=False),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], name=op.f("fk_event_action_event_id_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_action")),
    )
    with op.batch_alter_table("event_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_action_event_id"), ["event_id"], unique=False)

    op.create_table(
        "event_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], name=op.f("fk_event_attachment_event_id_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_attachment")),
        sa.UniqueConstraint("key", name=op.f("uq_event_attachment_key")),
    )
    with op.batch_alter_table("event_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_attachment_event_id"), ["event_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("event_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_attachment_event_id"))

    op.drop_table("event_attachment")
    with op.batch_alter_table("event_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_action_event_id"))

    op.drop_table("event_action")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_town_state")
        batch_op.drop_index("ix_event_town_created")
        batch_op.drop_index("ix_event_reporter")
        batch_op.drop_index("ix_event_department_state")
        batch_op.drop_index("ix_event_area_path")

    op.drop_table("event")
    with op.batch_alter_table("department_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_member_username"))

    op.drop_table("department_member")
    with op.batch_alter_table("dispatch_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispatch_rule_area_path"))

    op.drop_table("dispatch_rule")
    op.drop_table("department")
    op.drop_table("open311_client")
    op.drop_table("event_counter")
