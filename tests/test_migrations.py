"""The migrations build exactly the tables the models describe, and an uninstalled scenario's branch does not block them (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import Result
from sqlalchemy import text
from sqlmodel import SQLModel

import jiceng.core.models  # noqa: F401
from jiceng.core import migrate, plugin_host
from jiceng.core.db import is_sqlite, make_engine
from tests import scenario_kit


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, SQLModel.metadata) if "notices_" not in str(d)]
    assert differences == []


PARCELS_0001 = """
import sqlalchemy as sa
from alembic import op

revision = "parcels_0001"
down_revision = None
branch_labels = ("parcels",)
depends_on = None


def upgrade() -> None:
    op.create_table("parcels_parcel", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(50)))
"""

PARCELS_0002 = """
import sqlalchemy as sa
from alembic import op

revision = "parcels_0002"
down_revision = "parcels_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("parcels_parcel") as batch:
        batch.add_column(sa.Column("note", sa.String(50)))
"""


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or on PostgreSQL a new schema first on the search path."""
    if is_sqlite(database_url):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{database_url}{'&' if '?' in database_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _parcels(tmp_path: Path, *revisions: str) -> ModuleType:
    """The test scenario ``parcels`` with the given migration files (a new folder per version of the package)."""
    folder = tmp_path / f"parcels_{len(revisions)}"
    folder.mkdir()
    for i, source in enumerate(revisions, start=1):
        (folder / f"000{i}_parcels.py").write_text(source, encoding="utf-8")
    return scenario_kit.module("parcels", migrations=folder)


def _jiceng(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *scenarios: ModuleType) -> Result:
    """``jiceng db upgrade`` with exactly ``scenarios`` installed besides the bundled ones."""
    from typer.testing import CliRunner

    from jiceng.core.cli.main import app as cli_app

    config = tmp_path / "jiceng.toml"
    config.write_text(
        f'environment = "development"\nsecret_key = "{"k" * 40}"\ndatabase_url = "{url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("JICENG_CONFIG", str(config))
    monkeypatch.delenv("JICENG_DATABASE_URL", raising=False)
    monkeypatch.setattr(plugin_host, "installed", lambda: [scenario_kit.candidate(m) for m in scenarios])
    return CliRunner().invoke(cli_app, ["db", "upgrade"], catch_exceptions=False)


@pytest.mark.db
def test_upgrade_keeps_an_uninstalled_scenarios_data_and_resumes_on_reinstall(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = fresh_database_url
    v1 = _parcels(tmp_path, PARCELS_0001)
    migrate.upgrade(url, "0003_records")
    migrate.upgrade(url, "parcels@head", version_locations=[v1.manifest.migrations])
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO parcels_parcel (id, name) VALUES (1, 'kept')"))

        uninstalled = _jiceng(url, tmp_path, monkeypatch)
        assert uninstalled.exit_code == 0, uninstalled.output
        assert "parcels_0001" in uninstalled.output
        heads = set(migrate.current_heads(engine))
        assert "parcels_0001" in heads and "notices_0001" in heads
        assert not migrate.pending(url)  # the core went past 0003 to its head

        reinstalled = _jiceng(url, tmp_path, monkeypatch, _parcels(tmp_path, PARCELS_0001, PARCELS_0002))
        assert reinstalled.exit_code == 0, reinstalled.output
        assert "parcels_0001" not in reinstalled.output
        assert "parcels_0002" in migrate.current_heads(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name, note FROM parcels_parcel")).all() == [("kept", None)]
    finally:
        engine.dispose()


def test_unknown_revisions_are_matched_exactly():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.unknown_revisions(script, ["0003_records", "0003", "zz_0001"]) == ("0003", "zz_0001")
