"""People and a hearing for the discuss step, driven through the HTTP API with tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.tables import Role
from tests.factories import make_community, make_user
from tests.proposals.helpers import token_for


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def hearing_people(settings: Any) -> dict[str, Any]:
    c = await make_community()
    cid = c.community["id"]
    ids: dict[str, int] = {}
    for k, resident in enumerate(c.residents):
        ids[f"resident{k + 1}"] = await make_user(
            settings, f"resident{k + 1}", [(Role.resident, cid)], resident["id"]
        )
    ids["host"] = await make_user(settings, "host", [(Role.host, cid), (Role.council_member, cid)])
    ids["secretary"] = await make_user(settings, "secretary", [(Role.secretary, cid)])
    ids["member"] = await make_user(settings, "member", [(Role.council_member, cid)])
    ids["outsider"] = await make_user(settings, "outsider", [])
    tokens = {name: await token_for(user_id) for name, user_id in ids.items()}
    return {"c": c, "ids": ids, "tokens": tokens}


def hearing_body(people: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "doorstep_talk",
        "title": "加装电梯屋场恳谈会",
        "scope_id": people["c"].community["id"],
        "starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "place": "3栋楼下",
        "online": True,
        "host_id": people["ids"]["host"],
        "secretary_id": people["ids"]["secretary"],
        "items": [{"title": "电梯选址", "minutes_budget": 20}, {"title": "费用分摊", "minutes_budget": 20}],
    }
    body.update(extra)
    return body


async def schedule(client: Any, people: dict[str, Any], **extra: Any) -> int:
    response = await client.post(
        "/api/v1/hearings", json=hearing_body(people, **extra), headers=bearer(people["tokens"]["member"])
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def act(
    client: Any, people: dict[str, Any], who: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    return await client.post(
        path, json=body if body is not None else {}, headers=bearer(people["tokens"][who])
    )
