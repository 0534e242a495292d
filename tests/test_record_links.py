"""Links between people, houses and organisations, as a grid worker, another grid's worker and a town admin see them."""

from __future__ import annotations

from jiceng.core.sample_world import GRID_A1, GRID_A2, TOWN_A, TOWN_B
from jiceng.sdk.testing import valid_uscc

ZHANG = "11010519491231002X"  # valid, female, born 1949-12-31
MASKED = "110105********002X"
ADDRESS = "渝中区民族路88号"


def made(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def fields(response) -> dict[str, dict]:
    return {f["field"]: f for f in response.json()["error"]["fields"]}


def setup(user_with_role, login):
    """A town admin's client, a person and a house in grid A1, a house in grid A2, and grid A1's worker."""
    user_with_role("boss", "town_admin", TOWN_A)
    user_with_role("wang", "grid_worker", GRID_A1)
    admin = login("boss")
    person = made(admin.post("/api/people", json={"area_code": GRID_A1, "name": "张秀英", "id_number": ZHANG}))
    house = made(
        admin.post("/api/houses", json={"area_code": GRID_A1, "address": ADDRESS, "building": "3栋", "room": "501"})
    )
    elsewhere = made(admin.post("/api/houses", json={"area_code": GRID_A2, "address": "渝中区和平路1号"}))
    return admin, person["id"], house["id"], elsewhere["id"]


def test_grid_worker_links_a_person_to_a_house_and_both_ends_show_it(user_with_role, login):
    _, person, house, _ = setup(user_with_role, login)
    worker = login("wang")

    link = made(
        worker.post(f"/api/people/{person}/houses", json={"house_id": house, "kind": "owner", "since": "2020年5月1日"})
    )
    assert link["kind"] == "owner" and link["since"] == "2020-05-01" and link["until"] is None and link["active"]
    assert link["house"]["address"] == ADDRESS and link["person"]["id_number"] == MASKED

    occupants = worker.get(f"/api/houses/{house}/people")
    assert occupants.status_code == 200
    assert [(x["kind"], x["person"]["name"], x["person"]["id_number"]) for x in occupants.json()["data"]] == [
        ("owner", "张秀英", MASKED)
    ]
    assert ZHANG not in occupants.text
    tenant = worker.post(f"/api/houses/{house}/people", json={"person_id": person, "kind": "resident"})
    assert made(tenant)["kind"] == "resident"
    assert {x["kind"] for x in worker.get(f"/api/people/{person}/houses").json()["data"]} == {"owner", "resident"}

    person_page = worker.get(f"/records/people/{person}").text
    assert ADDRESS in person_page and "3栋" in person_page and "501" in person_page
    assert f'href="/records/houses/{house}"' in person_page and "2020-05-01" in person_page
    house_page = worker.get(f"/records/houses/{house}").text
    assert "张秀英" in house_page and MASKED in house_page and ZHANG not in house_page
    assert f'href="/records/people/{person}"' in house_page

    history = worker.get(f"/api/people/{person}/history").json()
    assert any(h["field"] == "house.owner" and (h["actor"], h["source"]) == ("wang", "portal") for h in history)
    assert any(h["field"] == "person.owner" for h in worker.get(f"/api/houses/{house}/history").json())


def test_bad_links_are_refused_naming_the_field(user_with_role, login):
    _, person, house, _ = setup(user_with_role, login)
    worker = login("wang")
    url = f"/api/people/{person}/houses"

    wrong_kind = worker.post(url, json={"house_id": house, "kind": "landlord"})
    assert wrong_kind.status_code == 422
    problem = fields(wrong_kind)["kind"]
    assert "owner" in problem["message_en"] and problem["message"] != problem["message_en"]

    backwards = worker.post(
        url, json={"house_id": house, "kind": "tenant", "since": "2024-03-01", "until": "2023-03-01"}
    )
    assert backwards.status_code == 422 and "2024-03-01" in fields(backwards)["until"]["message_en"]

    missing = worker.post(url, json={"house_id": 999999, "kind": "tenant"})
    assert missing.status_code == 422 and "999999" in fields(missing)["house_id"]["message_en"]
    assert worker.post(url, json={"kind": "tenant"}).status_code == 422
    assert worker.post("/api/people/999999/houses", json={"house_id": house, "kind": "tenant"}).status_code == 404

    assert worker.post(url, json={"house_id": house, "kind": "tenant"}).status_code == 201
    again = worker.post(url, json={"house_id": house, "kind": "tenant"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate"


def test_ending_a_link_keeps_it_as_past_and_allows_linking_again(user_with_role, login):
    _, person, house, _ = setup(user_with_role, login)
    worker = login("wang")
    first = made(
        worker.post(f"/api/people/{person}/houses", json={"house_id": house, "kind": "tenant", "since": "2021-01-01"})
    )

    early = worker.post(f"/api/people/{person}/houses/{house}/end", json={"kind": "tenant", "until": "2020-12-31"})
    assert early.status_code == 422 and "until" in fields(early)
    ended = worker.post(f"/api/houses/{house}/people/{person}/end", json={"kind": "tenant", "until": "2023-06-30"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["until"] == "2023-06-30" and not ended.json()["active"]
    assert worker.post(f"/api/people/{person}/houses/{house}/end", json={"kind": "tenant"}).status_code == 409
    assert worker.post(f"/api/people/{person}/houses/{house}/end", json={"kind": "owner"}).status_code == 404

    page = worker.get(f"/records/people/{person}").text
    assert "2021-01-01 – 2023-06-30" in page

    back = made(
        worker.post(f"/api/people/{person}/houses", json={"house_id": house, "kind": "tenant", "since": "2024-02-01"})
    )
    assert back["id"] == first["id"] and back["active"] and back["since"] == "2024-02-01"
    changes = [h for h in worker.get(f"/api/people/{person}/history").json() if h["field"] == "house.tenant"]
    assert [h["new"] for h in changes] == [
        f"#{house} 2024-02-01 –",
        f"#{house} 2021-01-01 – 2023-06-30",
        f"#{house} 2021-01-01 –",
    ]


def test_links_are_scoped_to_the_callers_areas(user_with_role, login):
    admin, person, house, elsewhere = setup(user_with_role, login)
    user_with_role("zhao", "grid_worker", GRID_A2)
    user_with_role("li", "town_admin", TOWN_B)
    assert admin.post(f"/api/people/{person}/houses", json={"house_id": house, "kind": "owner"}).status_code == 201
    assert admin.post(f"/api/people/{person}/houses", json={"house_id": elsewhere, "kind": "tenant"}).status_code == 201

    other_grid = login("zhao")
    assert other_grid.get(f"/api/people/{person}/houses").status_code == 403
    assert other_grid.get(f"/records/people/{person}").status_code == 403
    assert (
        other_grid.post(f"/api/houses/{elsewhere}/people", json={"person_id": person, "kind": "resident"}).status_code
        == 403
    )
    other_town = login("li")
    assert other_town.get(f"/api/houses/{house}/people").status_code == 403

    worker = login("wang")
    mine = worker.get(f"/api/people/{person}/houses").json()
    assert [x["house"]["id"] for x in mine["data"]] == [house] and mine["hidden"] == 1
    assert "和平路" not in worker.get(f"/records/people/{person}").text
    across = worker.post(f"/api/people/{person}/houses", json={"house_id": elsewhere, "kind": "resident"})
    assert across.status_code == 403 and "house_id" in fields(across)
    assert worker.post(f"/api/houses/{elsewhere}/people/{person}/end", json={"kind": "tenant"}).status_code == 403


def test_people_and_houses_of_an_organisation(user_with_role, login):
    admin, person, house, elsewhere = setup(user_with_role, login)
    org = made(
        admin.post(
            "/api/organisations",
            json={"area_code": GRID_A1, "name": "民族路便利店", "kind": "individual_business", "uscc": valid_uscc()},
        )
    )["id"]
    worker = login("wang")

    member = made(worker.post(f"/api/organisations/{org}/people", json={"person_id": person, "kind": "party_member"}))
    assert member["person"]["id_number"] == MASKED and member["organisation"]["name"] == "民族路便利店"
    assert [x["kind"] for x in worker.get(f"/api/people/{person}/organisations").json()["data"]] == ["party_member"]
    wrong = worker.post(f"/api/people/{person}/organisations", json={"organisation_id": org, "kind": "owner"})
    assert wrong.status_code == 422 and "kind" in fields(wrong)

    placed = worker.post(f"/api/houses/{house}/organisations", json={"organisation_id": org})
    assert made(placed)["kind"] == "premises" and not placed.json()["held"]
    assert worker.get(f"/api/organisations/{org}").json()["house_id"] == house
    assert [x["house"]["address"] for x in worker.get(f"/api/organisations/{org}/houses").json()["data"]] == [ADDRESS]
    dated = worker.post(f"/api/organisations/{org}/houses", json={"house_id": house, "since": "2020-01-01"})
    assert dated.status_code == 422 and "since" in fields(dated)
    moving = admin.post(f"/api/organisations/{org}/houses", json={"house_id": elsewhere})
    assert moving.status_code == 409 and "house_id" in fields(moving)

    org_page = worker.get(f"/records/organisations/{org}").text
    assert ADDRESS in org_page and "张秀英" in org_page and MASKED in org_page
    assert "民族路便利店" in worker.get(f"/records/houses/{house}").text

    vacated = worker.post(f"/api/organisations/{org}/houses/{house}/end")
    assert vacated.status_code == 200 and not vacated.json()["active"]
    assert worker.get(f"/api/organisations/{org}").json()["house_id"] is None
    assert worker.get(f"/api/houses/{house}/organisations").json()["data"] == []
    assert worker.post(f"/api/organisations/{org}/houses/{house}/end").status_code == 404
    assert any(h["field"] == "house_id" for h in worker.get(f"/api/organisations/{org}/history").json())
