"""Fixtures: a migrated database (SQLite, or PostgreSQL via JICENG_TEST_DATABASE_URL), the app, clients.

The schema is built once per run by the real Alembic migrations; each test
starts from empty tables. Every test that uses the database gets the ``db``
marker, which is how ``.ci/run`` selects them for the PostgreSQL pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

import jiceng.core.models  # noqa: F401
from jiceng.core import migrate
from jiceng.core.config import Settings
from jiceng.core.db import is_sqlite, make_engine, transaction
from jiceng.core.permissions.service import sync_roles
from jiceng.core.plugin_host import PluginHost
from jiceng.core.web.app import create_app
from tests.utils.factories import PASSWORD, make_tree, make_user

TEST_DATABASE_ENV = "JICENG_TEST_DATABASE_URL"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get(TEST_DATABASE_ENV) or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    migrate.upgrade(
        database_url, version_locations=PluginHost.load(Settings(environment="development")).version_locations()
    )
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The migrated database with every table emptied."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with migrated_engine.begin() as conn:
        if is_sqlite(str(migrated_engine.url)):
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, count, last_hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    with transaction(migrated_engine) as s:
        sync_roles(
            s,
            Settings(environment="development"),
            PluginHost.load(Settings(environment="development")).declared_permissions(),
        )
    return migrated_engine


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(environment="development", secret_key="test-secret-" + "x" * 32, database_url=database_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def world(engine: Engine, settings: Settings) -> None:
    """The small tree of tests/utils/factories.py."""
    with transaction(engine) as s:
        make_tree(s)


@pytest.fixture
def app(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings, engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def user_with_role(engine: Engine, settings: Settings, world: None) -> Callable[..., str]:
    """Create a user holding ``role`` at ``area``; returns the username."""

    def make(username: str, role: str | None = None, area: str | None = None) -> str:
        with transaction(engine) as s:
            make_user(s, settings, username, role, area)
        return username

    return make


@pytest.fixture
def login(app) -> Callable[[str], TestClient]:  # type: ignore[no-untyped-def]
    """A client logged in through the portal form as ``username``."""
    clients: list[TestClient] = []

    def make(username: str, password: str = PASSWORD) -> TestClient:
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        response = c.post("/login", data={"username": username, "password": password}, follow_redirects=False)
        assert response.status_code == 303, response.text
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Run ``jiceng …`` in-process against the test database; returns Click's result."""
    from typer.testing import CliRunner

    from jiceng.core.cli.main import app as cli_app

    config = tmp_path / "jiceng.toml"
    config.write_text(
        f'environment = "development"\nsecret_key = "{settings.secret_key.get_secret_value()}"\n'
        f'database_url = "{settings.database_url}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JICENG_CONFIG", str(config))
    monkeypatch.delenv("JICENG_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli_app, list(args), input=input, catch_exceptions=False)

    return run
