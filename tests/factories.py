"""Building blocks for tests: a small community, users with roles, logging in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from council.accounts import service as accounts
from council.accounts.principal import Grant, Principal
from council.accounts.tables import Role
from council.audit.service import Actor
from council.community import residents as roster_residents
from council.community import service as roster
from council.community.tables import NodeKind

PASSWORD = "correct horse battery"
ROOT = Principal(
    id=0,
    username="test",
    display_name="test",
    locale="",
    resident_id=None,
    grants=(Grant(Role.admin, 0, "/", "*"),),
)


@dataclass
class Community:
    community: dict[str, Any]
    grids: list[dict[str, Any]]
    buildings: list[dict[str, Any]]
    units: list[dict[str, Any]]
    households: list[dict[str, Any]]
    residents: list[dict[str, Any]]


async def make_community() -> Community:
    """幸福里: 2 grids, a building in each, a unit in each, 2 households per unit."""
    community = await roster.add_node(ROOT, name="幸福里", kind=NodeKind.community, parent_id=None)
    grids, buildings, units, households, residents = [], [], [], [], []
    for g in (1, 2):
        grid = await roster.add_node(ROOT, name=f"网格{g}", kind=NodeKind.grid, parent_id=community["id"])
        grids.append(grid)
        building = await roster.add_node(ROOT, name=f"{g}栋", kind=NodeKind.building, parent_id=grid["id"])
        buildings.append(building)
        unit = await roster.add_node(ROOT, name="1单元", kind=NodeKind.unit, parent_id=building["id"])
        units.append(unit)
        for room in ("101", "102"):
            household = await roster.add_node(ROOT, name=room, kind=NodeKind.household, parent_id=unit["id"])
            households.append(household)
            residents.append(
                await roster_residents.add_resident(
                    ROOT,
                    code=f"R{g}{room}",
                    name=f"居民{g}{room}",
                    household_id=household["id"],
                    phone="13800138000",
                    is_representative=True,
                )
            )
    return Community(community, grids, buildings, units, households, residents)


async def make_user(
    settings: Any, username: str, grants: list[tuple[Role, int]], resident_id: int | None = None
) -> int:
    user = await accounts.create_user_with_password(
        settings,
        Actor(None, "test"),
        username=username,
        display_name=username.title(),
        password=PASSWORD,
        grants=grants,
        resident_id=resident_id,
    )
    return int(user.id)


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    page = await client.get("/login")
    token = csrf_from(page.text)
    return await client.post(
        "/login", data={"username": username, "password": password, "_csrf_token": token}
    )


async def form_post(client: Any, path: str, data: dict[str, Any], page: str = "/account") -> Any:
    """Post a form the way a browser does: with the CSRF token of a page it loaded."""
    token = csrf_from((await client.get(page)).text)
    return await client.post(path, data={**data, "_csrf_token": token})
