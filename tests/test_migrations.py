"""The migrations build exactly the tables the models describe (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import jiceng.core.models  # noqa: F401


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, SQLModel.metadata) if "notices_" not in str(d)]
    assert differences == []
