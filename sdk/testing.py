"""A pytest plugin for testing scenarios: ``pytest_plugins = ["jiceng.sdk.testing"]`` in your conftest.py.

It gives you a migrated database (SQLite in a temporary folder, or
``$JICENG_TEST_DATABASE_URL``), a small real area tree with two towns, a user
for every built-in role, and the platform app with your scenario enabled in
town A only. Define the ``scenario_id`` fixture; override
``scenario_settings`` to test other settings.

Fixtures: ``scenario_id`` (yours), ``scenario_settings``, ``jiceng_settings``,
``jiceng_engine`` (empty tables per test), ``jiceng_world`` (the tree and the
users), ``jiceng_app``, ``client_as(role, town=TOWN_A)``, ``anonymous_client``,
``make_record(table, **values)`` (people, houses, organisations); helpers
``valid_id_number()`` and ``valid_uscc()`` make synthetic codes that pass the checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

import jiceng.core.models  # noqa: F401  (registers the core tables)
from jiceng.core import migrate
from jiceng.core.config import Settings, TownScenarios
from jiceng.core.db import is_sqlite, make_engine, transaction
from jiceng.core.permissions.service import sync_roles
from jiceng.core.plugin_host import PluginHost
from jiceng.core.records import service as records_service
from jiceng.core.records.schemas import HouseIn, OrganisationIn, PersonIn
from jiceng.core.records.tables import TABLES
from jiceng.core.records.validation import id_check_char, uscc_check_char
from jiceng.core.sample_world import (
    CITY,
    COMMUNITY_A1,
    COMMUNITY_A2,
    COMMUNITY_B1,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    PASSWORD,
    ROLE_AREAS,
    TOWN_A,
    TOWN_B,
    TREE,
    make_tree,
    make_user,
    make_world,
    username_for,
)
from jiceng.core.web.app import create_app

__all__ = [
    "CITY",
    "COMMUNITY_A1",
    "COMMUNITY_A2",
    "COMMUNITY_B1",
    "DISTRICT",
    "GRID_A1",
    "GRID_A2",
    "GRID_B1",
    "PASSWORD",
    "ROLE_AREAS",
    "TOWN_A",
    "TOWN_B",
    "TREE",
    "make_tree",
    "make_user",
    "username_for",
    "valid_id_number",
    "valid_uscc",
]

TEST_DATABASE_ENV = "JICENG_TEST_DATABASE_URL"


def empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if is_sqlite(str(engine.url)):
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text("INSERT INTO audit_head (id, count, last_hash) VALUES (1, 0, :h)"), {"h": "0" * 64})


@pytest.fixture(scope="session")
def jiceng_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get(TEST_DATABASE_ENV) or f"sqlite:///{tmp_path_factory.mktemp('jiceng') / 'test.db'}"


@pytest.fixture(scope="session")
def jiceng_host_all() -> PluginHost:
    """Every installed scenario, loaded once (for migrations and the role defaults)."""
    return PluginHost.load(Settings(environment="development"))


@pytest.fixture(scope="session")
def jiceng_migrated_engine(jiceng_database_url: str, jiceng_host_all: PluginHost) -> Iterator[Engine]:
    migrate.upgrade(jiceng_database_url, version_locations=jiceng_host_all.version_locations())
    engine = make_engine(jiceng_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def jiceng_engine(jiceng_migrated_engine: Engine, jiceng_host_all: PluginHost) -> Engine:
    """The migrated database with every table emptied and the roles' permissions in place."""
    empty_tables(jiceng_migrated_engine)
    with transaction(jiceng_migrated_engine) as s:
        sync_roles(s, Settings(environment="development"), jiceng_host_all.declared_permissions())
    return jiceng_migrated_engine


@pytest.fixture
def scenario_id() -> str:
    raise pytest.UsageError(
        'Define a `scenario_id` fixture in your conftest.py returning your scenario\'s id, e.g. "hello".'
    )


@pytest.fixture
def scenario_settings() -> dict[str, Any]:
    """Your scenario's settings in town A; override to test others."""
    return {}


@pytest.fixture
def jiceng_settings(
    jiceng_database_url: str, scenario_id: str, scenario_settings: dict[str, Any], tmp_path: Path
) -> Settings:
    """Development settings with the scenario enabled in town A only; event photos kept in a temporary folder."""
    town = TownScenarios(
        scenarios=[scenario_id], settings={scenario_id: scenario_settings} if scenario_settings else {}
    )
    return Settings(
        environment="development",
        secret_key="test-secret-" + "x" * 32,
        database_url=jiceng_database_url,
        towns={TOWN_A: town},
        events={"attachments": {"directory": str(tmp_path / "attachments")}},
    )


@pytest.fixture
def jiceng_world(jiceng_engine: Engine, jiceng_settings: Settings) -> None:
    """The area tree and one user per built-in role in each town (see ``ROLE_AREAS``)."""
    with transaction(jiceng_engine) as s:
        make_world(s, jiceng_settings)


@pytest.fixture
def jiceng_app(jiceng_world: None, jiceng_engine: Engine, jiceng_settings: Settings) -> Any:
    return create_app(jiceng_settings, jiceng_engine)


@pytest.fixture
def anonymous_client(jiceng_app: Any) -> Iterator[TestClient]:
    with TestClient(jiceng_app) as client:
        yield client


@pytest.fixture
def client_as(jiceng_app: Any) -> Iterator[Callable[..., TestClient]]:
    """``client_as("grid_worker")``: a client logged in as that role's user in town A (or ``town=TOWN_B``)."""
    clients: list[TestClient] = []

    def login(role: str, town: str = TOWN_A) -> TestClient:
        client = TestClient(jiceng_app)
        client.__enter__()
        clients.append(client)
        response = client.post(
            "/login", data={"username": username_for(role, town), "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303, f"login as {role} failed: {response.status_code}"
        return client

    yield login
    for client in clients:
        client.__exit__(None, None, None)


def valid_id_number(birth: str = "19850302", sequence: int = 1, region: str = "500103") -> str:
    """A synthetic resident ID number with a correct check character (never a real person's)."""
    first17 = f"{region}{birth}{sequence:03d}"
    return first17 + id_check_char(first17)


def valid_uscc(serial: int = 1, region: str = "500103") -> str:
    """A synthetic unified social credit code with a correct check character."""
    first17 = f"92{region}{serial:09d}"
    return first17 + uscc_check_char(first17)


@pytest.fixture
def make_record(jiceng_engine: Engine, jiceng_world: None) -> Callable[..., int]:
    """``make_record("person", name="王芳", area_code=GRID_A1, …)``: a record made through the core's own
    validation and provenance (source "api"); returns its id. Tables: person, house, organisation."""

    def make(table: str, **values: Any) -> int:
        spec = TABLES[table]
        model = {"person": PersonIn, "house": HouseIn, "organisation": OrganisationIn}[table]
        with transaction(jiceng_engine) as session:
            record = records_service.create(
                session, spec, model(**{"area_code": GRID_A1, **values}), source=records_service.Source("api", "test")
            )
            return record.id  # type: ignore[no-any-return]

    return make
