"""A community with residents who can log in, for the propose step."""

from __future__ import annotations

from typing import Any

from council.accounts import login as accounts_login
from council.accounts import tokens
from council.accounts.tables import Role
from tests.factories import login, make_community, make_user


async def people(settings: Any) -> dict[str, Any]:
    c = await make_community()
    cid = c.community["id"]
    ids = {
        "alice": await make_user(settings, "alice", [(Role.resident, cid)], c.residents[0]["id"]),
        "bob": await make_user(settings, "bob", [(Role.resident, cid)], c.residents[1]["id"]),
        "carol": await make_user(settings, "carol", [(Role.resident, cid)], c.residents[2]["id"]),
        "member": await make_user(settings, "member", [(Role.council_member, cid)], c.residents[3]["id"]),
        "staff": await make_user(settings, "staff", [(Role.staff, cid)]),
    }
    return {"c": c, "ids": ids}


async def as_user(client: Any, username: str) -> None:
    client.cookies.clear()
    client.headers.pop("x-csrftoken", None)
    assert (await login(client, username)).status_code == 303
    client.headers["x-csrftoken"] = client.cookies.get("council_csrf")


async def token_for(user_id: int) -> str:
    principal = await accounts_login.load_principal(user_id)
    assert principal is not None
    _, token = await tokens.create_token(principal, "test")
    return token


async def propose(client: Any, scope_id: int, **extra: Any) -> int:
    body = {
        "title": "楼道灯坏了",
        "description": "3栋2单元楼道灯不亮，晚上老人上下楼很危险。",
        "scope_id": scope_id,
        "category": "repairs",
        **extra,
    }
    response = await client.post("/api/v1/proposals", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
