"""The roster through HTTP: the tree, residents, moves, deactivation, scope."""

from __future__ import annotations

from typing import Any

from council.accounts.tables import Role
from council.audit.tables import AuditEntry
from council.community.tables import Node, Resident
from tests.factories import form_post, login, make_community, make_user


async def _as(client: Any, settings: Any, role: Role, node_key: str = "community") -> Any:
    c = await make_community()
    node = c.community if node_key == "community" else c.grids[0]
    await make_user(settings, "op", [(role, node["id"])])
    await login(client, "op")
    client.headers["x-csrftoken"] = client.cookies.get("council_csrf")
    return c


async def test_tree_add_rename_move(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff)
    grid = c.grids[0]["id"]
    made = await client.post("/api/v1/nodes", json={"name": "9栋", "kind": "building", "parent_id": grid})
    assert made.status_code == 201
    building = made.json()
    assert building["path"] == f"{c.grids[0]['path']}{building['id']}/"
    unit = (
        await client.post(
            "/api/v1/nodes", json={"name": "1单元", "kind": "unit", "parent_id": building["id"]}
        )
    ).json()
    wrong_kind = await client.post(
        "/api/v1/nodes", json={"name": "x", "kind": "household", "parent_id": grid}
    )
    assert wrong_kind.status_code == 400
    duplicate = await client.post(
        "/api/v1/nodes", json={"name": "9栋", "kind": "building", "parent_id": grid}
    )
    assert duplicate.status_code == 409
    renamed = await client.patch(f"/api/v1/nodes/{building['id']}", json={"name": "10栋"})
    assert renamed.json()["name"] == "10栋"
    moved = await client.post(f"/api/v1/nodes/{building['id']}/move", json={"parent_id": c.grids[1]["id"]})
    assert moved.status_code == 200
    unit_after = await Node.objects().where(Node.id == unit["id"]).first()
    assert unit_after.path == f"{c.grids[1]['path']}{building['id']}/{unit['id']}/"
    children = (await client.get(f"/api/v1/nodes/{c.grids[1]['id']}/children")).json()
    assert "10栋" in [n["name"] for n in children]


async def test_resident_lifecycle(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff)
    household = c.households[0]["id"]
    made = await client.post(
        "/api/v1/residents",
        json={"code": "R9001", "name": "张桂英", "household_id": household, "phone": "13912345678"},
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    bad_phone = await client.patch(f"/api/v1/residents/{rid}", json={"name": "张桂英", "phone": "12345"})
    assert bad_phone.status_code == 400 and "12345" in bad_phone.json()["detail"]
    dup = await client.post(
        "/api/v1/residents", json={"code": "R9001", "name": "x", "household_id": household}
    )
    assert dup.status_code == 409
    not_household = await client.post(
        "/api/v1/residents", json={"code": "R9002", "name": "x", "household_id": c.units[0]["id"]}
    )
    assert not_household.status_code == 400
    moved = await client.post(f"/api/v1/residents/{rid}/move", json={"household_id": c.households[1]["id"]})
    assert moved.json()["household_id"] == c.households[1]["id"]
    gone = await client.post(f"/api/v1/residents/{rid}/deactivate")
    assert gone.json()["active"] is False
    listed = (await client.get(f"/api/v1/residents?scope={c.community['id']}&limit=200")).json()
    assert rid not in [r["id"] for r in listed["items"]]
    with_inactive = (await client.get(f"/api/v1/residents?scope={c.community['id']}&inactive=true")).json()
    assert rid in [r["id"] for r in with_inactive["items"]]
    assert await Resident.exists().where(Resident.id == rid), "never hard-deleted"
    actions = [
        e["action"]
        for e in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.subject_type == "resident")
        .where(AuditEntry.subject_id == str(rid))
    ]
    assert actions == ["add_resident", "move_resident", "deactivate_resident"]


async def test_search_finds_chinese_names_without_spaces(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff)
    found = (await client.get(f"/api/v1/residents?scope={c.community['id']}&q=1101")).json()
    assert [r["code"] for r in found["items"]] == ["R1101"]
    found = (await client.get(f"/api/v1/residents?scope={c.community['id']}&q=居民2")).json()
    assert sorted(r["code"] for r in found["items"]) == ["R2101", "R2102"]


async def test_scope_limits_a_grid_staff_member(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff, node_key="grid")
    mine = await client.get(f"/api/v1/residents?scope={c.grids[0]['id']}")
    assert mine.status_code == 200 and mine.json()["total"] == 2
    theirs = await client.get(f"/api/v1/residents?scope={c.grids[1]['id']}")
    assert theirs.status_code == 403
    before = await AuditEntry.count()
    add = await client.post(
        "/api/v1/residents", json={"code": "R7", "name": "x", "household_id": c.households[3]["id"]}
    )
    assert add.status_code == 403
    move = await client.post(
        f"/api/v1/residents/{c.residents[0]['id']}/move", json={"household_id": c.households[3]["id"]}
    )
    assert move.status_code == 403
    assert await AuditEntry.count() == before
    # the roster pages open at her grid, and name the community above it without a link
    home = await client.get("/roster")
    assert home.status_code == 303 and home.headers["location"] == f"/roster/nodes/{c.grids[0]['id']}"
    page = await client.get(home.headers["location"])
    assert page.status_code == 200 and "幸福里" in page.text
    assert f'href="/roster/nodes/{c.community["id"]}"' not in page.text
    unit = await client.get(f"/roster/nodes/{c.units[0]['id']}")
    assert f'href="/roster/nodes/{c.grids[0]["id"]}"' in unit.text


async def test_deactivating_a_place_with_residents_is_refused(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff)
    refused = await client.post(f"/api/v1/nodes/{c.buildings[0]['id']}/deactivate")
    assert refused.status_code == 409
    for r in c.residents[:2]:
        await client.post(f"/api/v1/residents/{r['id']}/deactivate")
    done = await client.post(f"/api/v1/nodes/{c.buildings[0]['id']}/deactivate")
    assert done.status_code == 200 and done.json()["active"] is False
    household = await Node.objects().where(Node.id == c.households[0]["id"]).first()
    assert household.active is False


async def test_roster_pages_walk_the_tree(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff)
    home = await client.get("/roster")
    assert home.status_code == 303
    page = await client.get(home.headers["location"])
    assert "网格1" in page.text and "居民1101" in page.text
    household_page = await client.get(f"/roster/nodes/{c.households[0]['id']}")
    assert household_page.status_code == 200
    added = await form_post(
        client,
        "/roster/residents",
        {
            "household_id": c.households[0]["id"],
            "code": "R5555",
            "name": "陈秀兰",
            "phone": "",
            "is_representative": "1",
        },
        page=f"/roster/nodes/{c.households[0]['id']}",
    )
    assert added.status_code == 303
    resident_page = await client.get(added.headers["location"])
    assert "陈秀兰" in resident_page.text and "R5555" in resident_page.text
    bad = await form_post(
        client,
        "/roster/residents",
        {"household_id": c.households[0]["id"], "code": "bad code!", "name": "x"},
        page=f"/roster/nodes/{c.households[0]['id']}",
    )
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]


async def test_over_long_and_unknown_fields_are_refused(client: Any, settings: Any) -> None:
    c = await _as(client, settings, Role.staff)
    before = await AuditEntry.count()
    long_name = await client.post(
        "/api/v1/residents", json={"code": "R1", "name": "名" * 101, "household_id": c.households[0]["id"]}
    )
    assert long_name.status_code == 400
    extra = await client.post(
        "/api/v1/residents",
        json={"code": "R1", "name": "x", "household_id": c.households[0]["id"], "admin": True},
    )
    assert extra.status_code == 400
    assert "admin" in extra.text
    assert await AuditEntry.count() == before
