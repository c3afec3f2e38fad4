"""An election through the HTTP API: people, a ballot, the trustees' ceremony, casting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from council.accounts.tables import Role
from council.ballots import trustee_client
from council.ballots.encrypt import answers_to_json, encrypt_ballot
from council.ballots.group import Point
from council.ballots.record import question_shapes
from tests.factories import make_community, make_user
from tests.proposals.helpers import token_for

YES_NO_ABSTAIN = {"text": "是否同意加装电梯？", "options": ["赞成", "反对", "弃权"], "min": 1, "max": 1}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def election_people(settings: Any, supervisors: int = 3) -> dict[str, Any]:
    c = await make_community()
    cid = c.community["id"]
    users: dict[str, int] = {}
    for k, resident in enumerate(c.residents):
        users[f"voter{k + 1}"] = await make_user(
            settings, f"voter{k + 1}", [(Role.resident, cid)], resident["id"]
        )
    users["host"] = await make_user(settings, "host", [(Role.council_member, cid)])
    for k in range(1, supervisors + 1):
        users[f"sup{k}"] = await make_user(settings, f"sup{k}", [(Role.supervisor, cid)])
    users["outsider"] = await make_user(settings, "outsider", [])
    tokens = {name: await token_for(user_id) for name, user_id in users.items()}
    return {"c": c, "ids": users, "tokens": tokens}


def ballot_body(people: dict[str, Any], **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "title": "加装电梯表决",
        "scope_id": people["c"].community["id"],
        "questions": [YES_NO_ABSTAIN],
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "secrecy": "secret",
        "weight_basis": "household",
        "rule": {"preset": "resident_meeting", "abstain_option": 2},
        "trustee_ids": [people["ids"]["sup1"], people["ids"]["sup2"], people["ids"]["sup3"]],
        "threshold": 2,
    }
    body.update(extra)
    return body


async def create_ballot(client: Any, people: dict[str, Any], **extra: Any) -> int:
    response = await client.post(
        "/api/v1/ballots", json=ballot_body(people, **extra), headers=bearer(people["tokens"]["host"])
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def trustee_state(client: Any, people: dict[str, Any], name: str, ballot_id: int) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/ballots/{ballot_id}/trustee", headers=bearer(people["tokens"][name])
    )
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def keygen(
    client: Any, people: dict[str, Any], ballot_id: int, names: tuple[str, ...] = ("sup1", "sup2", "sup3")
) -> dict[str, trustee_client.TrusteeSecrets]:
    """The whole ceremony as the trustees' CLI runs it: box keys, dealings, checks."""
    assert (
        await client.post(f"/api/v1/ballots/{ballot_id}/setup", headers=bearer(people["tokens"]["host"]))
    ).status_code == 200
    secrets: dict[str, trustee_client.TrusteeSecrets] = {}
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        secrets[name] = trustee_client.new_secrets(ballot_id, state["index"])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/box-key",
            json={"box_key": secrets[name].box_public},
            headers=bearer(people["tokens"][name]),
        )
        assert response.status_code == 200, response.text
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        body = trustee_client.dealing(state, secrets[name])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/dealing", json=body, headers=bearer(people["tokens"][name])
        )
        assert response.status_code == 200, response.text
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        trustee_client.check_shares(state, secrets[name])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/confirm", headers=bearer(people["tokens"][name])
        )
        assert response.status_code == 200, response.text
    return secrets


async def open_ballot(client: Any, people: dict[str, Any], ballot_id: int) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/open", headers=bearer(people["tokens"]["host"])
    )
    assert response.status_code == 200, response.text
    manifest = (await client.get(f"/api/v1/ballots/{ballot_id}/manifest")).json()
    return dict(manifest)


async def alias_of(client: Any, token: str, ballot_id: int) -> str:
    response = await client.get(f"/api/v1/ballots/{ballot_id}/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    own = [e for e in response.json()["entries"] if e["own"]]
    return str(own[0]["alias"])


def encrypt(manifest: dict[str, Any], alias: str, selections: list[list[int]]) -> tuple[list[Any], list[Any]]:
    answers, reveals = encrypt_ballot(
        bytes.fromhex(manifest["fingerprint"]),
        alias,
        question_shapes(manifest["questions"]),
        Point.from_hex(manifest["public_key"]),
        selections,
    )
    return answers_to_json(answers), [r.to_json() for r in reveals]


async def cast(
    client: Any,
    token: str,
    ballot_id: int,
    manifest: dict[str, Any],
    selections: list[list[int]],
    alias: str | None = None,
) -> Any:
    alias = alias or await alias_of(client, token, ballot_id)
    answers, _ = encrypt(manifest, alias, selections)
    body: dict[str, Any] = {"answers": answers}
    if alias is not None:
        body["for_alias"] = alias
    return await client.post(f"/api/v1/ballots/{ballot_id}/ballots", json=body, headers=bearer(token))


async def close_and_tally(
    client: Any,
    people: dict[str, Any],
    ballot_id: int,
    secrets: dict[str, trustee_client.TrusteeSecrets],
    names: tuple[str, ...],
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/close", json={"early": True}, headers=bearer(people["tokens"]["host"])
    )
    assert response.status_code == 200, response.text
    return await decrypt(client, people, ballot_id, secrets, names)


async def decrypt(
    client: Any,
    people: dict[str, Any],
    ballot_id: int,
    secrets: dict[str, trustee_client.TrusteeSecrets],
    names: tuple[str, ...],
) -> dict[str, Any]:
    """The trustees' decryption shares of a closed ballot; returns its summary."""
    for name in names:
        state = await trustee_state(client, people, name, ballot_id)
        body = trustee_client.decryption(state, secrets[name])
        response = await client.post(
            f"/api/v1/ballots/{ballot_id}/trustee/shares", json=body, headers=bearer(people["tokens"][name])
        )
        assert response.status_code == 201, response.text
    summary = (await client.get(f"/api/v1/ballots/{ballot_id}")).json()
    return dict(summary)
