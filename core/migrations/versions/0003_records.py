"""The three base tables (people, houses, organisations), their links, provenance and conflicts.

Revision ID: 0003_records
Revises: 0002_scenario_change
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_records"
down_revision: str | Sequence[str] | None = "0002_scenario_change"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "field_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old", sa.String(400), nullable=True),
        sa.Column("new", sa.String(400), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_change")),
    )
    with op.batch_alter_table("field_change", schema=None) as batch_op:
        batch_op.create_index("ix_field_change_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "field_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("area_path", sa.String(96), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("current", sa.String(400), nullable=True),
        sa.Column("proposed", sa.String(400), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_conflict")),
    )
    with op.batch_alter_table("field_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_conflict_area_path"), ["area_path"], unique=False)
        batch_op.create_index("ix_field_conflict_record", ["record_type", "record_id"], unique=False)

    op.create_table(
        "person",
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("area_path", sa.String(96), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=True),
        sa.Column("id_tail", sa.String(4), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("ethnicity", sa.String(20), nullable=False),
        sa.Column("phone", sa.String(24), nullable=False),
        sa.Column("hukou_address", sa.String(200), nullable=False),
        sa.Column("current_address", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["area.code"], name=op.f("fk_person_area_code_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("id_number", name=op.f("uq_person_id_number")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_area_path"), ["area_path"], unique=False)
        batch_op.create_index("ix_person_id_tail", ["id_tail"], unique=False)
        batch_op.create_index("ix_person_name", ["name"], unique=False)

    op.create_table(
        "house",
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("area_path", sa.String(96), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("building", sa.String(20), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("room", sa.String(20), nullable=False),
        sa.Column("use", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["area_code"], ["area.code"], name=op.f("fk_house_area_code_area")),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], name=op.f("fk_house_owner_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house")),
    )
    with op.batch_alter_table("house", schema=None) as batch_op:
        batch_op.create_index("ix_house_address", ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_house_area_path"), ["area_path"], unique=False)

    op.create_table(
        "person_tag",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(20), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_person_tag_person_id_person")),
        sa.PrimaryKeyConstraint("person_id", "tag", name=op.f("pk_person_tag")),
    )
    with op.batch_alter_table("person_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_tag_tag"), ["tag"], unique=False)

    op.create_table(
        "organisation",
        sa.Column("area_code", sa.String(15), nullable=False),
        sa.Column("area_path", sa.String(96), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("legal_representative", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(24), nullable=False),
        sa.Column("registered_address", sa.String(200), nullable=False),
        sa.Column("licence_state", sa.String(20), nullable=False),
        sa.Column("house_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["area_code"], ["area.code"], name=op.f("fk_organisation_area_code_area")),
        sa.ForeignKeyConstraint(["house_id"], ["house.id"], name=op.f("fk_organisation_house_id_house")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("uscc", name=op.f("uq_organisation_uscc")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_area_path"), ["area_path"], unique=False)
        batch_op.create_index("ix_organisation_name", ["name"], unique=False)

    op.create_table(
        "person_house",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("house_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=12), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["house_id"], ["house.id"], name=op.f("fk_person_house_house_id_house")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_person_house_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_house")),
        sa.UniqueConstraint(
            "person_id", "house_id", "relation", name=op.f("uq_person_house_person_id_house_id_relation")
        ),
    )
    with op.batch_alter_table("person_house", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_house_house_id"), ["house_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_house_person_id"), ["person_id"], unique=False)

    op.create_table(
        "person_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_person_organisation_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_person_organisation_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_organisation")),
        sa.UniqueConstraint(
            "person_id",
            "organisation_id",
            "relation",
            name=op.f("uq_person_organisation_person_id_organisation_id_relation"),
        ),
    )
    with op.batch_alter_table("person_organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_organisation_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_organisation_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_organisation_person_id"))
        batch_op.drop_index(batch_op.f("ix_person_organisation_organisation_id"))

    op.drop_table("person_organisation")
    with op.batch_alter_table("person_house", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_house_person_id"))
        batch_op.drop_index(batch_op.f("ix_person_house_house_id"))

    op.drop_table("person_house")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index("ix_organisation_name")
        batch_op.drop_index(batch_op.f("ix_organisation_area_path"))

    op.drop_table("organisation")
    with op.batch_alter_table("person_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_tag_tag"))

    op.drop_table("person_tag")
    with op.batch_alter_table("house", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_house_area_path"))
        batch_op.drop_index("ix_house_address")

    op.drop_table("house")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_name")
        batch_op.drop_index("ix_person_id_tail")
        batch_op.drop_index(batch_op.f("ix_person_area_path"))

    op.drop_table("person")
    with op.batch_alter_table("field_conflict", schema=None) as batch_op:
        batch_op.drop_index("ix_field_conflict_record")
        batch_op.drop_index(batch_op.f("ix_field_conflict_area_path"))

    op.drop_table("field_conflict")
    with op.batch_alter_table("field_change", schema=None) as batch_op:
        batch_op.drop_index("ix_field_change_record")

    op.drop_table("field_change")
