"""Conflicts to review (一数一源): a lower-ranked source's value waits on the record page until someone decides."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jiceng.core.config import Settings
from jiceng.core.db import transaction
from jiceng.core.records import service
from jiceng.core.records.schemas import PersonPatch
from jiceng.core.records.tables import PEOPLE
from jiceng.sdk.testing import valid_id_number

Client = Callable[..., TestClient]


@pytest.fixture
def jiceng_settings(jiceng_settings: Settings) -> Settings:
    records = jiceng_settings.records.model_validate({"authority": {"person.phone": ["api", "import"]}})
    return jiceng_settings.model_copy(update={"records": records})


def imported(engine: Engine, settings: Settings, person: int, phone: str) -> list[str]:
    """A ledger import (ranked below the API) sends another phone number."""
    with transaction(engine) as s:
        record = service.get_record(s, PEOPLE, person)
        outcome = service.update(
            s,
            PEOPLE,
            record,
            PersonPatch(phone=phone, version=record.version),
            source=service.Source("import", "clerk", "台账.xlsx row 7"),
            settings=settings,
        )
    return outcome.conflicts


def test_a_reviewer_accepts_or_keeps_what_a_lower_source_sent(
    client_as: Client, make_record: Callable[..., int], jiceng_engine: Engine, jiceng_settings: Settings
) -> None:
    person = make_record("person", name="王芳", id_number=valid_id_number(), phone="13800000001")
    assert imported(jiceng_engine, jiceng_settings, person, "13900000002") == ["phone"]
    grid = client_as("grid_worker")
    page = grid.get(f"/records/people/{person}")
    assert "待核对的冲突" in page.text and "139****0002" in page.text and "13900000002" not in page.text
    listed = grid.get(f"/api/people/{person}/conflicts").json()
    assert [(c["field"], c["current"], c["proposed"], c["source"]) for c in listed] == [
        ("phone", "138****0001", "139****0002", "import")
    ]
    assert client_as("town_admin").get(f"/api/people/{person}/conflicts").json()[0]["proposed"] == "13900000002"

    accepted = grid.post(f"/records/conflicts/{listed[0]['id']}/accept", follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == f"/records/people/{person}"
    assert (
        client_as("town_admin").get(f"/api/people/{person}").json()["phone"] == "139****0002"
    )  # the API masks; the value changed
    history = grid.get(f"/api/people/{person}/history").json()
    assert history[0]["field"] == "phone" and history[0]["source"] == "import"
    assert history[0]["source_ref"].startswith(f"conflict {listed[0]['id']}")
    assert grid.post(f"/api/conflicts/{listed[0]['id']}/accept").status_code == 409
    assert "待核对的冲突" not in grid.get(f"/records/people/{person}").text

    imported(jiceng_engine, jiceng_settings, person, "13700000003")  # the last word was the import: no conflict
    assert grid.get(f"/api/people/{person}/conflicts").json() == []


def test_keeping_the_current_value_and_who_may_decide(
    client_as: Client, make_record: Callable[..., int], jiceng_engine: Engine, jiceng_settings: Settings
) -> None:
    from jiceng.core.sample_world import TOWN_B

    person = make_record("person", name="李明", id_number=valid_id_number(sequence=3), phone="13800000001")
    imported(jiceng_engine, jiceng_settings, person, "13900000002")
    grid = client_as("grid_worker")
    conflict = grid.get(f"/api/people/{person}/conflicts").json()[0]
    assert client_as("town_admin", TOWN_B).post(f"/api/conflicts/{conflict['id']}/reject").status_code == 403
    assert client_as("leader").post(f"/api/conflicts/{conflict['id']}/reject").status_code == 403  # views, no edits
    kept = grid.post(f"/api/conflicts/{conflict['id']}/reject")
    assert kept.json() == {"id": conflict["id"], "resolution": "rejected"}
    assert client_as("town_admin").get(f"/api/people/{person}").json()["phone"] == "138****0001"
    assert grid.post("/api/conflicts/999999/accept").status_code == 404
    assert grid.post(f"/api/conflicts/{conflict['id']}/maybe").status_code == 404
