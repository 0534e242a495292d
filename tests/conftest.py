"""Fixtures for the platform's own tests, on top of the vendors' harness (``jiceng.sdk.testing``).

The schema is built once per run by the real Alembic migrations; each test
starts from empty tables. Every test that uses the database gets the ``db``
marker, which is how ``.ci/run`` selects them for the PostgreSQL pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from jiceng.core.config import Settings
from jiceng.core.db import transaction
from jiceng.core.sample_world import PASSWORD, make_tree, make_user
from jiceng.core.web.app import create_app

pytest_plugins = ["jiceng.sdk.testing"]

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"engine", "jiceng_engine"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.fixture
def database_url(jiceng_database_url: str) -> str:
    return jiceng_database_url


@pytest.fixture
def engine(jiceng_engine: Engine) -> Engine:
    return jiceng_engine


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="development",
        secret_key="test-secret-" + "x" * 32,
        database_url=database_url,
        events={"attachments": {"directory": str(tmp_path / "attachments")}},
    )


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def world(engine: Engine) -> None:
    """The small tree of ``jiceng.sdk.testing``."""
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
def login(app) -> Iterator[Callable[[str], TestClient]]:  # type: ignore[no-untyped-def]
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


@pytest.fixture
def cli(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Run ``jiceng …`` in-process against the test database; returns Click's result."""
    from typer.testing import CliRunner

    from jiceng.core.cli.main import app as cli_app

    config = tmp_path / "jiceng.toml"
    config.write_text(
        f'environment = "development"\nsecret_key = "{settings.secret_key.get_secret_value()}"\ndatabase_url = "{settings.database_url}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("JICENG_CONFIG", str(config))
    monkeypatch.delenv("JICENG_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli_app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def scenario_id() -> str:
    """The harness's fixtures (``jiceng.sdk.testing``) enable one scenario; here, the bundled one."""
    return "notices"
